// The command line's contract on the real binary: every exit code that `haul --help` and
// docs/operations.md promise, `haul status --watch`, and the JSON shapes of `status --json`
// and `inspect --json`. Jobs are of the built-in noop kind, so each case takes a second or
// less; the kinds' own behaviour is tested elsewhere.

#define BOOST_TEST_MODULE haul_cli
#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>
#include <poll.h>
#include <pty.h>

#include "../unit/temp_dir.hpp"
#include "haul_process.hpp"

using namespace haul::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

/// A job file with one noop job; `extra` are more keys of the job.
std::string job_file(const temp_dir& dir, const std::string& name, const std::string& extra,
                     const std::string& store = "store") {
  auto path = dir.sub(name + ".toml");
  std::ofstream(path) << "[runtime]\nstore = \"" << store
                      << "\"\nparallelism = 4\nshutdown_grace = \"5s\"\n"
                         "initial_backoff = \"10ms\"\n\n[[job]]\nname = \""
                      << name << "\"\nkind = \"noop\"\n"
                      << extra;
  return path;
}

/// `haul status --json` of the store, parsed.
json status_of(const std::string& store, const temp_dir& dir) {
  auto log = dir.sub("status-" + std::to_string(std::rand()) + ".json");
  BOOST_REQUIRE(run_haul({"status", "--store", store, "--json"}, log) == 0);
  return json::parse(read_text(log));
}

/// Waits until a haul process runs the store and its first job has finished `done` tasks
/// (with 0: has tasks running).
void wait_running(const std::string& store, const temp_dir& dir, std::uint64_t done = 1) {
  auto deadline = std::chrono::steady_clock::now() + 30s;
  for (;;) {
    // status_of requires exit 0: a store that haul is still creating is waited for.
    if (::access((store + "/CURRENT").c_str(), F_OK) == 0) {
      auto st = status_of(store, dir);
      if (st["store_in_use"] == true && !st["jobs"].empty() &&
          st["jobs"][0]["tasks"]["succeeded"].get<std::uint64_t>() >= done &&
          (done > 0 || st["jobs"][0]["tasks"]["running"].get<std::uint64_t>() > 0))
        return;
    }
    BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "haul did not start");
    std::this_thread::sleep_for(20ms);
  }
}

int wait_exit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}

/// `haul ARGS...` on a pseudo-terminal of 120 columns, as a person at a terminal runs it.
class on_terminal {
 public:
  explicit on_terminal(const std::vector<std::string>& args) {
    winsize ws{};
    ws.ws_row = 40;
    ws.ws_col = 120;
    pid_ = ::forkpty(&master_, nullptr, nullptr, &ws);
    BOOST_REQUIRE_MESSAGE(pid_ >= 0, "forkpty failed");
    if (pid_ == 0)
      exec_haul(args);
  }
  ~on_terminal() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(master_);
  }
  on_terminal(const on_terminal&) = delete;
  on_terminal& operator=(const on_terminal&) = delete;

  pid_t pid() const { return pid_; }

  /// Reads what the terminal showed until `text` appears in it; false when haul closed the
  /// terminal first or 30 s passed.
  bool read_until(const std::string& text) {
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (screen_.find(text) == std::string::npos) {
      if (std::chrono::steady_clock::now() > deadline || !read_some(100))
        return false;
    }
    return true;
  }

  /// Reads to the end (haul closed the terminal) and returns the exit code; fails the test
  /// when that takes over a minute.
  int finish() {
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (read_some(100))
      BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "haul did not end:\n"
                                                                             << screen_);
    exited_ = true;
    return wait_exit(pid_);
  }

  const std::string& screen() const { return screen_; }

 private:
  /// False at the end of the output (EIO once the child's side is closed).
  bool read_some(int timeout_ms) {
    pollfd p{master_, POLLIN, 0};
    int n = ::poll(&p, 1, timeout_ms);
    if (n == 0 || (n < 0 && errno == EINTR))
      return true; // nothing yet; the caller's deadline decides
    char buf[4096];
    auto got = ::read(master_, buf, sizeof(buf));
    if (got <= 0)
      return false;
    screen_.append(buf, static_cast<std::size_t>(got));
    return true;
  }

  int master_ = -1;
  pid_t pid_ = -1;
  bool exited_ = false;
  std::string screen_;
};

} // namespace

BOOST_AUTO_TEST_CASE(a_run_exits_0_3_or_4_by_how_its_jobs_ended) {
  temp_dir dir;
  auto ok_log = dir.sub("ok.log");
  BOOST_TEST(run_haul({"run", job_file(dir, "fine", "tasks = 20\n")}, ok_log) == 0);
  BOOST_TEST(read_text(ok_log).find(" succeeded succeeded=20 failed=0 total=20 retries=0\n") !=
                 std::string::npos,
             read_text(ok_log));

  // Every fifth task fails for good: the job completes with failures, listed after the run.
  auto partial_log = dir.sub("partial.log");
  BOOST_TEST(run_haul({"run", job_file(dir, "partial", "tasks = 20\nfail_every = 5\n")},
                      partial_log) == 3);
  auto partial = read_text(partial_log);
  BOOST_TEST(partial.find(" completed_with_failures succeeded=16 failed=4 total=20") !=
                 std::string::npos,
             partial);
  BOOST_TEST(partial.find("  failed: task 5 (1 attempts): noop: task 5 fails by fail_every\n") !=
                 std::string::npos,
             partial);
  BOOST_TEST(partial.find("'haul retry partial-") != std::string::npos, partial);

  // Every task fails: the job failed.
  auto failed_log = dir.sub("failed.log");
  BOOST_TEST(
      run_haul({"run", job_file(dir, "doomed", "tasks = 3\nfail_first = 9\nmax_attempts = 2\n")},
               failed_log) == 4);
  BOOST_TEST(read_text(failed_log).find(" failed succeeded=0 failed=3 total=3 retries=3") !=
                 std::string::npos,
             read_text(failed_log));
}

BOOST_AUTO_TEST_CASE(usage_errors_exit_2_with_a_message) {
  temp_dir dir;
  auto log = dir.sub("usage.log");
  BOOST_TEST(run_haul({"frobnicate"}, log) == 2);
  BOOST_TEST(run_haul({"run"}, log) == 2); // FILE is required
  BOOST_TEST(run_haul({"run", dir.sub("missing.toml")}, log) == 2);
  BOOST_TEST(read_text(log).find("missing.toml") != std::string::npos, read_text(log));
  BOOST_TEST(run_haul({"help", "nope"}, log) == 2);
  BOOST_TEST(read_text(log).find("no subcommand 'nope'") != std::string::npos);
  BOOST_TEST(run_haul({"status", "--store", dir.sub("nothing-here")}, log) == 2);
  BOOST_TEST(read_text(log).find("no haul store at") != std::string::npos);

  auto bad = job_file(dir, "bad", "tasks = 3\nsleep_ms = \"soon\"\n");
  auto bad_log = dir.sub("bad.log");
  BOOST_TEST(run_haul({"run", bad}, bad_log) == 2);
  BOOST_TEST(run_haul({"validate", bad}, bad_log) == 2);
  // Both name the place: the file, line 11 (sleep_ms), column 12 (its value).
  BOOST_TEST(
      read_text(bad_log).find(
          bad + ":11:12: job bad: sleep_ms: expected a non-negative integer, found \"soon\"\n") !=
          std::string::npos,
      read_text(bad_log));
  BOOST_TEST(
      run_haul({"status", "--watch", "--interval", "fast", "--store", dir.path()}, bad_log) == 2);
  BOOST_TEST(read_text(bad_log).find("--interval") != std::string::npos);

  auto help_log = dir.sub("help.log");
  BOOST_TEST(run_haul({"help", "status"}, help_log) == 0);
  BOOST_TEST(read_text(help_log).find("--watch") != std::string::npos);
  BOOST_TEST(run_haul({"--help"}, help_log) == 0);
  BOOST_TEST(read_text(help_log).find("130/143") != std::string::npos); // the exit codes
  auto version_log = dir.sub("version.log");
  BOOST_TEST(run_haul({"--version"}, version_log) == 0);
  BOOST_TEST(read_text(version_log).rfind("haul ", 0) == 0, read_text(version_log));
}

BOOST_AUTO_TEST_CASE(validate_says_a_valid_file_is_valid_and_exits_0) {
  temp_dir dir;
  auto one = job_file(dir, "fine", "tasks = 2\n");
  auto log = dir.sub("one.log");
  BOOST_TEST(run_haul({"validate", one}, log) == 0);
  BOOST_TEST(read_text(log) == one + ": valid, 1 job\n");

  auto two = dir.sub("two.toml");
  std::ofstream(two) << "[[job]]\nname = \"a\"\nkind = \"noop\"\n\n"
                        "[[job]]\nname = \"b\"\nkind = \"noop\"\ntasks = 2\n\n"
                        "[server]\nlisten = \"127.0.0.1:0\"\n";
  auto two_log = dir.sub("two.log");
  BOOST_TEST(run_haul({"validate", two}, two_log) == 0);
  BOOST_TEST(read_text(two_log) == two + ": valid, 2 jobs and a [server] table\n");
  BOOST_TEST(::access(dir.sub("store").c_str(), F_OK) != 0); // no store was opened
}

BOOST_AUTO_TEST_CASE(validate_prints_every_problem_whole_and_exits_2) {
  temp_dir dir;
  // Problems of the file itself: reported alone, before any kind is asked.
  auto parse = dir.sub("parse.toml");
  std::ofstream(parse) << "[runtime]\nsync = \"fast\"\nretention = \"36501d\"\ncolour = 1\n\n"
                          "[[job]]\nname = \"a\"\nkind = \"noop\"\ntasks = -1\n"
                          "when = 1979-05-27\n";
  auto parse_log = dir.sub("parse.log");
  BOOST_TEST(run_haul({"validate", parse}, parse_log) == 2);
  BOOST_TEST(read_text(parse_log) ==
             parse +
                 ":2:8: runtime.sync: expected \"batch\", \"always\" or \"off\", found "
                 "\"fast\"\n" +
                 parse +
                 ":3:13: runtime.retention: expected a duration of at most 36500d, "
                 "found \"36501d\"\n" +
                 parse + ":4:10: runtime: unknown key 'colour'\n" + parse +
                 ":9:9: job[0].tasks: expected an integer of at least 0, found -1\n" + parse +
                 ":10:8: job[0].when: expected a string, number or boolean, found a date or "
                 "time\n");

  // Problems of the kinds' keys and of [server], each at its key.
  ::unsetenv("HAUL_CLI_GOLDEN_UNSET");
  auto kinds = dir.sub("kinds.toml");
  std::ofstream(kinds) << "[[job]]\nname = \"up\"\nkind = \"upload\"\nsource = \"files\"\n"
                          "target = \"ftp://h/\"\npart_size = \"1MiB\"\n\n"
                          "[[job]]\nname = \"n\"\nkind = \"noop\"\nsleepms = 5\n\n"
                          "[server]\ntoken_env = \"HAUL_CLI_GOLDEN_UNSET\"\n";
  auto kinds_log = dir.sub("kinds.log");
  BOOST_TEST(run_haul({"validate", kinds}, kinds_log) == 2);
  BOOST_TEST(read_text(kinds_log) ==
             kinds +
                 ":5:10: job up: target: expected an http://, https:// or s3:// URL, found "
                 "\"ftp://h/\"\n" +
                 kinds +
                 ":6:13: job up: part_size: expected at least 5MiB (S3's smallest "
                 "part), found \"1MiB\"\n" +
                 kinds +
                 ":11:11: job n: unknown key 'sleepms' (did you mean 'sleep_ms'?) for "
                 "kind noop (expected sleep_ms, fail_first, fail_every, ignore_stop, "
                 "witness)\n" +
                 kinds +
                 ":14:13: server.token_env: environment variable HAUL_CLI_GOLDEN_UNSET "
                 "is not set\n");
}

BOOST_AUTO_TEST_CASE(the_complete_example_of_the_job_file_reference_is_valid) {
  auto doc = read_text(std::string(HAUL_SOURCE_DIR) + "/docs/job-file.md");
  auto start = doc.find("```toml\n", doc.find("## A complete example"));
  BOOST_REQUIRE(start != std::string::npos);
  start += 8;
  auto end = doc.find("```\n", start);
  BOOST_REQUIRE(end != std::string::npos);
  temp_dir dir;
  auto file = dir.sub("every-key.toml");
  std::ofstream(file) << doc.substr(start, end - start);
  std::filesystem::create_directory(dir.sub("exports")); // export_roots must exist
  for (const char* name : {"CACHE_TOKEN", "CACHE_API_KEY", "AWS_ACCESS_KEY_ID",
                           "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "HAUL_TOKEN"})
    ::setenv(name, "example", 1);
  auto log = dir.sub("validate.log");
  BOOST_TEST(run_haul({"validate", file}, log) == 0);
  BOOST_TEST(read_text(log) == file + ": valid, 4 jobs and a [server] table\n");
}

BOOST_AUTO_TEST_CASE(a_store_error_exits_1_and_a_busy_store_5) {
  temp_dir dir;
  { std::ofstream(dir.sub("plain-file")) << "not a directory"; }
  auto log = dir.sub("error.log");
  BOOST_TEST(run_haul({"run", job_file(dir, "one", "tasks = 1\n"), "--store",
                       dir.sub("plain-file") + "/store"},
                      log) == 1);
  BOOST_TEST(read_text(log).find("Not a directory") != std::string::npos, read_text(log));

  auto slow = job_file(dir, "slow", "tasks = 1000\nsleep_ms = 50\n");
  auto run_log = dir.sub("slow.log");
  pid_t pid = start_haul_with({"run", slow}, run_log);
  wait_running(dir.sub("store"), dir);
  auto busy_log = dir.sub("busy.log");
  BOOST_TEST(run_haul({"run", slow}, busy_log) == 5);
  // It names the store and the process that has it.
  BOOST_TEST(read_text(busy_log).find("store " + dir.sub("store") +
                                      " is in use by another haul process (pid " +
                                      std::to_string(pid) + ")") != std::string::npos,
             read_text(busy_log));
  ::kill(pid, SIGINT);
  BOOST_TEST(wait_exit(pid) == 130, read_text(run_log));
}

BOOST_AUTO_TEST_CASE(sigterm_stops_a_run_gracefully_with_143_and_the_next_run_resumes) {
  temp_dir dir;
  // About 5 s of work: the signal comes long before the end, however slow the machine.
  auto file = job_file(dir, "slow", "tasks = 1000\nsleep_ms = 20\n");
  auto log = dir.sub("run.log");
  pid_t pid = start_haul_with({"run", file}, log);
  wait_running(dir.sub("store"), dir, 10);
  ::kill(pid, SIGTERM);
  BOOST_TEST(wait_exit(pid) == 143, read_text(log));
  auto st = status_of(dir.sub("store"), dir);
  auto stopped_at = st["jobs"][0]["tasks"]["succeeded"].get<std::uint64_t>();
  BOOST_TEST(stopped_at >= 10u);
  BOOST_TEST(stopped_at < 1000u);
  BOOST_TEST(st["jobs"][0]["tasks"]["running"] == 0); // nobody runs the store now
  BOOST_TEST(run_haul({"run", file}, log) == 0, read_text(log));
  BOOST_TEST(status_of(dir.sub("store"), dir)["jobs"][0]["tasks"]["succeeded"] == 1000);
}

BOOST_AUTO_TEST_CASE(a_second_signal_exits_at_once_and_leaves_the_store_consistent) {
  temp_dir dir;
  // Tasks that ignore the stop request: after the first SIGTERM haul waits for them, up to
  // shutdown_grace (5 s here; they would take 20 s).
  auto file =
      job_file(dir, "stubborn", "tasks = 8\nsleep_ms = 20000\nignore_stop = 1\nparallelism = 4\n");
  auto log = dir.sub("run.log");
  pid_t pid = start_haul_with({"run", file}, log);
  auto store = dir.sub("store");
  wait_running(store, dir, 0);
  ::kill(pid, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (read_text(log).find("signal received") == std::string::npos) {
    BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, read_text(log));
    std::this_thread::sleep_for(5ms);
  }
  int status = 0;
  BOOST_TEST(::waitpid(pid, &status, WNOHANG) == 0); // still waiting for its tasks
  auto second = std::chrono::steady_clock::now();
  ::kill(pid, SIGTERM);
  BOOST_TEST(wait_exit(pid) == 143, read_text(log));
  BOOST_TEST((std::chrono::steady_clock::now() - second < 4s)); // not the 5 s grace
  // The store opens and reads as before: nothing finished, the job unfinished.
  auto st = status_of(store, dir);
  BOOST_TEST(st["store_in_use"] == false);
  BOOST_TEST(st["jobs"][0]["tasks"]["succeeded"] == 0);
  BOOST_TEST(st["jobs"][0]["state"] == "pending"); // stored as running; nobody runs it now
  auto cancel_log = dir.sub("cancel.log");
  BOOST_TEST(run_haul({"cancel", "stubborn", "--store", store}, cancel_log) == 0,
             read_text(cancel_log));
  BOOST_TEST(run_haul({"run", file}, log) == 4, read_text(log)); // cancelled: exit 4
}

BOOST_AUTO_TEST_CASE(one_signal_waits_out_the_grace_for_tasks_that_ignore_it_then_exits_143) {
  temp_dir dir;
  auto path = dir.sub("jobs.toml");
  std::ofstream(path) << "[runtime]\nstore = \"store\"\nshutdown_grace = \"1s\"\n\n"
                         "[[job]]\nname = \"stubborn\"\nkind = \"noop\"\ntasks = 4\n"
                         "sleep_ms = 60000\nignore_stop = 1\n";
  auto log = dir.sub("run.log");
  pid_t pid = start_haul_with({"run", path}, log);
  wait_running(dir.sub("store"), dir, 0);
  auto signalled = std::chrono::steady_clock::now();
  ::kill(pid, SIGTERM);
  BOOST_TEST(wait_exit(pid) == 143, read_text(log));
  auto took = std::chrono::steady_clock::now() - signalled;
  BOOST_TEST((took >= 1s)); // it gave the tasks their grace...
  BOOST_TEST((took < 30s)); // ...and not the minute they would have taken
  auto st = status_of(dir.sub("store"), dir);
  BOOST_TEST(st["jobs"][0]["tasks"]["succeeded"] == 0);
  BOOST_TEST(st["jobs"][0]["tasks"]["pending"] == 4); // all of them run again next time
}

BOOST_AUTO_TEST_CASE(on_a_terminal_log_lines_print_above_the_bars_which_are_drawn_again) {
  temp_dir dir;
  auto file = job_file(dir, "slow", "tasks = 1000\nsleep_ms = 50\nparallelism = 2\n");
  on_terminal term({"run", file});
  BOOST_REQUIRE_MESSAGE(term.read_until("in flight"), term.screen());
  ::kill(term.pid(), SIGINT);
  BOOST_TEST(term.finish() == 130, term.screen());
  const auto& out = term.screen();
  // The warning takes the drawing's place: cleared to the end of the screen, then the line...
  auto warning = out.find("warn signal received");
  BOOST_TEST_REQUIRE(warning != std::string::npos, out);
  auto cleared = out.rfind("\x1b[J", warning);
  BOOST_TEST_REQUIRE(cleared != std::string::npos, out);
  BOOST_TEST(out.find('\n', cleared) > warning, out); // the same line as the clear
  // ...and the bars come back below it.
  BOOST_TEST(out.find("\x1b[2Kslow", warning) != std::string::npos, out);
  // Info lines are the bars' news, so they stay off the terminal by default.
  BOOST_TEST(out.find("info job created") == std::string::npos, out);
}

BOOST_AUTO_TEST_CASE(on_a_terminal_a_log_level_the_file_sets_is_honoured_above_the_bars) {
  temp_dir dir;
  auto path = dir.sub("jobs.toml");
  std::ofstream(path) << "[runtime]\nstore = \"store\"\nlog_level = \"debug\"\n\n"
                         "[[job]]\nname = \"few\"\nkind = \"noop\"\ntasks = 3\n";
  on_terminal term({"run", path});
  BOOST_TEST(term.finish() == 0, term.screen());
  const auto& out = term.screen();
  BOOST_TEST(out.find("debug task started") != std::string::npos, out);
  BOOST_TEST(out.find("info job created") != std::string::npos, out);
  BOOST_TEST(out.find("\x1b[2Kfew") != std::string::npos, out); // and the bars
}

BOOST_AUTO_TEST_CASE(status_watch_follows_a_run_until_a_signal) {
  temp_dir dir;
  auto file = job_file(dir, "slow", "tasks = 1000\nsleep_ms = 50\nparallelism = 2\n");
  auto run_log = dir.sub("run.log");
  pid_t run = start_haul_with({"run", file}, run_log);
  wait_running(dir.sub("store"), dir);
  auto watch_log = dir.sub("watch.log");
  pid_t watch = start_haul_with(
      {"status", "--store", dir.sub("store"), "--watch", "--json", "--interval", "100ms"},
      watch_log);
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (lines_of(read_text(watch_log)).size() < 4) {
    BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, read_text(watch_log));
    std::this_thread::sleep_for(20ms);
  }
  ::kill(watch, SIGTERM);
  BOOST_TEST(wait_exit(watch) == 143);
  // One JSON document a line; the count of finished tasks never goes back.
  std::uint64_t last = 0;
  auto lines = lines_of(read_text(watch_log));
  for (const auto& line : lines) {
    auto doc = json::parse(line);
    BOOST_TEST(doc["store_in_use"] == true);
    auto done = doc["jobs"][0]["tasks"]["succeeded"].get<std::uint64_t>();
    BOOST_TEST(done >= last);
    last = done;
  }
  BOOST_TEST(last > json::parse(lines.front())["jobs"][0]["tasks"]["succeeded"].get<int>());
  ::kill(run, SIGINT);
  BOOST_TEST(wait_exit(run) == 130);
}

BOOST_AUTO_TEST_CASE(status_watch_exits_as_the_run_did_once_nothing_can_change) {
  temp_dir dir;
  auto log = dir.sub("run.log");
  BOOST_REQUIRE(run_haul({"run", job_file(dir, "partial", "tasks = 10\nfail_every = 5\n")}, log) ==
                3);
  auto watch_log = dir.sub("watch.log");
  BOOST_TEST(run_haul({"status", "--store", dir.sub("store"), "--watch"}, watch_log) == 3);
  auto text = read_text(watch_log);
  BOOST_TEST(text.find("no haul process runs it") != std::string::npos, text);
  BOOST_TEST(text.find("completed_with_failures") != std::string::npos, text);
  BOOST_TEST(text.find("\x1b[") == std::string::npos); // not a terminal: plain text
}

BOOST_AUTO_TEST_CASE(status_and_inspect_json_have_their_documented_shape) {
  temp_dir dir;
  auto log = dir.sub("run.log");
  BOOST_REQUIRE(run_haul({"run", job_file(dir, "partial", "tasks = 10\nfail_every = 5\n")}, log) ==
                3);
  auto st = status_of(dir.sub("store"), dir);
  std::set<std::string> top, job, tasks;
  for (const auto& [k, v] : st.items())
    top.insert(k);
  for (const auto& [k, v] : st["jobs"][0].items())
    job.insert(k);
  for (const auto& [k, v] : st["jobs"][0]["tasks"].items())
    tasks.insert(k);
  BOOST_TEST((top == std::set<std::string>{"jobs", "store_in_use"}));
  BOOST_TEST((job == std::set<std::string>{"id", "name", "kind", "state", "tasks", "retries",
                                           "bytes", "parallelism", "concurrency",
                                           "tasks_per_second", "bytes_per_second", "eta_ms",
                                           "created_ms", "finished_ms", "last_error"}));
  BOOST_TEST((tasks == std::set<std::string>{"total", "succeeded", "failed", "pending", "running",
                                             "cancelled"}));
  const auto& j = st["jobs"][0];
  BOOST_TEST(j["state"] == "completed_with_failures");
  BOOST_TEST(j["tasks"]["failed"] == 2);
  BOOST_TEST(j["eta_ms"] == -1);
  BOOST_TEST(j["finished_ms"].get<std::int64_t>() >= j["created_ms"].get<std::int64_t>());
  BOOST_TEST(j["last_error"].get<std::string>().find("fails by fail_every") != std::string::npos);

  auto inspect_log = dir.sub("inspect.json");
  BOOST_REQUIRE(
      run_haul({"inspect", "partial", "--store", dir.sub("store"), "--json"}, inspect_log) == 0);
  auto in = json::parse(read_text(inspect_log));
  BOOST_TEST(in["job"] == j);
  BOOST_TEST(in["params"]["fail_every"] == "5");
  std::set<std::string> inspected;
  for (const auto& [k, v] : in.items())
    inspected.insert(k);
  BOOST_TEST((inspected == std::set<std::string>{"job", "params", "tasks", "tasks_with_record"}));
  BOOST_TEST(in["tasks_with_record"] == 2); // the two dead ones: 5 and 10 fail by fail_every
  BOOST_TEST_REQUIRE(in["tasks"].is_array());
  bool seen_dead = false;
  for (const auto& t : in["tasks"]) {
    std::set<std::string> keys;
    for (const auto& [k, v] : t.items())
      keys.insert(k);
    BOOST_TEST((keys == std::set<std::string>{"index", "state", "failures", "due_ms", "error",
                                              "checkpoint"}),
               t.dump());
    if (t["index"] == 5) {
      seen_dead = true;
      BOOST_TEST(t["state"] == "dead", t.dump());
      BOOST_TEST(t["failures"] == 1, t.dump()); // a permanent failure: one attempt
      BOOST_TEST(t["error"].get<std::string>().find("fails by fail_every") != std::string::npos);
    }
  }
  BOOST_TEST(seen_dead, in.dump());
}
