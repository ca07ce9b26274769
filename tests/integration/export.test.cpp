// The export kind against real SQLite databases, the real sqlite3 shell and a real s3rver:
// exact round trips with every hard case, compression, S3 multipart output identical to the
// file output, a changed source, and cancellation. Each test runs an embedded runtime.

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "runtime/export/export_checkpoint.hpp"
#include "runtime_fixture.hpp"
#include "sqlite_fixture.hpp"
#include "test_servers.hpp"

namespace fs = std::filesystem;
using namespace haul::test;
using namespace std::chrono_literals;

namespace {

haul::job_spec export_job(const std::string& name, const fs::path& db, const std::string& target,
                          const std::string& codec = "none") {
  haul::job_spec s;
  s.name = name;
  s.kind = "export";
  s.tasks = 1;
  s.params = {{"source", db.string()}, {"target", target}, {"part_size", "5MiB"}};
  if (codec != "none") {
    s.params["compression"] = codec;
    s.params["compression_level"] = "1";
  }
  return s;
}

haul::job_spec s3_export_job(const std::string& name, const fs::path& db, const std::string& key,
                             const test_server& s3) {
  ::setenv("HAUL_TEST_KEY", "S3RVER", 1); // the only access key s3rver accepts
  ::setenv("HAUL_TEST_SECRET", "S3RVER", 1);
  auto spec = export_job(name, db, "s3://haul-test/" + key);
  spec.params["s3.endpoint"] = s3.base_url();
  spec.params["s3.path_style"] = "true";
  spec.params["s3.access_key_env"] = "HAUL_TEST_KEY";
  spec.params["s3.secret_key_env"] = "HAUL_TEST_SECRET";
  return spec;
}

std::string file_url(const fs::path& p) {
  return "file://" + p.string();
}

/// Runs the export to the end and checks it succeeded.
void export_or_fail(haul::runtime& rt, haul::job_spec spec) {
  auto st = wait_for(rt, submit_or_fail(rt, std::move(spec)));
  BOOST_REQUIRE_MESSAGE(st.state == haul::job_state::succeeded, st.last_error);
}

void check_restores(const std::string& dump, const fs::path& original, const fs::path& work) {
  auto sql = work / "restore.sql";
  auto db = work / "restored.db";
  fs::remove(db);
  { std::ofstream(sql, std::ios::binary) << dump; }
  auto err = restore_with_shell(sql, db);
  BOOST_REQUIRE_MESSAGE(err.empty(), "sqlite3 could not restore the dump: " << err);
  BOOST_TEST((content_of(db) == content_of(original)), "restored content differs");
}

} // namespace

BOOST_AUTO_TEST_SUITE(export_kind)

BOOST_AUTO_TEST_CASE(a_file_export_restores_every_hard_case_exactly) {
  temp_dir dir;
  fs::path db = dir.sub("app.db");
  make_hard_case_db(db, 2000);
  auto rt = open_or_fail(options_for(dir));
  fs::path out = dir.sub("dump.sql");
  export_or_fail(rt, export_job("hard", db, file_url(out)));
  BOOST_TEST(!fs::exists(out.string() + ".haul-partial"));
  auto dump = read_binary(out);
  BOOST_TEST(dump.starts_with("PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n"));
  BOOST_TEST(dump.ends_with("COMMIT;\n"));
  check_restores(dump, db, dir.path());
}

BOOST_AUTO_TEST_CASE(compressed_exports_are_parts_that_decompress_to_the_plain_dump) {
  temp_dir dir;
  fs::path db = dir.sub("app.db");
  make_hard_case_db(db, 150'000); // about 16 MB of dump: several 5 MiB parts
  auto rt = open_or_fail(options_for(dir));
  export_or_fail(rt, export_job("plain", db, file_url(dir.sub("d.sql"))));
  export_or_fail(rt, export_job("gz", db, file_url(dir.sub("d.sql.gz")), "gzip"));
  export_or_fail(rt, export_job("zst", db, file_url(dir.sub("d.sql.zst")), "zstd"));
  auto plain = read_binary(dir.sub("d.sql"));
  BOOST_TEST(plain.size() > 15u << 20);
  auto gz = read_binary(dir.sub("d.sql.gz"));
  auto zst = read_binary(dir.sub("d.sql.zst"));
  BOOST_TEST((gunzip(gz) == plain));
  BOOST_TEST((unzstd(zst) == plain));
  BOOST_TEST(gz.size() < plain.size());
  BOOST_TEST(zst.size() < plain.size());
  check_restores(plain, db, dir.path());
}

BOOST_AUTO_TEST_CASE(an_s3_export_is_the_same_bytes_as_the_file_export) {
  temp_dir dir;
  fs::path db = dir.sub("app.db");
  make_hard_case_db(db, 120'000);
  auto s3 = test_server::start_s3rver(dir.sub("s3"));
  auto rt = open_or_fail(options_for(dir));
  export_or_fail(rt, export_job("to-file", db, file_url(dir.sub("d.sql"))));
  export_or_fail(rt, s3_export_job("to-s3", db, "backups/app dump.sql", s3));
  auto object = read_binary(fs::path(dir.sub("s3")) / "data" / "haul-test" / "backups" /
                            "app dump.sql._S3rver_object");
  auto file = read_binary(dir.sub("d.sql"));
  BOOST_TEST(object.size() == file.size());
  BOOST_TEST((object == file));
  auto parts = (file.size() + (5u << 20) - 1) / (5u << 20);
  BOOST_TEST(s3.count_requests("POST", "/haul-test/backups/app%20dump.sql?uploads") == 1u);
  BOOST_TEST(s3.count_requests("PUT", "/haul-test/backups/app%20dump.sql?partNumber=") <= parts);
  BOOST_TEST(s3.count_requests("POST", "/haul-test/backups/app%20dump.sql?uploadId=") == 1u);
}

BOOST_AUTO_TEST_CASE(an_unchanged_database_is_not_exported_again_a_changed_one_is) {
  temp_dir dir;
  fs::path db = dir.sub("app.db");
  make_hard_case_db(db, 100);
  auto rt = open_or_fail(options_for(dir));
  fs::path out = dir.sub("d.sql");
  auto first = submit_or_fail(rt, export_job("nightly", db, file_url(out)));
  BOOST_TEST((wait_for(rt, first).state == haul::job_state::succeeded));
  BOOST_TEST(submit_or_fail(rt, export_job("nightly", db, file_url(out))) == first);
  add_bulk_row(db);
  auto second = submit_or_fail(rt, export_job("nightly", db, file_url(out)));
  BOOST_TEST(second != first);
  BOOST_TEST((wait_for(rt, second).state == haul::job_state::succeeded));
  check_restores(read_binary(out), db, dir.path());
}

BOOST_AUTO_TEST_CASE(bad_sources_fail_with_a_clear_error) {
  temp_dir dir;
  auto rt = open_or_fail(options_for(dir));
  auto missing = rt.submit(export_job("missing", dir.sub("nope.db"), file_url(dir.sub("x.sql"))));
  BOOST_REQUIRE(!missing);
  BOOST_TEST(missing.error().message.find("nope.db") != std::string::npos);
  { std::ofstream(dir.sub("text.db")) << "this is not a database, just text\n"; }
  auto spec = export_job("not-db", dir.sub("text.db"), file_url(dir.sub("x.sql")));
  spec.retry = haul::retry_policy{1, 1ms, 2.0, 1ms};
  auto st = wait_for(rt, submit_or_fail(rt, spec));
  BOOST_TEST((st.state == haul::job_state::failed));
  BOOST_TEST(st.last_error.find("not a database") != std::string::npos, st.last_error);
  BOOST_TEST(!fs::exists(dir.sub("x.sql")));
}

BOOST_AUTO_TEST_CASE(cancelling_a_file_export_removes_its_partial_file) {
  temp_dir dir;
  fs::path db = dir.sub("app.db");
  make_hard_case_db(db, 1'500'000); // ~160 MB of dump: it runs long enough to be cancelled
  auto rt = open_or_fail(options_for(dir));
  fs::path out = dir.sub("d.sql");
  auto partial = out.string() + ".haul-partial";
  auto id = submit_or_fail(rt, export_job("big", db, file_url(out)));
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!(fs::exists(partial) && fs::file_size(partial) > 0) &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  BOOST_REQUIRE(fs::exists(partial));
  BOOST_REQUIRE(rt.cancel(id));
  auto st = wait_for(rt, id);
  BOOST_TEST((st.state == haul::job_state::cancelled));
  BOOST_TEST(!fs::exists(partial));
  BOOST_TEST(!fs::exists(out));
}

BOOST_AUTO_TEST_CASE(cancelling_an_export_whose_task_is_not_running_removes_its_partial_file) {
  temp_dir dir;
  fs::path db = dir.sub("app.db");
  make_hard_case_db(db, 1'500'000); // ~160 MB of dump: still running after its first part
  fs::path out = dir.sub("d.sql");
  auto partial = out.string() + ".haul-partial";
  std::string id;
  {
    auto rt = open_or_fail(options_for(dir));
    id = submit_or_fail(rt, export_job("big", db, file_url(out)));
    auto deadline = std::chrono::steady_clock::now() + 60s;
    for (;;) {
      auto cp = rt.task_checkpoint(id, 0);
      auto decoded = cp ? haul::exporter::decode_checkpoint(*cp) : std::nullopt;
      if (decoded && !decoded->parts.empty())
        break;
      BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "no part stored");
      std::this_thread::sleep_for(1ms);
    }
    rt.stop(); // the task stops and keeps its checkpoint; the job stays unfinished
  }
  BOOST_REQUIRE(fs::exists(partial));
  {
    auto rt = open_or_fail(options_for(dir));
    BOOST_REQUIRE(rt.cancel(id)); // never submitted in this process: its task is not running
    auto st = rt.status(id);
    BOOST_REQUIRE(st.has_value());
    BOOST_TEST((st->state == haul::job_state::cancelled));
    rt.stop(); // waits for the kind's discard to end
  }
  BOOST_TEST(!fs::exists(partial));
  BOOST_TEST(!fs::exists(out));
}

BOOST_AUTO_TEST_CASE(cancelling_an_s3_export_aborts_its_multipart_upload) {
  temp_dir dir;
  fs::path db = dir.sub("app.db");
  make_hard_case_db(db, 600'000);
  auto s3 = test_server::start_s3rver(dir.sub("s3"));
  auto rt = open_or_fail(options_for(dir));
  auto id = submit_or_fail(rt, s3_export_job("big-s3", db, "big.sql", s3));
  BOOST_REQUIRE(s3.wait_for_requests("PUT", "/haul-test/big.sql?partNumber=", 0, 1, 30s) >= 1);
  BOOST_REQUIRE(rt.cancel(id));
  auto st = wait_for(rt, id);
  BOOST_TEST((st.state == haul::job_state::cancelled));
  BOOST_TEST(s3.wait_for_requests("DELETE", "/haul-test/big.sql?uploadId=", 0, 1) == 1u);
  BOOST_TEST(s3.count_requests("POST", "/haul-test/big.sql?uploadId=") == 0u);
  BOOST_TEST(
      !fs::exists(fs::path(dir.sub("s3")) / "data" / "haul-test" / "big.sql._S3rver_object"));
}

BOOST_AUTO_TEST_SUITE_END()
