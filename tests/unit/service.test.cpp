// The export API's logic without HTTP: listen addresses, the [server] table, turning a POST
// body into an export job (and refusing paths outside the export roots, symlinks and ".."
// included), the status JSON, and the rate over polls.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "haul/runtime.hpp"
#include "runtime/export/export_checkpoint.hpp"
#include "runtime/job_file.hpp"
#include "runtime/job_identity.hpp"
#include "runtime/service/export_request.hpp"
#include "runtime/service/export_status.hpp"
#include "runtime/service/server_settings.hpp"
#include "runtime/status_json.hpp"
#include "tests/unit/temp_dir.hpp"
#include "tests/unit/test_util.hpp"

using namespace haul;
using namespace haul::service;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

/// A directory tree: root/ (the export root) with app.db in it, outside.db next to root/,
/// and root/escape.db, a symlink to outside.db.
struct export_tree {
  test::temp_dir dir;
  fs::path root = fs::path(dir.sub("root"));
  fs::path db = root / "app.db";
  fs::path outside = fs::path(dir.sub("outside.db"));
  export_api_settings settings;

  export_tree() {
    fs::create_directories(root / "sub");
    std::ofstream(db) << "x";
    std::ofstream(outside) << "x";
    fs::create_symlink(outside, root / "escape.db");
    fs::create_directory_symlink(dir.path(), root / "up");
    settings.roots.push_back(*canonical_root(root.string()));
    job_spec nightly;
    nightly.name = "nightly";
    nightly.kind = "export";
    nightly.params = {{"source", db.string()}, {"target", "file:///tmp/n.sql"}};
    job_spec tick;
    tick.name = "tick";
    tick.kind = "noop";
    settings.file_jobs = {nightly, tick};
  }

  expected<job_spec> post(const json& body) const {
    return export_job_from_request(body.dump(), settings);
  }

  std::string refused(const json& body, errc code = errc::invalid_argument) const {
    auto r = post(body);
    BOOST_TEST_REQUIRE(!r.has_value(), "accepted: " << body.dump());
    BOOST_TEST((r.error().code == code));
    return r.error().message;
  }

  std::string file_target(const std::string& rel) const { return "file://" + dir.sub(rel); }
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

BOOST_AUTO_TEST_SUITE(service_tests)

BOOST_AUTO_TEST_CASE(listen_addresses_parse_with_clear_errors) {
  BOOST_TEST((*parse_listen("127.0.0.1:8700") == listen_address{"127.0.0.1", 8700}));
  BOOST_TEST((*parse_listen("[::1]:0") == listen_address{"::1", 0}));
  BOOST_TEST((*parse_listen("localhost:80") == listen_address{"localhost", 80}));
  for (const char* bad : {"127.0.0.1", ":80", "::1:80", "host:http", "host:65536", "host:"}) {
    auto r = parse_listen(bad);
    BOOST_TEST_CONTEXT(bad) {
      BOOST_TEST_REQUIRE(!r.has_value());
      BOOST_TEST(contains(r.error().message, std::string("\"") + bad + "\""));
      BOOST_TEST(contains(r.error().message, "expected HOST:PORT"));
    }
  }
}

BOOST_AUTO_TEST_CASE(only_loopback_addresses_count_as_loopback) {
  for (const char* h : {"localhost", "127.0.0.1", "127.1.2.3", "::1"})
    BOOST_TEST(is_loopback(h), h);
  for (const char* h : {"0.0.0.0", "::", "10.0.0.1", "192.168.1.1", "example.com", "128.0.0.1"})
    BOOST_TEST(!is_loopback(h), h);
}

BOOST_AUTO_TEST_CASE(the_server_table_is_read_with_paths_relative_to_the_job_file) {
  auto f = parse_job_file("[server]\nlisten = \"0.0.0.0:9000\"\nexport_roots = [\"data\", "
                          "\"/srv/x\"]\ntoken_env = \"HAUL_TOKEN\"\n[server.s3]\nendpoint = "
                          "\"http://127.0.0.1:9000\"\npath_style = true\n",
                          "/etc/haul/serve.toml");
  BOOST_TEST_REQUIRE(f.has_value(), test::why(f));
  BOOST_TEST_REQUIRE(f->server.has_value());
  BOOST_TEST(f->jobs.empty()); // a file with [server] may hold no job
  BOOST_TEST(f->server->listen == "0.0.0.0:9000");
  BOOST_TEST((f->server->export_roots == std::vector<std::string>{"/etc/haul/data", "/srv/x"}));
  BOOST_TEST(f->server->token_env == "HAUL_TOKEN");
  BOOST_TEST(f->server->s3.at("s3.endpoint") == "http://127.0.0.1:9000");
  BOOST_TEST(f->server->s3.at("s3.path_style") == "true");
}

BOOST_AUTO_TEST_CASE(a_bad_server_table_is_refused_naming_line_and_key) {
  auto f = parse_job_file("[server]\nlisten = \"8700\"\nexport_roots = \"data\"\nport = 1\n",
                          "serve.toml");
  BOOST_TEST_REQUIRE(!f.has_value());
  const auto& m = f.error().message;
  BOOST_TEST(contains(m, "serve.toml:2:10: server.listen: listen address \"8700\": no port"), m);
  BOOST_TEST(contains(m, "serve.toml:3:16: server.export_roots: expected an array"), m);
  BOOST_TEST(contains(m, "serve.toml:4:8: server: unknown key 'port'"), m);
  auto empty_root = parse_job_file("[server]\nexport_roots = [\"\"]\n", "serve.toml");
  BOOST_TEST_REQUIRE(!empty_root.has_value());
  BOOST_TEST(contains(empty_root.error().message, "found an empty string"),
             empty_root.error().message);
}

BOOST_AUTO_TEST_CASE(a_posted_export_inside_the_roots_becomes_an_export_job) {
  export_tree t;
  auto spec = t.post({{"source", t.db.string()},
                      {"target", t.file_target("root/sub/out file.sql")},
                      {"compression", "zstd"}});
  BOOST_TEST_REQUIRE(spec.has_value(), test::why(spec));
  BOOST_TEST(spec->kind == "export");
  BOOST_TEST(spec->params.at("source") == fs::canonical(t.db).string());
  // The checked, canonical path, escaped as a URL.
  auto real = fs::canonical(t.root).string() + "/sub/out%20file.sql";
  BOOST_TEST(spec->params.at("target") == "file://" + real);
  BOOST_TEST(spec->params.at("compression") == "zstd");
  BOOST_TEST(spec->name == api_job_name(spec->params.at("target")));
  BOOST_TEST(spec->name.starts_with("export-"));
  BOOST_TEST(validate_job_name(spec->name).empty());
}

BOOST_AUTO_TEST_CASE(exports_to_the_same_target_share_a_name_others_do_not) {
  BOOST_TEST(api_job_name("s3://b/k") == api_job_name("s3://b/k"));
  BOOST_TEST(api_job_name("s3://b/k") != api_job_name("s3://b/k2"));
}

BOOST_AUTO_TEST_CASE(paths_outside_the_roots_are_refused_after_resolving_links_and_dots) {
  export_tree t;
  auto target = t.file_target("root/out.sql");
  BOOST_TEST(contains(t.refused({{"source", t.outside.string()}, {"target", target}}),
                      "outside the export roots"));
  BOOST_TEST(contains(t.refused({{"source", (t.root / "escape.db").string()}, {"target", target}}),
                      "outside the export roots"));
  BOOST_TEST(
      contains(t.refused({{"source", (t.root / "up/outside.db").string()}, {"target", target}}),
               "outside the export roots"));
  BOOST_TEST(
      contains(t.refused({{"source", t.db.string()}, {"target", t.file_target("root/../out.sql")}}),
               "outside the export roots"));
  BOOST_TEST(
      contains(t.refused({{"source", t.db.string()}, {"target", t.file_target("root/up/out.sql")}}),
               "outside the export roots"));
  // A target that is a symlink out of the root is judged by where it leads.
  BOOST_TEST(
      contains(t.refused({{"source", t.db.string()}, {"target", t.file_target("root/escape.db")}}),
               "outside the export roots"));
  BOOST_TEST(contains(t.refused({{"source", t.db.string()}, {"target", "file://" + t.db.string()}}),
                      "is the source itself"));
  BOOST_TEST(contains(t.refused({{"source", t.db.string()}, {"target", t.file_target("root")}}),
                      "is a directory"));
  BOOST_TEST(contains(
      t.refused({{"source", t.db.string()}, {"target", t.file_target("root/no/dir/x.sql")}}),
      "its directory does not exist"));
  BOOST_TEST(
      contains(t.refused({{"source", "app.db"}, {"target", target}}), "expected an absolute path"));
  BOOST_TEST(contains(t.refused({{"source", t.dir.sub("root/none.db")}, {"target", target}}),
                      "No such file"));
}

BOOST_AUTO_TEST_CASE(malformed_bodies_and_fields_are_refused_with_what_is_wrong) {
  export_tree t;
  auto target = t.file_target("root/out.sql");
  auto raw = export_job_from_request("{\"source\": ", t.settings);
  BOOST_TEST_REQUIRE(!raw.has_value());
  BOOST_TEST(contains(raw.error().message, "malformed JSON: parse error at line 1"),
             raw.error().message);
  BOOST_TEST(contains(t.refused(json::array()), "expected a JSON object, found array"));
  BOOST_TEST(
      contains(t.refused({{"source", t.db.string()}, {"target", target}, {"part_size", "5MiB"}}),
               "unknown field 'part_size'"));
  BOOST_TEST(contains(t.refused({{"source", t.db.string()}, {"target", 1}}),
                      "field 'target': expected a string, found number"));
  BOOST_TEST(contains(t.refused({{"source", t.db.string()}}), "missing field 'target'"));
  BOOST_TEST(
      contains(t.refused({{"source", t.db.string()}, {"target", target}, {"compression", "xz"}}),
               "compression"));
  BOOST_TEST(contains(t.refused({{"source", t.db.string()}, {"target", "s3://bucket/key"}}),
                      "need a [server.s3] table"));
}

BOOST_AUTO_TEST_CASE(without_roots_only_the_files_jobs_can_be_posted) {
  export_tree t;
  t.settings.roots.clear();
  BOOST_TEST(
      contains(t.refused({{"source", t.db.string()}, {"target", t.file_target("root/o.sql")}}),
               "export_roots is empty"));
  auto nightly = t.post({{"job", "nightly"}});
  BOOST_TEST_REQUIRE(nightly.has_value(), test::why(nightly));
  BOOST_TEST(nightly->name == "nightly");
  BOOST_TEST(nightly->params.at("target") == "file:///tmp/n.sql");
  BOOST_TEST(contains(t.refused({{"job", "nope"}}, errc::not_found), "no job named 'nope'"));
  BOOST_TEST(contains(t.refused({{"job", "tick"}}), "of kind 'noop', not an export"));
}

BOOST_AUTO_TEST_CASE(s3_targets_take_the_servers_s3_settings) {
  export_tree t;
  ::setenv("HAUL_UNIT_KEY", "k", 1);
  ::setenv("HAUL_UNIT_SECRET", "s", 1);
  t.settings.s3 = {{"s3.endpoint", "http://127.0.0.1:9000"},
                   {"s3.path_style", "true"},
                   {"s3.access_key_env", "HAUL_UNIT_KEY"},
                   {"s3.secret_key_env", "HAUL_UNIT_SECRET"}};
  auto spec = t.post({{"source", t.db.string()}, {"target", "s3://bucket/dir/dump.sql"}});
  BOOST_TEST_REQUIRE(spec.has_value(), test::why(spec));
  BOOST_TEST(spec->params.at("target") == "s3://bucket/dir/dump.sql");
  BOOST_TEST(spec->params.at("s3.endpoint") == "http://127.0.0.1:9000");
}

BOOST_AUTO_TEST_CASE(the_status_of_a_running_export_comes_from_its_checkpoint) {
  job_status st;
  st.id = "export-abc-def";
  st.name = "export-abc";
  st.kind = "export";
  st.state = job_state::running;
  st.created_ms = 1000;
  st.last_error = "UploadPart 3: 503";
  exporter::export_checkpoint cp;
  cp.parts = {{"e1", 100}, {"e2", 50}};
  cp.text_bytes = 400;
  cp.tables = 5;
  cp.tables_done = 2;
  cp.position.rows = 1234;
  auto out = json::parse(export_status_json(st, cp, 12.5));
  BOOST_TEST(out["state"] == "running");
  BOOST_TEST(out["tables"]["done"] == 2);
  BOOST_TEST(out["tables"]["total"] == 5);
  BOOST_TEST(out["rows"] == 1234);
  BOOST_TEST(out["bytes"] == 150);
  BOOST_TEST(out["dump_bytes"] == 400);
  BOOST_TEST(out["parts"] == 2);
  BOOST_TEST(out["bytes_per_second"] == 12.5);
  BOOST_TEST(out["error"] == "UploadPart 3: 503");
  BOOST_TEST(out["finished_ms"].is_null());
  BOOST_TEST(out["download_url"].is_null());
  // Before its first checkpoint an export knows no table count yet.
  auto fresh = json::parse(export_status_json(st, std::nullopt, 0));
  BOOST_TEST(fresh["tables"]["total"].is_null());
  BOOST_TEST(fresh["rows"] == 0);
}

BOOST_AUTO_TEST_CASE(a_succeeded_export_reports_its_average_rate_and_download) {
  job_status st;
  st.id = "e-1";
  st.state = job_state::succeeded;
  st.created_ms = 1'000;
  st.finished_ms = 3'000;
  st.bytes = 500;
  st.last_error = "an earlier attempt failed";
  exporter::export_checkpoint cp;
  cp.parts = {{"", 500}};
  cp.tables = cp.tables_done = 3;
  cp.complete = true;
  auto out = json::parse(export_status_json(st, cp, 99));
  BOOST_TEST(out["bytes_per_second"] == 250.0);
  BOOST_TEST(out["error"].is_null());
  BOOST_TEST(out["finished_ms"] == 3000);
  BOOST_TEST(out["download_url"] == "/exports/e-1/download");
}

BOOST_AUTO_TEST_CASE(the_rate_is_measured_over_a_sliding_window_of_polls) {
  rate_meter m;
  BOOST_TEST(m.observe("a", 0, 0) == 0.0);
  BOOST_TEST(m.observe("a", 1000, 1'000) == 1000.0);
  BOOST_TEST(m.observe("a", 4000, 2'000) == 2000.0);
  BOOST_TEST(m.observe("b", 10, 2'000) == 0.0); // each export its own
  // Past the window the start moves up to the previous poll: the rate follows the present.
  BOOST_TEST(m.observe("a", 4000, 40'000) == 0.0);
  BOOST_TEST(m.observe("a", 6000, 41'000) == 2000.0);
  // An export that started over (fewer bytes) starts a new window.
  BOOST_TEST(m.observe("a", 100, 42'000) == 0.0);
}

BOOST_AUTO_TEST_CASE(an_export_nobody_asks_about_for_ten_minutes_is_forgotten) {
  rate_meter m;
  m.observe("old", 0, 0);
  m.observe("busy", 0, 0);
  m.observe("busy", 500, 550'000);
  BOOST_TEST(m.tracked() == 2u);
  m.observe("busy", 1000, 600'001); // "old" was last measured over 10 minutes ago
  BOOST_TEST(m.tracked() == 1u);
  BOOST_TEST(m.observe("old", 7, 600'002) == 0.0); // measured afresh
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

haul::job_status progress_of(haul::job_state state) {
  haul::job_status j;
  j.name = "site-cache";
  j.state = state;
  j.tasks.total = 400;
  j.tasks.succeeded = 150;
  j.tasks.failed = 50;
  j.tasks.running = 8;
  j.retries = 12;
  j.bytes = 3 * 1024 * 1024;
  j.tasks_per_second = 20;
  j.bytes_per_second = 512 * 1024;
  j.eta_ms = 10'000;
  j.concurrency = 16;
  return j;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_progress_line_has_the_bar_the_numbers_and_the_state) {
  haul::progress_style style;
  style.name_width = 12;
  style.bar_width = 10;
  style.unicode = false;
  BOOST_TEST(haul::progress_line(progress_of(haul::job_state::running), style) ==
             "site-cache    [#####.....] 200/400  50.0%  3.0 MiB  20/s 512.0 KiB/s  ETA 10s  "
             "retries 12  failed 50  in flight 8/16");
  BOOST_TEST(haul::progress_line(progress_of(haul::job_state::paused), style) ==
             "site-cache    [#####.....] 200/400  50.0%  3.0 MiB  retries 12  failed 50  in "
             "flight 8/16  [paused]");
  auto done = progress_of(haul::job_state::completed_with_failures);
  done.tasks.succeeded = 350;
  BOOST_TEST(haul::progress_line(done, style) ==
             "site-cache    [##########] 400/400 100.0%  3.0 MiB  retries 12  failed 50  "
             "[completed_with_failures]");
}

BOOST_AUTO_TEST_CASE(a_progress_line_is_cut_to_the_terminal_and_its_bar_is_unicode) {
  haul::progress_style style;
  style.name_width = 4; // cuts the name
  style.bar_width = 4;
  style.columns = 30;
  auto line = haul::progress_line(progress_of(haul::job_state::running), style);
  // Two blocks of four: each block character is three bytes but one column.
  BOOST_TEST(line == "site  [\u2588\u2588\u2591\u2591] 200/400  50.0%  3");
  BOOST_TEST(line.size() == 30 + 4 * 2);
}

BOOST_AUTO_TEST_CASE(an_overdue_probe_counts_as_loop_lag) {
  haul::loop_report loop;
  loop.lag_ms = 5;
  BOOST_TEST(loop.lag_at(123'456) == 5); // no probe yet
  loop.last_probe_ms = 10'000;
  BOOST_TEST(loop.lag_at(10'500) == 5);     // the next probe is not due yet
  BOOST_TEST(loop.lag_at(11'003) == 5);     // 3 ms overdue: less than the last lag
  BOOST_TEST(loop.lag_at(17'000) == 6'000); // a supervisor that hangs or quit
}
