// The export kind's promise under SIGKILL: a real `haul run` child process exports a real
// SQLite database, is killed at random moments, and is run again to the end. The output
// must be byte-identical to an export that was never interrupted; an S3 export must finish
// the multipart upload it started; and a database changed between kill and resume must give
// a dump of the new content, never a mix.

#define BOOST_TEST_MODULE haul_export_crash
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <signal.h>
#include <sys/wait.h>
#include <thread>

#include "../unit/temp_dir.hpp"
#include "haul_process.hpp"
#include "sqlite_fixture.hpp"
#include "test_servers.hpp"

namespace fs = std::filesystem;
using namespace haul::test;

namespace {

constexpr std::uint64_t part = 5u << 20;

std::uint64_t size_or_zero(const fs::path& p) {
  std::error_code ec;
  auto n = fs::file_size(p, ec);
  return ec ? 0 : n;
}

/// A job file exporting `db` to `target` with 5 MiB parts; `extra` adds keys to the job.
std::string write_jobs(const temp_dir& dir, const std::string& name, const fs::path& db,
                       const std::string& target, const std::string& extra = {}) {
  auto path = dir.sub(name + ".toml");
  std::ofstream(path) << "[runtime]\nstore = \"" << dir.sub(name + "-store")
                      << "\"\nreport_interval = \"1h\"\n[[job]]\nname = \"" << name
                      << "\"\nkind = \"export\"\nsource = \"" << db.string() << "\"\ntarget = \""
                      << target << "\"\npart_size = \"5MiB\"\n"
                      << extra;
  return path;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_killed_compressed_file_export_resumes_to_the_same_bytes) {
  temp_dir dir;
  fs::path db = dir.sub("app.db");
  make_hard_case_db(db, 900'000); // ~100 MB of dump, ~8 parts of zstd
  const std::string zstd = "compression = \"zstd\"\ncompression_level = 1\n";
  fs::path reference = dir.sub("reference.sql.zst");
  run_to_the_end(write_jobs(dir, "reference", db, "file://" + reference.string(), zstd),
                 dir.sub("reference.log"));
  auto expected = read_binary(reference);
  BOOST_REQUIRE(expected.size() > 4 * part);

  fs::path out = dir.sub("killed.sql.zst");
  auto jobs = write_jobs(dir, "killed", db, "file://" + out.string(), zstd);
  fs::path partial = out.string() + ".haul-partial";
  auto seed = std::random_device{}();
  BOOST_TEST_MESSAGE("seed " << seed);
  std::mt19937 rng(seed);
  int killed = 0;
  for (int k = 0; k < 3; ++k) {
    auto target = size_or_zero(partial) +
                  std::uniform_int_distribution<std::uint64_t>(1, expected.size() / 5)(rng);
    if (!kill_at(
            start_haul(jobs, dir.sub("killed.log")), [&] { return size_or_zero(partial); }, target))
      break;
    ++killed;
  }
  BOOST_TEST(killed >= 2);
  run_to_the_end(jobs, dir.sub("killed.log"));
  auto got = read_binary(out);
  BOOST_TEST(got.size() == expected.size());
  BOOST_TEST((got == expected), "the resumed export differs from the uninterrupted one");
  BOOST_TEST(!fs::exists(partial));
  BOOST_TEST(read_text(dir.sub("killed.log")).find("restarts from the beginning") ==
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_partial_file_cut_short_after_a_kill_is_exported_again_from_the_start) {
  // Parts its checkpoint records are gone (a disk that lost data, a hand that cut the
  // file): the export cannot continue the file, so it starts over, in the same run.
  temp_dir dir;
  fs::path db = dir.sub("app.db");
  make_hard_case_db(db, 300'000); // ~35 MB of dump: 7 parts
  fs::path reference = dir.sub("reference.sql");
  run_to_the_end(write_jobs(dir, "reference", db, "file://" + reference.string()),
                 dir.sub("reference.log"));
  auto expected = read_binary(reference);

  fs::path out = dir.sub("cut.sql");
  auto jobs = write_jobs(dir, "cut", db, "file://" + out.string());
  fs::path partial = out.string() + ".haul-partial";
  // Three parts on disk, so the checkpoint records at least two.
  BOOST_REQUIRE(kill_at(
      start_haul(jobs, dir.sub("cut.log")), [&] { return size_or_zero(partial); }, 3 * part));
  fs::resize_file(partial, part / 2);
  run_to_the_end(jobs, dir.sub("cut.log"));
  BOOST_TEST((read_binary(out) == expected), "the restarted export differs");
  auto log = read_text(dir.sub("cut.log"));
  BOOST_TEST(log.find("export restarts from the beginning") != std::string::npos, log);
  BOOST_TEST(log.find("is shorter than the") != std::string::npos, log);
}

BOOST_AUTO_TEST_CASE(a_killed_s3_export_finishes_the_multipart_upload_it_started) {
  temp_dir dir;
  fs::path db = dir.sub("app.db");
  make_hard_case_db(db, 450'000);         // ~50 MB of dump: ~10 parts
  ::setenv("HAUL_TEST_KEY", "S3RVER", 1); // the only access key s3rver accepts; haul inherits it
  ::setenv("HAUL_TEST_SECRET", "S3RVER", 1);
  fs::path reference = dir.sub("reference.sql");
  run_to_the_end(write_jobs(dir, "reference", db, "file://" + reference.string()),
                 dir.sub("reference.log"));
  auto expected = read_binary(reference);
  auto parts = (expected.size() + part - 1) / part;

  auto s3 = test_server::start_s3rver(dir.sub("s3"));
  auto jobs = write_jobs(dir, "s3", db, "s3://haul-test/app.sql",
                         "[job.s3]\nendpoint = \"" + s3.base_url() +
                             "\"\npath_style = true\naccess_key_env = \"HAUL_TEST_KEY\"\n"
                             "secret_key_env = \"HAUL_TEST_SECRET\"\n");
  auto sent = [&] {
    return static_cast<std::uint64_t>(s3.count_requests("PUT", "/haul-test/app.sql?", 200));
  };
  int killed = 0;
  for (std::uint64_t at : {2u, 5u}) {
    if (!kill_at(start_haul(jobs, dir.sub("s3.log")), sent, at))
      break;
    ++killed;
  }
  BOOST_TEST(killed == 2);
  run_to_the_end(jobs, dir.sub("s3.log"));
  auto object =
      read_binary(fs::path(dir.sub("s3")) / "data" / "haul-test" / "app.sql._S3rver_object");
  BOOST_TEST(object.size() == expected.size());
  BOOST_TEST((object == expected), "the resumed S3 export differs from the file export");
  BOOST_TEST(s3.count_requests("POST", "/haul-test/app.sql?uploads") == 1u);
  BOOST_TEST(s3.wait_for_requests("POST", "/haul-test/app.sql?uploadId=", 0, 1) == 1u);
  // A part whose upload was under way, or done but not yet recorded, at a kill is sent again.
  auto puts = s3.count_requests("PUT", "/haul-test/app.sql?");
  BOOST_TEST_MESSAGE(puts << " part uploads for " << parts << " parts after " << killed
                          << " kills");
  BOOST_TEST(puts <= parts + 2 * static_cast<std::uint64_t>(killed));
}

BOOST_AUTO_TEST_CASE(a_source_changed_between_kill_and_resume_gives_a_dump_of_the_new_content) {
  temp_dir dir;
  fs::path db = dir.sub("app.db");
  make_hard_case_db(db, 450'000);
  fs::path out = dir.sub("app.sql");
  auto jobs = write_jobs(dir, "changing", db, "file://" + out.string());
  fs::path partial = out.string() + ".haul-partial";
  BOOST_REQUIRE(kill_at(
      start_haul(jobs, dir.sub("changing.log")), [&] { return size_or_zero(partial); }, 2 * part));
  add_bulk_row(db); // lands in the last table's rows: a mixed dump would miss it
  run_to_the_end(jobs, dir.sub("changing.log"));
  auto restored = dir.sub("restored.db");
  auto err = restore_with_shell(out, restored);
  BOOST_REQUIRE_MESSAGE(err.empty(), err);
  BOOST_TEST((content_of(restored) == content_of(db)), "the dump is not of the changed database");
  BOOST_TEST(read_text(dir.sub("changing.log")).find("job input changed") != std::string::npos);
}
