// `haul serve` as a user runs it: a real child process with its job file, talked to over
// HTTP. The export API's answers (status codes and error bodies), a POSTed export that runs in
// the background and downloads byte for byte from a file or from s3rver, a named job of the
// file, cancel, the bearer token off loopback, health, and an accepted export that survives
// a SIGKILL of the server.

#define BOOST_TEST_MODULE haul_serve
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/wait.h>

#include "../unit/temp_dir.hpp"
#include "haul_process.hpp"
#include "sqlite_fixture.hpp"
#include "test_servers.hpp"

namespace fs = std::filesystem;
using namespace haul::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

/// A `haul serve` child on a port it picks itself (--listen HOST:0), found in its log.
class serve_process {
 public:
  serve_process(const temp_dir& dir, const std::string& job_file,
                const std::string& listen = "127.0.0.1:0")
      : log_(dir.sub("serve-" + std::to_string(++count_) + ".log")) {
    pid_ = start_haul_with({"serve", job_file, "--listen", listen}, log_);
    static const std::regex listening(R"(listening on http://[^ ]+:(\d+)\n)");
    auto deadline = std::chrono::steady_clock::now() + 30s;
    for (;;) {
      std::smatch m;
      auto text = read_text(log_);
      if (std::regex_search(text, m, listening)) {
        port_ = std::stoi(m[1]);
        break;
      }
      int status = 0;
      BOOST_REQUIRE_MESSAGE(::waitpid(pid_, &status, WNOHANG) == 0,
                            "haul serve exited before listening:\n"
                                << text);
      BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline,
                            "haul serve did not listen within 30 s:\n"
                                << text);
      std::this_thread::sleep_for(5ms);
    }
  }
  serve_process(const serve_process&) = delete;
  serve_process& operator=(const serve_process&) = delete;
  ~serve_process() {
    if (pid_ > 0)
      (void)stop();
  }

  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(60s);
    return c;
  }

  /// SIGTERM; returns the exit code.
  int stop() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  /// Sends a signal and leaves the process to it: wait() collects the exit code.
  void signal(int sig) const { ::kill(pid_, sig); }

  int wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  void kill() {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = 0;
  }

  std::string log() const { return read_text(log_); }
  int port() const { return port_; }

 private:
  static inline int count_ = 0;
  std::string log_;
  pid_t pid_ = 0;
  int port_ = 0;
};

struct answer {
  int status = 0;
  json body;
  std::string raw;
  httplib::Headers headers;
};

answer to_answer(const httplib::Result& r, const serve_process& s, const std::string& path) {
  BOOST_REQUIRE_MESSAGE(r, path << ": no HTTP answer: " << httplib::to_string(r.error())
                                << " errno " << std::strerror(errno) << "\nserver log:\n"
                                << s.log());
  answer a{r->status, json(), r->body, r->headers};
  a.body = json::parse(r->body, nullptr, false);
  return a;
}

answer get(const serve_process& s, const std::string& path, const httplib::Headers& h = {}) {
  auto c = s.client();
  return to_answer(c.Get(path, h), s, path);
}

answer post(const serve_process& s, const std::string& path, const std::string& body,
            const httplib::Headers& h = {}) {
  auto c = s.client();
  return to_answer(c.Post(path, h, body, "application/json"), s, path + " " + body);
}

/// The error an answer carries; requires the JSON error shape.
std::string error_of(const answer& a) {
  BOOST_REQUIRE_MESSAGE(a.body.is_object() && a.body.contains("error") &&
                            a.body["error"].is_string(),
                        "not an error body: " << a.raw);
  return a.body["error"].get<std::string>();
}

void expect_error(const answer& a, int status, const std::string& part) {
  BOOST_TEST(a.status == status, a.raw);
  BOOST_TEST(error_of(a).find(part) != std::string::npos, error_of(a));
}

/// Polls GET /exports/ID until the export's state is not `pending` or `running`.
json wait_finished(const serve_process& s, const std::string& id) {
  auto deadline = std::chrono::steady_clock::now() + 120s;
  for (;;) {
    auto a = get(s, "/exports/" + id);
    BOOST_REQUIRE_MESSAGE(a.status == 200, a.raw);
    auto state = a.body["state"].get<std::string>();
    if (state != "pending" && state != "running")
      return a.body;
    BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "still " << a.raw);
    std::this_thread::sleep_for(20ms);
  }
}

/// One sample of a Prometheus text exposition.
struct metric_sample {
  std::string name;
  std::map<std::string, std::string> labels; ///< Unescaped values.
  double value = 0;
};

/// Parses the text exposition format (0.0.4) strictly, failing the test at the first line
/// that breaks it: HELP and TYPE once per family and before its samples, a family's samples
/// together, metric and label names of [a-zA-Z_:][a-zA-Z0-9_:]*, label values quoted with
/// only \\, \" and \n escaped, a value a number, no series twice.
std::vector<metric_sample> parse_exposition(const std::string& text) {
  static const std::regex name_re(R"([a-zA-Z_:][a-zA-Z0-9_:]*)");
  std::vector<metric_sample> out;
  std::set<std::string> helped, typed, sampled, series;
  std::string last; // the family of the latest sample
  std::istringstream lines(text);
  int n = 0;
  for (std::string line; std::getline(lines, line);) {
    ++n;
    auto where = "line " + std::to_string(n) + ": " + line;
    BOOST_REQUIRE_MESSAGE(!line.empty(), "empty " << where);
    if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
      auto rest = line.substr(7);
      auto name = rest.substr(0, rest.find(' '));
      BOOST_REQUIRE_MESSAGE(std::regex_match(name, name_re), where);
      BOOST_REQUIRE_MESSAGE(sampled.count(name) == 0, "metadata after samples, " << where);
      auto& seen = line[2] == 'H' ? helped : typed;
      BOOST_REQUIRE_MESSAGE(seen.insert(name).second, "repeated metadata, " << where);
      if (line[2] == 'T') {
        auto type = rest.substr(name.size() + 1);
        BOOST_REQUIRE_MESSAGE(type == "gauge" || type == "counter", "type, " << where);
      }
      continue;
    }
    BOOST_REQUIRE_MESSAGE(line[0] != '#', "unknown comment, " << where);
    metric_sample m;
    std::size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ')
      ++i;
    m.name = line.substr(0, i);
    BOOST_REQUIRE_MESSAGE(std::regex_match(m.name, name_re), "metric name, " << where);
    BOOST_REQUIRE_MESSAGE(typed.count(m.name) && helped.count(m.name),
                          "a sample without HELP and TYPE, " << where);
    // A family's samples come together: once another family's began, it is closed.
    BOOST_REQUIRE_MESSAGE(m.name == last || sampled.insert(m.name).second,
                          "a family's samples apart, " << where);
    last = m.name;
    std::string labels_text;
    if (i < line.size() && line[i] == '{') {
      auto start = i;
      ++i;
      while (i < line.size() && line[i] != '}') {
        auto eq = line.find('=', i);
        BOOST_REQUIRE_MESSAGE(eq != std::string::npos && line[eq + 1] == '"', "label, " << where);
        auto label = line.substr(i, eq - i);
        BOOST_REQUIRE_MESSAGE(std::regex_match(label, name_re), "label name, " << where);
        std::string value;
        for (i = eq + 2; i < line.size() && line[i] != '"'; ++i) {
          if (line[i] == '\\') {
            ++i;
            BOOST_REQUIRE_MESSAGE(i < line.size() &&
                                      (line[i] == '\\' || line[i] == '"' || line[i] == 'n'),
                                  "escape, " << where);
            value += line[i] == 'n' ? '\n' : line[i];
          } else {
            value += line[i];
          }
        }
        BOOST_REQUIRE_MESSAGE(i < line.size(), "unterminated label value, " << where);
        BOOST_REQUIRE_MESSAGE(m.labels.emplace(label, value).second, "label twice, " << where);
        ++i; // past the closing quote
        if (i < line.size() && line[i] == ',')
          ++i;
      }
      BOOST_REQUIRE_MESSAGE(i < line.size(), "unterminated labels, " << where);
      ++i;
      labels_text = line.substr(start, i - start);
    }
    BOOST_REQUIRE_MESSAGE(i < line.size() && line[i] == ' ', "no value, " << where);
    auto value = line.substr(i + 1);
    std::size_t used = 0;
    try {
      m.value = std::stod(value, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    BOOST_REQUIRE_MESSAGE(used == value.size() && !value.empty(), "value, " << where);
    BOOST_REQUIRE_MESSAGE(series.insert(m.name + labels_text).second, "series twice, " << where);
    out.push_back(std::move(m));
  }
  return out;
}

/// The value of the one sample of `name` whose labels include `labels`; fails the test
/// when there is none or more than one.
double metric(const std::vector<metric_sample>& samples, const std::string& name,
              const std::map<std::string, std::string>& labels = {}) {
  const metric_sample* found = nullptr;
  for (const auto& m : samples) {
    if (m.name != name)
      continue;
    bool match = std::all_of(labels.begin(), labels.end(), [&](const auto& l) {
      auto it = m.labels.find(l.first);
      return it != m.labels.end() && it->second == l.second;
    });
    if (!match)
      continue;
    BOOST_REQUIRE_MESSAGE(found == nullptr, "more than one " << name);
    found = &m;
  }
  BOOST_REQUIRE_MESSAGE(found != nullptr, "no sample " << name);
  return found->value;
}

/// The keys of a JSON object, to compare an answer's shape with the documented one.
std::set<std::string> keys_of(const json& object) {
  std::set<std::string> out;
  for (const auto& [k, v] : object.items())
    out.insert(k);
  return out;
}

/// POSTs an export and requires 202 {"id", "status_url"}; returns the id.
std::string start_export(const serve_process& s, const json& body) {
  auto a = post(s, "/exports", body.dump());
  BOOST_REQUIRE_MESSAGE(a.status == 202, a.raw);
  auto id = a.body["id"].get<std::string>();
  BOOST_TEST(a.body["status_url"] == "/exports/" + id);
  return id;
}

void check_restores(const std::string& dump, const fs::path& original, const temp_dir& dir) {
  auto sql = dir.sub("restore.sql");
  auto db = dir.sub("restored.db");
  fs::remove(db);
  { std::ofstream(sql, std::ios::binary) << dump; }
  auto err = restore_with_shell(sql, db);
  BOOST_REQUIRE_MESSAGE(err.empty(), "sqlite3 could not restore the dump: " << err);
  BOOST_TEST((content_of(db) == content_of(original)), "restored content differs");
}

/// A job file with a [server] table whose export root is dir/exports; `extra` is appended.
std::string write_serve_file(const temp_dir& dir, const std::string& extra = {}) {
  fs::create_directories(dir.sub("exports"));
  auto path = dir.sub("serve.toml");
  std::ofstream(path) << "[runtime]\nstore = \"" << dir.sub("store")
                      << "\"\nreport_interval = \"1h\"\nshutdown_grace = \"2s\"\n"
                         "[server]\nexport_roots = [\"exports\"]\n"
                      << extra;
  return path;
}

std::string s3_table(const test_server& s3) {
  ::setenv("HAUL_TEST_KEY", "S3RVER", 1); // the only access key s3rver accepts
  ::setenv("HAUL_TEST_SECRET", "S3RVER", 1);
  return "[server.s3]\nendpoint = \"" + s3.base_url() +
         "\"\npath_style = true\naccess_key_env = \"HAUL_TEST_KEY\"\n"
         "secret_key_env = \"HAUL_TEST_SECRET\"\n";
}

} // namespace

BOOST_AUTO_TEST_CASE(bad_requests_get_a_status_and_a_message_naming_the_problem) {
  temp_dir dir;
  fs::path db = dir.sub("exports/app.db");
  fs::create_directories(dir.sub("exports"));
  make_hard_case_db(db, 10);
  fs::path outside = dir.sub("outside.db");
  make_hard_case_db(outside, 10);
  fs::create_symlink(outside, dir.sub("exports/link.db"));
  auto file = write_serve_file(dir, "[[job]]\nname = \"tick\"\nkind = \"noop\"\ntasks = 1\n");
  serve_process s(dir, file);

  // A browser page of another site: through DNS rebinding (its name as Host), or a
  // cross-site POST. Loopback names, and POSTs without an Origin or from this origin, pass.
  expect_error(get(s, "/jobs", {{"Host", "evil.example:8700"}}), 403, "not a loopback name");
  BOOST_TEST(get(s, "/jobs", {{"Host", "localhost"}}).status == 200);
  BOOST_TEST(get(s, "/jobs", {{"Host", "[::1]:1"}}).status == 200);
  expect_error(post(s, "/jobs/tick/pause", "", {{"Origin", "http://evil.example"}}), 403,
               "evil.example");
  auto own = "http://127.0.0.1:" + std::to_string(s.port());
  BOOST_TEST(post(s, "/jobs/nope/pause", "", {{"Origin", own}}).status == 404); // let through
  // The same page behind a TLS-terminating proxy, and a host name in other case.
  auto via_tls = "https://LOCALHOST:" + std::to_string(s.port());
  BOOST_TEST(post(s, "/jobs/nope/pause", "",
                  {{"Origin", via_tls}, {"Host", "localhost:" + std::to_string(s.port())}})
                 .status == 404);
  expect_error(post(s, "/jobs/tick/pause", "", {{"Origin", "https://127.0.0.1:1"}}), 403,
               "127.0.0.1:1");
  auto target = "file://" + dir.sub("exports/out.sql");

  expect_error(post(s, "/exports", "{\"source\": "), 400, "malformed JSON");
  expect_error(post(s, "/exports", "[1, 2]"), 400, "expected a JSON object");
  expect_error(
      post(s, "/exports", json{{"source", db.string()}, {"target", target}, {"level", "9"}}.dump()),
      400, "unknown field 'level'");
  expect_error(post(s, "/exports", json{{"source", 5}, {"target", target}}.dump()), 400,
               "field 'source': expected a string");
  expect_error(post(s, "/exports", json{{"target", target}}.dump()), 400, "missing field 'source'");
  expect_error(post(s, "/exports", json{{"source", outside.string()}, {"target", target}}.dump()),
               400, "outside the export roots");
  // A symlink inside the root that leads out of it is judged by where it leads.
  expect_error(
      post(s, "/exports", json{{"source", dir.sub("exports/link.db")}, {"target", target}}.dump()),
      400, "outside the export roots");
  expect_error(
      post(s, "/exports",
           json{{"source", db.string()}, {"target", "file://" + dir.sub("exports/../x.sql")}}
               .dump()),
      400, "outside the export roots");
  expect_error(post(s, "/exports", json{{"source", db.string()}, {"target", "ftp://x/y"}}.dump()),
               400, "target");
  expect_error(
      post(s, "/exports",
           json{{"source", db.string()}, {"target", target}, {"compression", "lz4"}}.dump()),
      400, "compression");
  expect_error(post(s, "/exports", json{{"source", db.string()}, {"target", "s3://b/k"}}.dump()),
               400, "[server.s3]");
  expect_error(post(s, "/exports", json{{"job", "nope"}}.dump()), 404, "no job named 'nope'");
  expect_error(post(s, "/exports", json{{"job", "tick"}}.dump()), 400, "not an export");
  expect_error(post(s, "/exports", json{{"job", "tick"}, {"source", db.string()}}.dump()), 400,
               "takes no other field");
  BOOST_TEST(!fs::exists(dir.sub("exports/out.sql"))); // nothing was started

  expect_error(get(s, "/exports/nope-000000000000"), 404, "no job nope-000000000000");
  expect_error(get(s, "/exports/nope-000000000000/download"), 404, "no job");
  expect_error(post(s, "/jobs/nope-000000000000/cancel", ""), 404, "no job");
  expect_error(get(s, "/no/such/endpoint"), 404, "no endpoint GET /no/such/endpoint");
  // The noop job of the file runs too, but it is no export.
  std::string tick_id;
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (tick_id.empty() && std::chrono::steady_clock::now() < deadline) {
    std::smatch m;
    auto text = s.log();
    if (std::regex_search(text, m, std::regex(R"(job=(tick-[0-9a-f]+))")))
      tick_id = m[1];
    std::this_thread::sleep_for(5ms);
  }
  BOOST_REQUIRE(!tick_id.empty());
  expect_error(get(s, "/exports/" + tick_id), 404, "not an export");
}

BOOST_AUTO_TEST_CASE(a_posted_file_export_runs_in_the_background_and_downloads_exactly) {
  temp_dir dir;
  fs::create_directories(dir.sub("exports"));
  fs::path db = dir.sub("exports/app.db");
  make_hard_case_db(db, 20'000);
  serve_process s(dir, write_serve_file(dir));
  auto health = get(s, "/health");
  BOOST_TEST(health.status == 200);
  BOOST_TEST(health.body["status"] == "ok");
  BOOST_TEST(health.body["recovery"]["generation"].get<int>() >= 1);
  BOOST_TEST(health.body["loop_lag_ms"].get<std::int64_t>() >= 0);
  BOOST_TEST(health.body["loop_lag_ms"].get<std::int64_t>() < 5'000);

  json request{{"source", db.string()},
               {"target", "file://" + dir.sub("exports/out.sql.gz")},
               {"compression", "gzip"}};
  auto id = start_export(s, request);
  // Asking again for the same export gives the same job, started once.
  auto again = post(s, "/exports", request.dump());
  BOOST_TEST(again.status == 202);
  BOOST_TEST(again.body["id"] == id);

  auto st = wait_finished(s, id);
  BOOST_REQUIRE_MESSAGE(st["state"] == "succeeded", st.dump());
  auto out = read_binary(dir.sub("exports/out.sql.gz"));
  BOOST_TEST(st["bytes"].get<std::uint64_t>() == out.size());
  BOOST_TEST(st["tables"]["done"] == st["tables"]["total"]);
  BOOST_TEST(st["tables"]["total"].get<int>() >= 4);
  BOOST_TEST(st["rows"].get<std::uint64_t>() > 20'000u);
  BOOST_TEST(st["parts"].get<int>() >= 1);
  BOOST_TEST(st["progress"] == 1.0);
  BOOST_TEST(st["eta_ms"] == -1);
  // A WITHOUT ROWID table among the hard cases: no cheap estimate of the rows.
  BOOST_TEST(st["rows_estimate"].is_null());
  BOOST_TEST(st["error"].is_null());
  BOOST_TEST(st["download_url"] == "/exports/" + id + "/download");

  // The export's job turned the supervisor's loop, which health reports.
  BOOST_TEST(get(s, "/health").body["last_turn_ms"].get<std::int64_t>() >= st["created_ms"]);
  auto dl = get(s, "/exports/" + id + "/download");
  BOOST_TEST(dl.status == 200);
  BOOST_TEST(dl.headers.find("Content-Type")->second == "application/gzip");
  BOOST_TEST((dl.raw == out), "the download differs from the file");
  check_restores(gunzip(dl.raw), db, dir);
  // A Range request gets the slice asked for.
  auto part = get(s, "/exports/" + id + "/download", {{"Range", "bytes=100-199"}});
  BOOST_TEST(part.status == 206);
  BOOST_TEST((part.raw == out.substr(100, 100)));
  // A finished export is not cancelled by a late cancel.
  auto cancel = post(s, "/jobs/" + id + "/cancel", "");
  BOOST_TEST(cancel.status == 200);
  BOOST_TEST(cancel.body["state"] == "succeeded");
}

BOOST_AUTO_TEST_CASE(an_s3_export_downloads_from_the_bucket) {
  temp_dir dir;
  fs::create_directories(dir.sub("exports"));
  fs::path db = dir.sub("exports/app.db");
  make_hard_case_db(db, 80'000); // two parts of 5 MiB and a bit
  auto s3 = test_server::start_s3rver(dir.sub("s3"));
  serve_process s(dir, write_serve_file(dir, s3_table(s3)));
  auto id =
      start_export(s, json{{"source", db.string()}, {"target", "s3://haul-test/app/dump.sql"}});
  auto st = wait_finished(s, id);
  BOOST_REQUIRE_MESSAGE(st["state"] == "succeeded", st.dump());
  auto stored =
      read_binary(fs::path(dir.sub("s3")) / "data" / "haul-test" / "app/dump.sql._S3rver_object");
  BOOST_TEST(st["bytes"].get<std::uint64_t>() == stored.size());
  auto dl = get(s, "/exports/" + id + "/download");
  BOOST_TEST(dl.status == 200);
  BOOST_TEST(dl.headers.find("Content-Disposition")->second == "attachment; filename=\"dump.sql\"");
  BOOST_TEST((dl.raw == stored), "the download differs from the object");
  check_restores(dl.raw, db, dir);
  auto part = get(s, "/exports/" + id + "/download", {{"Range", "bytes=5-24"}});
  BOOST_TEST(part.status == 206);
  BOOST_TEST((part.raw == stored.substr(5, 20)));
}

BOOST_AUTO_TEST_CASE(a_named_job_of_the_file_runs_once_and_is_found_by_name) {
  temp_dir dir;
  fs::path db = dir.sub("app.db");
  make_hard_case_db(db, 1'000);
  auto target = "file://" + dir.sub("nightly.sql");
  serve_process s(dir, write_serve_file(dir, "[[job]]\nname = \"nightly\"\nkind = \"export\"\n"
                                             "source = \"app.db\"\ntarget = \"" +
                                                 target + "\"\n"));
  auto id = start_export(s, json{{"job", "nightly"}});
  BOOST_TEST(id.starts_with("nightly-"));
  auto st = wait_finished(s, id);
  BOOST_TEST(st["state"] == "succeeded");
  BOOST_TEST(start_export(s, json{{"job", "nightly"}}) == id);
  BOOST_TEST(s.log().find("job created job=" + id) != std::string::npos);
  check_restores(read_binary(dir.sub("nightly.sql")), db, dir);
}

BOOST_AUTO_TEST_CASE(a_running_export_is_cancelled_and_its_target_is_not_shared) {
  temp_dir dir;
  fs::create_directories(dir.sub("exports"));
  fs::path db = dir.sub("exports/app.db");
  make_hard_case_db(db, 100);
  // Bucket "stall" on nginx: requests to /stall/ are never answered, so the export stays
  // running until it is cancelled.
  auto nginx = test_server::start_nginx(dir.sub("nginx"));
  serve_process s(dir, write_serve_file(dir, s3_table(nginx)));
  json request{{"source", db.string()}, {"target", "s3://stall/dump.sql"}};
  auto id = start_export(s, request);
  auto running = get(s, "/exports/" + id);
  for (auto deadline = std::chrono::steady_clock::now() + 30s;
       running.body["state"] == "pending" && std::chrono::steady_clock::now() < deadline;
       running = get(s, "/exports/" + id))
    std::this_thread::sleep_for(5ms);
  BOOST_TEST(running.body["state"] == "running", running.raw);
  BOOST_TEST(running.body["download_url"].is_null());
  expect_error(get(s, "/exports/" + id + "/download"), 409, "once it has succeeded");
  // Another export to the same object while this one runs would interleave: refused.
  request["compression"] = "zstd";
  expect_error(post(s, "/exports", request.dump()), 409, "is running as " + id);

  auto cancel = post(s, "/jobs/" + id + "/cancel", "");
  BOOST_TEST(cancel.status == 200, cancel.raw);
  auto st = wait_finished(s, id);
  BOOST_TEST(st["state"] == "cancelled", st.dump());
  // The target is free again.
  auto next = post(s, "/exports", request.dump());
  BOOST_TEST(next.status == 202, next.raw);
  BOOST_TEST(next.body["id"] != id);
}

BOOST_AUTO_TEST_CASE(off_loopback_every_request_needs_the_bearer_token) {
  temp_dir dir;
  ::setenv("HAUL_TEST_TOKEN", "s3cr3t-t0ken", 1);
  auto file = write_serve_file(dir);
  // Without a token the server refuses to listen where other machines reach it.
  auto log = dir.sub("refused.log");
  BOOST_TEST(run_haul({"serve", file, "--listen", "0.0.0.0:0"}, log) == 2);
  BOOST_TEST(read_text(log).find("token_env") != std::string::npos, read_text(log));

  // [server] is the file's last table: the key lands in it.
  { std::ofstream(file, std::ios::app) << "token_env = \"HAUL_TEST_TOKEN\"\n"; }
  serve_process s(dir, file, "0.0.0.0:0");
  auto none = get(s, "/health");
  BOOST_TEST(none.status == 401);
  BOOST_TEST(none.headers.find("WWW-Authenticate")->second == "Bearer");
  expect_error(none, 401, "Authorization: Bearer");
  expect_error(get(s, "/health", {{"Authorization", "Bearer wrong"}}), 401, "wrong");
  expect_error(post(s, "/exports", "{}"), 401, "Bearer");
  auto ok = get(s, "/health", {{"Authorization", "Bearer s3cr3t-t0ken"}});
  BOOST_TEST(ok.status == 200, ok.raw);
  BOOST_TEST(s.log().find("s3cr3t") == std::string::npos); // never logged

  // The status page's files hold no data and come without a token; the page then asks for it.
  auto page = get(s, "/");
  BOOST_TEST(page.status == 200);
  BOOST_TEST(page.headers.find("Content-Type")->second == "text/html; charset=utf-8");
  BOOST_TEST(page.raw.find("<script src=\"/ui/app.js\"") != std::string::npos);
  BOOST_TEST(page.headers.find("Content-Security-Policy")->second.find("default-src 'self'") !=
             std::string::npos);
  auto script = get(s, "/ui/app.js");
  BOOST_TEST(script.status == 200);
  BOOST_TEST(script.headers.find("Content-Type")->second == "text/javascript; charset=utf-8");
  BOOST_TEST(script.raw.find("/jobs") != std::string::npos);
  BOOST_TEST(get(s, "/ui/style.css").status == 200);
  expect_error(get(s, "/ui/nothing.js"), 404, "/ui/nothing.js");
  expect_error(get(s, "/ui/../jobs"), 401, "Bearer"); // not a page file: the token applies
}

BOOST_AUTO_TEST_CASE(an_accepted_export_survives_a_killed_server) {
  temp_dir dir;
  fs::create_directories(dir.sub("exports"));
  fs::path db = dir.sub("exports/app.db");
  make_hard_case_db(db, 600'000); // ~65 MB of dump: still running when the kill comes
  auto file = write_serve_file(dir);
  std::string id;
  {
    serve_process s(dir, file);
    id = start_export(s, json{{"source", db.string()},
                              {"target", "file://" + dir.sub("exports/d.sql")},
                              {"compression", "zstd"}});
    s.kill(); // right after the 202: the export is in the store, barely started
  }
  BOOST_TEST(!fs::exists(dir.sub("exports/d.sql")));
  serve_process s(dir, file);
  auto st = wait_finished(s, id);
  BOOST_REQUIRE_MESSAGE(st["state"] == "succeeded", st.dump());
  BOOST_TEST(s.log().find("export resumed job=" + id) != std::string::npos, s.log());
  auto dl = get(s, "/exports/" + id + "/download");
  BOOST_TEST(dl.status == 200);
  check_restores(unzstd(dl.raw), db, dir);
  BOOST_TEST(s.stop() == 143);
}

BOOST_AUTO_TEST_CASE(health_reports_what_recovery_found_and_stopping_during_the_grace) {
  temp_dir dir;
  // Four tasks that take a minute and ignore stop requests: still in flight at the kill,
  // and holding the server in its 2 s grace after SIGTERM.
  auto file = write_serve_file(dir, "[[job]]\nname = \"stubborn\"\nkind = \"noop\"\n"
                                    "tasks = 4\nsleep_ms = 60000\nignore_stop = 1\n");
  auto wait_running = [&](const serve_process& s) {
    auto deadline = std::chrono::steady_clock::now() + 30s;
    auto running = [&] {
      auto jobs = get(s, "/jobs").body["jobs"];
      for (const auto& j : jobs)
        if (j["name"] == "stubborn")
          return j["tasks"]["running"].get<int>();
      return 0;
    };
    while (running() != 4) {
      BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, get(s, "/jobs").raw
                                                                             << "\n"
                                                                             << s.log());
      std::this_thread::sleep_for(20ms);
    }
  };
  {
    serve_process first(dir, file);
    auto h = get(first, "/health");
    BOOST_TEST(h.status == 200, h.raw);
    BOOST_TEST((keys_of(h.body) == std::set<std::string>{"status", "store", "loop_lag_ms",
                                                         "last_turn_ms", "recovery"}),
               h.raw);
    BOOST_TEST((keys_of(h.body["recovery"]) ==
                std::set<std::string>{"generation", "jobs_resumable", "tasks_interrupted",
                                      "jobs_expired", "duration_ms", "finished_ms"}),
               h.raw);
    BOOST_TEST(h.body["recovery"]["tasks_interrupted"] == 0);
    BOOST_TEST(h.body["store"] == dir.sub("store"));
    wait_running(first);
    first.kill();
  }
  serve_process second(dir, file);
  auto h = get(second, "/health");
  BOOST_TEST(h.status == 200, h.raw);
  BOOST_TEST(h.body["status"] == "ok");
  BOOST_TEST(h.body["recovery"]["generation"] == 2);
  BOOST_TEST(h.body["recovery"]["jobs_resumable"] == 1);
  BOOST_TEST(h.body["recovery"]["tasks_interrupted"] == 4); // the four in flight at the kill
  BOOST_TEST(h.body["recovery"]["finished_ms"].get<std::int64_t>() > 0);
  wait_running(second);
  auto m = get(second, "/metrics");
  BOOST_TEST(m.status == 200);
  auto samples = parse_exposition(m.raw);
  std::map<std::string, std::string> job{{"name", "stubborn"}, {"kind", "noop"}};
  BOOST_TEST(metric(samples, "haul_job_in_flight", job) == 4);
  auto running = job;
  running["state"] = "running";
  BOOST_TEST(metric(samples, "haul_job_tasks", running) == 4);
  BOOST_TEST(metric(samples, "haul_job_tasks_total", job) == 4);
  BOOST_TEST(metric(samples, "haul_job_retries_total", job) == 0);
  BOOST_TEST(metric(samples, "haul_store_generation") == 2);
  BOOST_TEST(metric(samples, "haul_recovery_tasks_interrupted") == 4);
  BOOST_TEST(metric(samples, "haul_recovery_jobs_resumable") == 1);
  BOOST_TEST(metric(samples, "haul_loop_lag_seconds") < 5);
  second.signal(SIGTERM);
  // While the stubborn tasks hold the grace, the server answers but is not healthy.
  auto deadline = std::chrono::steady_clock::now() + 30s;
  for (;;) {
    auto during = get(second, "/health");
    if (during.status == 503) {
      BOOST_TEST(during.body == (json{{"status", "stopping"}}), during.raw);
      break;
    }
    BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, during.raw);
    std::this_thread::sleep_for(10ms);
  }
  BOOST_TEST(second.wait() == 143, second.log());
  BOOST_TEST(second.log().find("tasks still running after the stop") != std::string::npos,
             second.log());
}

BOOST_AUTO_TEST_CASE(jobs_are_listed_inspected_retried_and_measured) {
  temp_dir dir;
  auto witness = dir.sub("witness");
  // Every task fails its only attempt: the job ends failed with four tasks in the dead letter.
  serve_process s(dir, write_serve_file(dir, "[[job]]\nname = \"flaky\"\nkind = \"noop\"\n"
                                             "tasks = 4\nfail_first = 1000\nmax_attempts = 1\n"
                                             "witness = \"" +
                                                 witness + "\"\n"));
  auto wait_job = [&](const std::string& id) {
    auto deadline = std::chrono::steady_clock::now() + 60s;
    for (;;) {
      auto a = get(s, "/jobs/" + id);
      BOOST_REQUIRE_MESSAGE(a.status == 200, a.raw);
      if (a.body["state"] == "failed")
        return a.body;
      BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, a.raw);
      std::this_thread::sleep_for(10ms);
    }
  };
  auto list = get(s, "/jobs");
  BOOST_TEST_REQUIRE(list.status == 200);
  BOOST_TEST_REQUIRE(list.body["jobs"].size() == 1u, list.raw);
  auto id = list.body["jobs"][0]["id"].get<std::string>();
  BOOST_TEST(list.body["jobs"][0]["name"] == "flaky");
  BOOST_TEST(list.body["jobs"][0]["kind"] == "noop");

  auto job = wait_job(id);
  // A job of GET /jobs, plus its dead letter.
  auto listed = keys_of(list.body["jobs"][0]);
  listed.insert("failed_tasks");
  BOOST_TEST((keys_of(job) == listed), job.dump());
  BOOST_TEST(job["tasks"]["failed"] == 4);
  BOOST_TEST_REQUIRE(job["failed_tasks"].size() == 4u, job.dump());
  for (const auto& t : job["failed_tasks"]) {
    BOOST_TEST((keys_of(t) == std::set<std::string>{"index", "label", "attempts", "error"}));
    BOOST_TEST(t["attempts"] == 1);
    BOOST_TEST(!t["error"].get<std::string>().empty());
  }
  BOOST_TEST(fs::file_size(witness) == 4u * 16u); // one execution per task

  // haul inspect reads the same from the store while the server runs it.
  auto inspect_log = dir.sub("inspect.json");
  BOOST_TEST_REQUIRE(
      run_haul({"inspect", "flaky", "--store", dir.sub("store"), "--json"}, inspect_log) == 0,
      read_text(inspect_log));
  auto inspected = json::parse(read_text(inspect_log));
  BOOST_TEST(inspected["job"]["id"] == id);
  BOOST_TEST(inspected["params"]["fail_first"] == "1000");
  BOOST_TEST(inspected["tasks_with_record"] == 4);
  BOOST_TEST_REQUIRE(inspected["tasks"].size() == 4u);
  for (const auto& t : inspected["tasks"]) {
    BOOST_TEST(t["state"] == "dead");
    BOOST_TEST(t["failures"] == 1);
    BOOST_TEST(t["error"].get<std::string>().find("injected failure") != std::string::npos);
  }
  auto text_log = dir.sub("inspect.txt");
  BOOST_TEST(run_haul({"inspect", id, "--store", dir.sub("store"), "--limit", "2"}, text_log) == 0);
  auto text = read_text(text_log);
  BOOST_TEST(text.find("tasks on record: 4 (the first 2 shown)") != std::string::npos, text);
  BOOST_TEST(text.find("  task 1  dead  failures 1\n    error: noop: injected failure") !=
                 std::string::npos,
             text);

  // Prometheus text, parsed strictly, with the numbers of the failed job.
  auto metrics = s.client().Get("/metrics");
  BOOST_TEST_REQUIRE(metrics);
  BOOST_TEST(metrics->status == 200);
  BOOST_TEST(metrics->get_header_value("Content-Type").starts_with("text/plain; version=0.0.4"));
  auto samples = parse_exposition(metrics->body);
  std::map<std::string, std::string> flaky{{"job", id}, {"name", "flaky"}, {"kind", "noop"}};
  auto with_state = [&](const std::string& state) {
    auto l = flaky;
    l["state"] = state;
    return l;
  };
  BOOST_TEST(metric(samples, "haul_job_tasks", with_state("failed")) == 4);
  BOOST_TEST(metric(samples, "haul_job_tasks", with_state("succeeded")) == 0);
  BOOST_TEST(metric(samples, "haul_job_state", with_state("failed")) == 1);
  BOOST_TEST(metric(samples, "haul_job_tasks_total", flaky) == 4);
  BOOST_TEST(metric(samples, "haul_job_in_flight", flaky) == 0);
  BOOST_TEST(metric(samples, "haul_job_retries_total", flaky) == 0); // one attempt each
  BOOST_TEST(metric(samples, "haul_job_bytes_total", flaky) == 0);
  BOOST_TEST(metric(samples, "haul_store_generation") == 1);
  metric(samples, "haul_loop_lag_seconds");
  metric(samples, "haul_last_turn_age_seconds");

  // Retried, the dead letter runs again at once (and fails again, every attempt).
  auto retried = post(s, "/jobs/" + id + "/retry", "");
  BOOST_TEST_REQUIRE(retried.status == 200, retried.raw);
  BOOST_TEST(retried.body["requeued"] == 4);
  wait_job(id);
  BOOST_TEST(fs::file_size(witness) == 8u * 16u);
  expect_error(post(s, "/jobs/nope-000000000000/retry", ""), 404, "no job");
  expect_error(get(s, "/jobs/nope-000000000000"), 404, "no job");
}

BOOST_AUTO_TEST_CASE(cancel_and_retry_reach_a_running_haul_through_its_control_socket) {
  temp_dir dir;
  auto store = dir.sub("store");
  auto jobs = dir.sub("run.toml");
  std::ofstream(jobs) << "[runtime]\nstore = \"store\"\nreport_interval = \"1h\"\n"
                         "[[job]]\nname = \"slow\"\nkind = \"noop\"\ntasks = 100000\n"
                         "sleep_ms = 20\nparallelism = 2\n";
  auto run_log = dir.sub("run.log");
  auto pid = start_haul_with({"run", jobs}, run_log);
  auto socket = store + "/control.sock";
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!fs::exists(socket)) {
    BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, read_text(run_log));
    std::this_thread::sleep_for(5ms);
  }
  auto mode = fs::status(socket).permissions() & fs::perms::all;
  BOOST_TEST((mode == (fs::perms::owner_read | fs::perms::owner_write)));
  auto log = dir.sub("cli.log");
  BOOST_TEST(run_haul({"cancel", "slow", "--store", store}, log) == 0, read_text(log));
  int status = 0;
  ::waitpid(pid, &status, 0); // the run ends because its only job was cancelled
  BOOST_TEST(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 4, read_text(run_log));
  BOOST_TEST(read_text(run_log).find(" cancelled succeeded=") != std::string::npos);
  BOOST_TEST(!fs::exists(socket)); // removed by the process that served it
  // With no process on the store, the commands change it directly.
  BOOST_TEST(run_haul({"cancel", "slow", "--store", store}, log) == 0, read_text(log));
  BOOST_TEST(run_haul({"cancel", "nope", "--store", store}, log) == 2);
  BOOST_TEST(read_text(log).find("no job nope") != std::string::npos);

  // retry through the socket of a `haul serve`: the finished job runs again at once.
  auto witness = dir.sub("witness");
  serve_process s(dir, write_serve_file(dir, "[[job]]\nname = \"flaky\"\nkind = \"noop\"\n"
                                             "tasks = 3\nfail_first = 1000\nmax_attempts = 1\n"
                                             "witness = \"" +
                                                 witness + "\"\n"));
  auto serve_store = dir.sub("store"); // write_serve_file's store: the same directory
  auto executions = [&] {
    std::error_code ec;
    auto n = fs::file_size(witness, ec);
    return ec ? 0 : n / 16;
  };
  deadline = std::chrono::steady_clock::now() + 30s;
  auto flaky_state = [&] {
    auto list = get(s, "/jobs"); // held: the loop below refers into it
    for (const auto& j : list.body["jobs"])
      if (j["name"] == "flaky")
        return j["state"].get<std::string>();
    return std::string();
  };
  while (flaky_state() != "failed") {
    BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, s.log());
    std::this_thread::sleep_for(10ms);
  }
  BOOST_TEST(run_haul({"retry", "flaky", "--store", serve_store}, log) == 0, read_text(log));
  BOOST_TEST(read_text(log).find("3 tasks queued again in the running haul process") !=
             std::string::npos);
  deadline = std::chrono::steady_clock::now() + 30s;
  while (executions() < 6) {
    BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, s.log());
    std::this_thread::sleep_for(10ms);
  }
}

BOOST_AUTO_TEST_CASE(a_paused_job_stays_paused_across_a_restart_until_resumed) {
  temp_dir dir;
  auto store = dir.sub("store");
  auto witness = dir.sub("witness");
  auto jobs = dir.sub("run.toml");
  std::ofstream(jobs) << "[runtime]\nstore = \"store\"\nreport_interval = \"1h\"\n"
                         "[[job]]\nname = \"slow\"\nkind = \"noop\"\ntasks = 100000\n"
                         "sleep_ms = 5\nparallelism = 2\nwitness = \""
                      << witness << "\"\n";
  auto executions = [&] {
    std::error_code ec;
    auto n = fs::file_size(witness, ec);
    return ec ? 0 : n / 16;
  };
  auto wait_until = [&](const std::function<bool()>& done, const std::string& what) {
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (!done()) {
      BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, what);
      std::this_thread::sleep_for(5ms);
    }
  };
  auto status_of_slow = [&] {
    auto log = dir.sub("status.json");
    fs::remove(log);
    BOOST_REQUIRE(run_haul({"status", "--store", store, "--json"}, log) == 0);
    return json::parse(read_text(log))["jobs"][0];
  };
  auto cli = dir.sub("cli.log");
  BOOST_TEST(run_haul({"pause", "--store", store}, cli) == 2); // neither JOB nor --all

  auto first = start_haul_with({"run", jobs}, dir.sub("run1.log"));
  wait_until([&] { return executions() >= 10; }, "the job did not start");
  BOOST_TEST(run_haul({"pause", "slow", "--store", store}, cli) == 0, read_text(cli));
  BOOST_TEST(status_of_slow()["state"] == "paused");
  ::kill(first, SIGTERM);
  int status = 0;
  ::waitpid(first, &status, 0);
  BOOST_TEST(WEXITSTATUS(status) == 143);
  auto paused_at = executions();

  // Run again: the job is resumed from the store, and stays paused.
  auto run2 = dir.sub("run2.log");
  auto second = start_haul_with({"run", jobs}, run2);
  wait_until([&] { return read_text(run2).find("job resumed") != std::string::npos; },
             "the second run did not submit the job");
  BOOST_TEST(status_of_slow()["state"] == "paused");
  BOOST_TEST(executions() == paused_at); // nothing ran while it was paused
  BOOST_TEST(run_haul({"resume", "slow", "--store", store}, cli) == 0, read_text(cli));
  wait_until([&] { return executions() >= paused_at + 10; }, "the resumed job did not run");
  BOOST_TEST(status_of_slow()["state"] == "running");
  BOOST_TEST(run_haul({"cancel", "slow", "--store", store}, cli) == 0);
  ::waitpid(second, &status, 0);
  BOOST_TEST(WEXITSTATUS(status) == 4);
  BOOST_TEST(run_haul({"pause", "slow", "--store", store}, cli) == 1); // finished: nothing to pause
  BOOST_TEST(read_text(cli).find("has finished; there is nothing to pause") != std::string::npos);
}
