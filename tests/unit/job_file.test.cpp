#include "runtime/job_file.hpp"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "tests/unit/temp_dir.hpp"
#include "tests/unit/test_util.hpp"

// Every expected value below is a literal taken from docs/job-file.md or worked out by hand
// (line and column numbers are 1-based and were counted in the literal texts). Comments marked
// SURPRISING pin current behaviour that is undocumented, contradicts docs/job-file.md, or looks
// like a bug; a fix of the parser should change the test with it.

using namespace haul;

namespace {

const std::string etc_jobs = "/etc/haul/jobs.toml";
const std::string a_job = "[[job]]\nname = \"a\"\nkind = \"noop\"\n";

job_file parse_ok(const std::string& text, const std::string& path = etc_jobs) {
  auto r = parse_job_file(text, path);
  BOOST_TEST_REQUIRE(r.has_value(), "unexpected failure: " << test::why(r));
  return std::move(r).value();
}

/// The error message of a text that must fail; every failure is invalid_argument.
std::string parse_error(const std::string& text, const std::string& path = "jobs.toml") {
  auto r = parse_job_file(text, path);
  BOOST_TEST_REQUIRE(!r.has_value(), "the text was accepted:\n" << text);
  BOOST_TEST((r.error().code == errc::invalid_argument));
  return r.error().message;
}

/// The job's params as "key=value" lines, so that a whole map compares (and prints) at once.
std::string dump(const job_params& params) {
  std::string out;
  for (const auto& [k, v] : params)
    out += k + "=" + v + "\n";
  return out;
}

/// The only job of a file that must parse.
job_spec only_job(const std::string& text, const std::string& path = etc_jobs) {
  auto f = parse_ok(text, path);
  BOOST_TEST_REQUIRE(f.jobs.size() == 1u);
  return f.jobs[0];
}

} // namespace

BOOST_AUTO_TEST_SUITE(job_file_tests)

// --- [runtime] ---------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(without_a_runtime_table_every_runtime_key_has_its_documented_default) {
  auto f = parse_ok(a_job);
  BOOST_TEST(f.path == etc_jobs);
  BOOST_TEST(f.runtime.store == ".haul");
  BOOST_TEST(!f.store_set);
  BOOST_TEST(f.runtime.parallelism == 64u);
  BOOST_TEST((f.runtime.sync == sync_mode::batch));
  BOOST_TEST(f.runtime.retry.max_attempts == 5u);
  BOOST_TEST(f.runtime.retry.initial_backoff.count() == 250);
  BOOST_TEST(f.runtime.retry.backoff_base == 2.0);
  BOOST_TEST(f.runtime.retry.max_backoff.count() == 30'000);
  BOOST_TEST(f.runtime.task_timeout.count() == 300'000);
  BOOST_TEST(f.runtime.retention.count() == 86'400'000);
  BOOST_TEST(f.runtime.report_interval.count() == 60'000);
  BOOST_TEST(f.runtime.shutdown_grace.count() == 10'000);
  BOOST_TEST(f.runtime.scheduler_threads == 0u);
  BOOST_TEST((f.log_level == log::level::info));
  BOOST_TEST((f.log_format == log::format::text));
}

BOOST_AUTO_TEST_CASE(an_empty_runtime_table_keeps_every_default) {
  auto f = parse_ok("[runtime]\n" + a_job);
  BOOST_TEST(f.runtime.store == ".haul");
  BOOST_TEST(!f.store_set);
  BOOST_TEST(f.runtime.parallelism == 64u);
  BOOST_TEST((f.runtime.sync == sync_mode::batch));
  BOOST_TEST(f.runtime.retry.max_attempts == 5u);
  BOOST_TEST(f.runtime.task_timeout.count() == 300'000);
  BOOST_TEST((f.log_level == log::level::info));
  BOOST_TEST((f.log_format == log::format::text));
}

BOOST_AUTO_TEST_CASE(every_runtime_key_is_read) {
  auto f = parse_ok(R"([runtime]
store = "/var/lib/haul"
parallelism = 8
sync = "always"
max_attempts = 7
initial_backoff = "100ms"
backoff_base = 1.5
max_backoff = "2m"
task_timeout = "90s"
retention = "7d"
report_interval = "15s"
shutdown_grace = "3s"
threads = 4
log_level = "debug"
log_format = "json"
)" + a_job);
  BOOST_TEST(f.runtime.store == "/var/lib/haul");
  BOOST_TEST(f.store_set);
  BOOST_TEST(f.runtime.parallelism == 8u);
  BOOST_TEST((f.runtime.sync == sync_mode::always));
  BOOST_TEST(f.runtime.retry.max_attempts == 7u);
  BOOST_TEST(f.runtime.retry.initial_backoff.count() == 100);
  BOOST_TEST(f.runtime.retry.backoff_base == 1.5);
  BOOST_TEST(f.runtime.retry.max_backoff.count() == 120'000);
  BOOST_TEST(f.runtime.task_timeout.count() == 90'000);
  BOOST_TEST(f.runtime.retention.count() == 604'800'000);
  BOOST_TEST(f.runtime.report_interval.count() == 15'000);
  BOOST_TEST(f.runtime.shutdown_grace.count() == 3'000);
  BOOST_TEST(f.runtime.scheduler_threads == 4u);
  BOOST_TEST((f.log_level == log::level::debug));
  BOOST_TEST((f.log_format == log::format::json));
}

BOOST_AUTO_TEST_CASE(the_runtime_table_may_follow_the_jobs) {
  auto f = parse_ok(a_job + "\n[runtime]\nparallelism = 3\n");
  BOOST_TEST(f.runtime.parallelism == 3u);
  BOOST_TEST(f.jobs.size() == 1u);
}

BOOST_AUTO_TEST_CASE(integer_runtime_keys_accept_their_bounds) {
  auto f = parse_ok("[runtime]\nparallelism = 0\nthreads = 256\nmax_attempts = 1\n" + a_job);
  BOOST_TEST(f.runtime.parallelism == 0u);
  BOOST_TEST(f.runtime.scheduler_threads == 256u);
  BOOST_TEST(f.runtime.retry.max_attempts == 1u);
  f = parse_ok("[runtime]\nparallelism = 1000000\nmax_attempts = 1000000\n" + a_job);
  BOOST_TEST(f.runtime.parallelism == 1'000'000u);
  BOOST_TEST(f.runtime.retry.max_attempts == 1'000'000u);
}

BOOST_AUTO_TEST_CASE(backoff_base_accepts_an_integer_and_exactly_one) {
  BOOST_TEST(parse_ok("[runtime]\nbackoff_base = 3\n" + a_job).runtime.retry.backoff_base == 3.0);
  BOOST_TEST(parse_ok("[runtime]\nbackoff_base = 1.0\n" + a_job).runtime.retry.backoff_base == 1.0);
}

BOOST_AUTO_TEST_CASE(every_sync_mode_is_recognised) {
  const std::vector<std::pair<std::string, sync_mode>> cases = {
      {"batch", sync_mode::batch}, {"always", sync_mode::always}, {"off", sync_mode::off}};
  for (const auto& [text, mode] : cases) {
    BOOST_TEST_CONTEXT("sync = " << text) {
      auto f = parse_ok("[runtime]\nsync = \"" + text + "\"\n" + a_job);
      BOOST_TEST((f.runtime.sync == mode));
    }
  }
}

BOOST_AUTO_TEST_CASE(every_log_level_and_format_is_recognised) {
  const std::vector<std::pair<std::string, log::level>> levels = {{"debug", log::level::debug},
                                                                  {"info", log::level::info},
                                                                  {"warn", log::level::warn},
                                                                  {"error", log::level::error}};
  for (const auto& [text, lvl] : levels) {
    BOOST_TEST_CONTEXT("log_level = " << text) {
      auto f = parse_ok("[runtime]\nlog_level = \"" + text + "\"\n" + a_job);
      BOOST_TEST((f.log_level == lvl));
    }
  }
  BOOST_TEST(
      (parse_ok("[runtime]\nlog_format = \"text\"\n" + a_job).log_format == log::format::text));
  BOOST_TEST(
      (parse_ok("[runtime]\nlog_format = \"json\"\n" + a_job).log_format == log::format::json));
}

BOOST_AUTO_TEST_CASE(enumerated_runtime_values_are_case_sensitive) {
  BOOST_TEST(parse_error("[runtime]\nsync = \"Batch\"\n" + a_job) ==
             R"(jobs.toml:2:8: runtime.sync: expected "batch", "always" or "off", found "Batch")");
  BOOST_TEST(
      parse_error("[runtime]\nlog_level = \"INFO\"\n" + a_job) ==
      R"(jobs.toml:2:13: runtime.log_level: expected "debug", "info", "warn" or "error", found "INFO")");
  BOOST_TEST(parse_error("[runtime]\nlog_format = \"JSON\"\n" + a_job) ==
             R"(jobs.toml:2:14: runtime.log_format: expected "text" or "json", found "JSON")");
}

BOOST_AUTO_TEST_CASE(enumerated_runtime_values_that_are_not_strings_name_the_type_found) {
  BOOST_TEST(
      parse_error("[runtime]\nsync = true\n" + a_job) ==
      R"(jobs.toml:2:8: runtime.sync: expected "batch", "always" or "off", found a boolean)");
  BOOST_TEST(
      parse_error("[runtime]\nlog_level = 3\n" + a_job) ==
      R"(jobs.toml:2:13: runtime.log_level: expected "debug", "info", "warn" or "error", found an integer)");
  BOOST_TEST(parse_error("[runtime]\nlog_format = [\"json\"]\n" + a_job) ==
             R"(jobs.toml:2:14: runtime.log_format: expected "text" or "json", found an array)");
}

// --- durations ----------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(durations_take_every_documented_unit_and_fractions) {
  const std::vector<std::pair<std::string, std::int64_t>> cases = {
      {"250ms", 250},      {"30s", 30'000},       {"5m", 300'000},
      {"2h", 7'200'000},   {"1d", 86'400'000},    {"24h", 86'400'000},
      {"1.5s", 1'500},     {"0.5m", 30'000},      {"0s", 0},
      {"0ms", 0},          {"90s", 90'000},       {"1000ms", 1'000},
      {"2.5h", 9'000'000}, {"0.25d", 21'600'000},
  };
  for (const auto& [text, ms] : cases) {
    BOOST_TEST_CONTEXT("task_timeout = " << text) {
      auto f = parse_ok("[runtime]\ntask_timeout = \"" + text + "\"\n" + a_job);
      BOOST_TEST(f.runtime.task_timeout.count() == ms);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_duration_without_a_known_unit_is_reported_with_its_text) {
  // Line 2 is `task_timeout = "..."`: the value starts at column 16.
  const std::vector<std::string> bad = {"30", "30 s", "-5s", " 5m",   "5M",          "1w",
                                        "",   "s",    "5 m", "1e3ms", "five minutes"};
  for (const auto& text : bad) {
    BOOST_TEST_CONTEXT("task_timeout = \"" << text << "\"") {
      BOOST_TEST(parse_error("[runtime]\ntask_timeout = \"" + text + "\"\n" + a_job) ==
                 "jobs.toml:2:16: runtime.task_timeout: expected a duration such as \"250ms\", "
                 "\"30s\", \"5m\", \"24h\", found \"" +
                     text + "\"");
    }
  }
}

BOOST_AUTO_TEST_CASE(a_duration_that_is_not_a_string_is_a_type_error) {
  BOOST_TEST(parse_error("[runtime]\nretention = 30\n" + a_job) ==
             "jobs.toml:2:13: runtime.retention: expected a duration string such as \"250ms\", "
             "\"30s\", \"5m\", found an integer");
  BOOST_TEST(parse_error("[runtime]\nshutdown_grace = 1.5\n" + a_job) ==
             "jobs.toml:2:18: runtime.shutdown_grace: expected a duration string such as "
             "\"250ms\", \"30s\", \"5m\", found a number");
}

BOOST_AUTO_TEST_CASE(a_zero_report_interval_becomes_one_millisecond) {
  // As docs/job-file.md says: a report every 0 ms would be a busy loop; every other duration
  // keeps 0.
  auto f = parse_ok("[runtime]\nreport_interval = \"0s\"\nshutdown_grace = \"0s\"\n" + a_job);
  BOOST_TEST(f.runtime.report_interval.count() == 1);
  BOOST_TEST(f.runtime.shutdown_grace.count() == 0);
}

// --- [[job]] ------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_job_with_only_name_and_kind_leaves_the_rest_unset) {
  auto j = only_job(a_job);
  BOOST_TEST(j.name == "a");
  BOOST_TEST(j.kind == "noop");
  BOOST_TEST(j.tasks == 0u);
  BOOST_TEST(!j.parallelism.has_value());
  BOOST_TEST(!j.retry.has_value());
  BOOST_TEST(!j.task_timeout.has_value());
  BOOST_TEST(!j.fingerprint.has_value());
  BOOST_TEST(j.params.empty());
}

BOOST_AUTO_TEST_CASE(every_common_job_key_is_read) {
  auto j = only_job(R"([[job]]
name = "thumbs.v2_x-1"
kind = "thumbnail"
tasks = 5000
parallelism = 16
max_attempts = 3
initial_backoff = "1s"
backoff_base = 3
max_backoff = "1m"
task_timeout = "45s"
fingerprint = "build-1234"
)");
  BOOST_TEST(j.name == "thumbs.v2_x-1");
  BOOST_TEST(j.kind == "thumbnail");
  BOOST_TEST(j.tasks == 5000u);
  BOOST_TEST_REQUIRE(j.parallelism.has_value());
  BOOST_TEST(*j.parallelism == 16u);
  BOOST_TEST_REQUIRE(j.retry.has_value());
  BOOST_TEST(j.retry->max_attempts == 3u);
  BOOST_TEST(j.retry->initial_backoff.count() == 1'000);
  BOOST_TEST(j.retry->backoff_base == 3.0);
  BOOST_TEST(j.retry->max_backoff.count() == 60'000);
  BOOST_TEST_REQUIRE(j.task_timeout.has_value());
  BOOST_TEST(j.task_timeout->count() == 45'000);
  BOOST_TEST_REQUIRE(j.fingerprint.has_value());
  BOOST_TEST(*j.fingerprint == "build-1234");
  BOOST_TEST(dump(j.params) == ""); // common keys never become params
}

BOOST_AUTO_TEST_CASE(a_job_parallelism_of_zero_is_kept) {
  auto j = only_job(a_job + "parallelism = 0\n");
  BOOST_TEST_REQUIRE(j.parallelism.has_value());
  BOOST_TEST(*j.parallelism == 0u);
}

BOOST_AUTO_TEST_CASE(a_partial_job_retry_policy_takes_the_rest_from_the_runtime) {
  // The [runtime] table comes last on purpose: it is read first whatever its place.
  auto f = parse_ok(a_job + R"(max_backoff = "10m"

[[job]]
name = "b"
kind = "noop"

[runtime]
max_attempts = 9
initial_backoff = "2s"
backoff_base = 4
max_backoff = "5m"
)");
  BOOST_TEST_REQUIRE(f.jobs.size() == 2u);
  BOOST_TEST_REQUIRE(f.jobs[0].retry.has_value());
  BOOST_TEST(f.jobs[0].retry->max_attempts == 9u);
  BOOST_TEST(f.jobs[0].retry->initial_backoff.count() == 2'000);
  BOOST_TEST(f.jobs[0].retry->backoff_base == 4.0);
  BOOST_TEST(f.jobs[0].retry->max_backoff.count() == 600'000);
  BOOST_TEST(!f.jobs[1].retry.has_value()); // no retry key: the runtime's policy applies later
}

BOOST_AUTO_TEST_CASE(jobs_keep_their_file_order) {
  auto f = parse_ok(a_job + "\n[[job]]\nname = \"b\"\nkind = \"upload\"\n\n[[job]]\nname = "
                            "\"c\"\nkind = \"noop\"\ntasks = 2\n");
  BOOST_TEST_REQUIRE(f.jobs.size() == 3u);
  BOOST_TEST(f.jobs[0].name == "a");
  BOOST_TEST(f.jobs[1].name == "b");
  BOOST_TEST(f.jobs[1].kind == "upload");
  BOOST_TEST(f.jobs[2].name == "c");
  BOOST_TEST(f.jobs[2].tasks == 2u);
}

BOOST_AUTO_TEST_CASE(a_job_name_of_up_to_100_characters_is_accepted) {
  const std::string name(100, 'n');
  auto j = only_job("[[job]]\nname = \"" + name + "\"\nkind = \"noop\"\n");
  BOOST_TEST(j.name == name);
}

BOOST_AUTO_TEST_CASE(invalid_job_names_are_reported_at_the_name) {
  BOOST_TEST(parse_error("[[job]]\nname = \"\"\nkind = \"noop\"\n") ==
             "jobs.toml:2:8: job[0].name: a job name must not be empty");
  BOOST_TEST(parse_error("[[job]]\nname = \"" + std::string(101, 'n') + "\"\nkind = \"noop\"\n") ==
             "jobs.toml:2:8: job[0].name: a job name must be at most 100 characters");
  BOOST_TEST(parse_error("[[job]]\nname = \"a/b\"\nkind = \"noop\"\n") ==
             "jobs.toml:2:8: job[0].name: a job name may use letters, digits, '-', '_' and '.' "
             "only, found '/'");
}

BOOST_AUTO_TEST_CASE(job_keys_of_the_wrong_type_or_range_are_reported) {
  // Lines: 1 [[job]], 2 name, 3 kind, 4 tasks, 5 parallelism, 6 max_attempts,
  // 7 backoff_base, 8 task_timeout, 9 fingerprint.
  BOOST_TEST(parse_error(R"([[job]]
name = 5
kind = true
tasks = -1
parallelism = 1000001
max_attempts = 1.5
backoff_base = "2"
task_timeout = "soon"
fingerprint = 7
)") == "jobs.toml:2:8: job[0].name: expected a string, found an integer\n"
       "jobs.toml:3:8: job[0].kind: expected a string, found a boolean\n"
       "jobs.toml:4:9: job[0].tasks: expected an integer of at least 0, found -1\n"
       "jobs.toml:5:15: job[0].parallelism: expected an integer from 0 to "
       "1000000, found 1000001\n"
       "jobs.toml:6:16: job[0].max_attempts: expected an integer, found a number\n"
       "jobs.toml:7:16: job[0].backoff_base: expected a number, found a string\n"
       "jobs.toml:8:16: job[0].task_timeout: expected a duration such as "
       "\"250ms\", \"30s\", \"5m\", \"24h\", found \"soon\"\n"
       "jobs.toml:9:15: job[0].fingerprint: expected a string, found an integer");
}

BOOST_AUTO_TEST_CASE(an_inconsistent_job_retry_policy_is_reported_at_the_key_the_job_sets) {
  // initial_backoff 1m against the runtime's default max_backoff of 30s.
  BOOST_TEST(parse_error("\n" + a_job + "initial_backoff = \"1m\"\n") ==
             "jobs.toml:5:19: job[0].initial_backoff: expected at most max_backoff (\"30s\"), "
             "found \"1m\"");
  // max_backoff 2s against the runtime's initial_backoff of 5s, printed in its largest unit.
  BOOST_TEST(parse_error("[runtime]\ninitial_backoff = \"5000ms\"\nmax_backoff = \"1h\"\n" + a_job +
                         "max_backoff = \"2s\"\n") ==
             "jobs.toml:7:15: job[0].max_backoff: expected at least initial_backoff (\"5s\"), "
             "found \"2s\"");
  // A key that failed on its own is not compared with the others as well.
  BOOST_TEST(parse_error(a_job + "initial_backoff = \"1m\"\nmax_backoff = \"soon\"\n") ==
             "jobs.toml:5:15: job[0].max_backoff: expected a duration such as \"250ms\", "
             "\"30s\", \"5m\", \"24h\", found \"soon\"");
  BOOST_TEST(parse_error(a_job + "max_attempts = 0\n") ==
             "jobs.toml:4:16: job[0].max_attempts: expected an integer from 1 to 1000000, found 0");
}

// --- kind parameters ----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(other_scalar_keys_become_params_as_text) {
  auto j = only_job(R"([[job]]
name = "a"
kind = "upload"
target = "http://127.0.0.1:8080/cache/"
content_type = ""
sleep_ms = 250
negative = -3
hex = 0x1F
skip_existing = true
path_style = false
ratio = 0.25
small = 1e-3
multipart_threshold = "64MiB"
)");
  BOOST_TEST(dump(j.params) == "content_type=\n"
                               "hex=31\n"
                               "multipart_threshold=64MiB\n"
                               "negative=-3\n"
                               "path_style=false\n"
                               "ratio=0.25\n"
                               "skip_existing=true\n"
                               "sleep_ms=250\n"
                               "small=0.001\n"
                               "target=http://127.0.0.1:8080/cache/\n");
}

BOOST_AUTO_TEST_CASE(float_params_keep_every_digit_in_their_shortest_form) {
  auto j = only_job(a_job + "whole = 2.0\nbig = 1234567.0\npi = 3.14159265\nhuge = 1e20\n");
  BOOST_TEST(dump(j.params) == "big=1234567\n"
                               "huge=1e+20\n"
                               "pi=3.14159265\n"
                               "whole=2\n");
}

BOOST_AUTO_TEST_CASE(date_and_time_params_are_refused) {
  auto e = parse_error(a_job + "when = 1979-05-27\nat = 07:32:00\n");
  BOOST_TEST(e == "jobs.toml:5:6: job[0].at: expected a string, number or boolean, found a date "
                  "or time\n"
                  "jobs.toml:4:8: job[0].when: expected a string, number or boolean, found a "
                  "date or time");
}

BOOST_AUTO_TEST_CASE(a_misspelt_common_key_becomes_a_param) {
  // Inside [[job]] a typo of a common key is a kind parameter: a kind registered by an
  // embedder may take any key. The built-in kinds reject it, suggesting the common key
  // (tests/unit/kind_messages.test.cpp).
  auto j = only_job(a_job + "paralelism = 4\n");
  BOOST_TEST(!j.parallelism.has_value());
  BOOST_TEST(dump(j.params) == "paralelism=4\n");
}

BOOST_AUTO_TEST_CASE(one_level_of_sub_tables_is_flattened_into_dotted_params) {
  auto j = only_job(R"([[job]]
name = "backups"
kind = "upload"
target = "s3://bucket/prefix/"
[job.s3]
endpoint = "https://ACCOUNT.r2.cloudflarestorage.com"
region = "auto"
path_style = true
[job.headers]
Cache-Control = "max-age=60"
X-Count = 3
)");
  BOOST_TEST(j.name == "backups");
  BOOST_TEST(dump(j.params) == "headers.Cache-Control=max-age=60\n"
                               "headers.X-Count=3\n"
                               "s3.endpoint=https://ACCOUNT.r2.cloudflarestorage.com\n"
                               "s3.path_style=true\n"
                               "s3.region=auto\n"
                               "target=s3://bucket/prefix/\n");
}

BOOST_AUTO_TEST_CASE(dotted_keys_and_inline_tables_are_flattened_the_same_way) {
  auto j = only_job(a_job + "s3.region = \"auto\"\nheaders = { Accept = \"*/*\", X-N = 1 }\n");
  BOOST_TEST(dump(j.params) == "headers.Accept=*/*\nheaders.X-N=1\ns3.region=auto\n");
}

BOOST_AUTO_TEST_CASE(an_empty_sub_table_gives_no_params) {
  auto j = only_job(a_job + "[job.headers]\n");
  BOOST_TEST(dump(j.params) == "");
}

BOOST_AUTO_TEST_CASE(a_sub_sub_table_is_an_error) {
  // Lines: 1 [[job]], 2 name, 3 kind, 4 [job.s3.extra], 5 x = 1.
  BOOST_TEST(parse_error(a_job + "[job.s3.extra]\nx = 1\n") ==
             "jobs.toml:4:1: job[0].s3.extra: expected a string, number or boolean, found a "
             "table");
}

BOOST_AUTO_TEST_CASE(an_array_is_an_error_at_either_level) {
  BOOST_TEST(parse_error(a_job + "tags = [\"a\", \"b\"]\n") ==
             "jobs.toml:4:8: job[0].tags: expected a string, number or boolean, found an array");
  BOOST_TEST(parse_error(a_job + "[job.headers]\nAccept = [\"a\"]\n") ==
             "jobs.toml:5:10: job[0].headers.Accept: expected a string, number or boolean, found "
             "an array");
}

BOOST_AUTO_TEST_CASE(a_quoted_dotted_key_and_a_sub_table_key_are_the_same_param_set_twice) {
  // "s3.region" (one quoted key) and [job.s3] region both are param "s3.region": reported at
  // the quoted one, which toml++ orders after the sub-table "s3".
  BOOST_TEST(parse_error(a_job + "\"s3.region\" = \"flat\"\n[job.s3]\nregion = \"nested\"\n") ==
             "jobs.toml:4:15: job[0].s3.region: set twice, as a quoted dotted key and in a "
             "sub-table; keep one");
}

// --- paths --------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(relative_path_params_are_resolved_against_the_job_file_directory) {
  auto j = only_job(a_job + "source = \"dist\"\nmanifest = \"../x\"\n");
  BOOST_TEST(dump(j.params) == "manifest=/etc/x\nsource=/etc/haul/dist\n");
}

BOOST_AUTO_TEST_CASE(absolute_path_params_are_left_exactly_as_written) {
  // Absolute paths are not normalised either.
  auto j = only_job(a_job + "source = \"/srv/data\"\nmanifest = \"/srv//m/../entries.jsonl\"\n");
  BOOST_TEST(dump(j.params) == "manifest=/srv//m/../entries.jsonl\nsource=/srv/data\n");
}

BOOST_AUTO_TEST_CASE(only_the_two_path_keys_at_the_top_of_the_job_are_resolved) {
  // source and manifest are the only local paths of the built-in kinds (an export's file://
  // target is absolute). witness (the noop kind's PATH) and the same names inside a sub-table
  // stay as written; an empty or non-string path value is not touched either.
  auto j = only_job(a_job + "target = \"dist\"\nwitness = \"w.bin\"\nsource = \"\"\nmanifest = 5\n"
                            "database = \"db\"\n[job.s3]\nsource = \"dist\"\n");
  BOOST_TEST(dump(j.params) == "database=db\n"
                               "manifest=5\n"
                               "s3.source=dist\n"
                               "source=\n"
                               "target=dist\n"
                               "witness=w.bin\n");
}

BOOST_AUTO_TEST_CASE(the_runtime_store_is_resolved_like_a_path_param) {
  auto f = parse_ok("[runtime]\nstore = \"state/../.haul\"\n" + a_job);
  BOOST_TEST(f.runtime.store == "/etc/haul/.haul");
  BOOST_TEST(f.store_set);
  f = parse_ok("[runtime]\nstore = \"/var/lib/haul\"\n" + a_job);
  BOOST_TEST(f.runtime.store == "/var/lib/haul");
  f = parse_ok("[runtime]\nstore = \"\"\n" + a_job);
  BOOST_TEST(f.runtime.store == "");
  BOOST_TEST(f.store_set);
}

BOOST_AUTO_TEST_CASE(the_default_store_is_not_resolved) {
  // SURPRISING: the default ".haul" stays relative (to the working directory), unlike a
  // written store = ".haul", which is relative to the job file; docs/job-file.md gives ".haul"
  // as the default and says relative paths in a job file follow the file, so leaving the key
  // out changes which store `haul run` uses depending on where it is started.
  BOOST_TEST(parse_ok(a_job).runtime.store == ".haul");
  BOOST_TEST(parse_ok("[runtime]\nstore = \".haul\"\n" + a_job).runtime.store == "/etc/haul/.haul");
}

BOOST_AUTO_TEST_CASE(a_relative_job_file_path_is_taken_from_the_working_directory) {
  auto j = only_job(a_job + "source = \"dist\"\n", "conf/jobs.toml");
  BOOST_TEST(j.params.at("source") == (std::filesystem::current_path() / "conf" / "dist").string());
  // Without a path there is no directory to resolve against.
  j = only_job(a_job + "source = \"dist\"\n", "");
  BOOST_TEST(j.params.at("source") == "dist");
}

// --- errors -------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(every_problem_is_reported_at_once_with_file_line_and_column) {
  const std::string text = R"([runtime]
store = 5
parallelism = 1000001
sync = "fast"
max_attempts = 0
backoff_base = 0.5
task_timeout = 30
threads = 257
log_level = "verbose"
log_format = "xml"
retension = "7d"

[[job]]
kind = "noop"

[[job]]
name = "bad name"
kind = "noop"

[[job]]
name = "dup"
kind = "noop"

[[job]]
name = "dup"
tasks = "many"
)";
  BOOST_TEST(
      parse_error(text) ==
      "jobs.toml:2:9: runtime.store: expected a string, found an integer\n"
      "jobs.toml:3:15: runtime.parallelism: expected an integer from 0 to 1000000, found 1000001\n"
      "jobs.toml:4:8: runtime.sync: expected \"batch\", \"always\" or \"off\", found \"fast\"\n"
      "jobs.toml:5:16: runtime.max_attempts: expected an integer from 1 to 1000000, found 0\n"
      "jobs.toml:6:16: runtime.backoff_base: expected a finite number of at least 1, found 0.5\n"
      "jobs.toml:7:16: runtime.task_timeout: expected a duration string such as \"250ms\", "
      "\"30s\", \"5m\", found an integer\n"
      "jobs.toml:8:11: runtime.threads: expected an integer from 0 to 256, found 257\n"
      "jobs.toml:9:13: runtime.log_level: expected \"debug\", \"info\", \"warn\" or \"error\", "
      "found \"verbose\"\n"
      "jobs.toml:10:14: runtime.log_format: expected \"text\" or \"json\", found \"xml\"\n"
      "jobs.toml:11:13: runtime: unknown key 'retension' (did you mean 'retention'?)\n"
      "jobs.toml:13:1: job[0]: missing key 'name'\n"
      "jobs.toml:17:8: job[1].name: a job name may use letters, digits, '-', '_' and '.' only, "
      "found ' '\n"
      "jobs.toml:25:8: job[3].name: job name 'dup' is used twice; names must be unique\n"
      "jobs.toml:24:1: job[3]: missing key 'kind'\n"
      "jobs.toml:26:9: job[3].tasks: expected an integer, found a string");
}

BOOST_AUTO_TEST_CASE(problems_are_listed_in_reading_order_not_line_order) {
  // SURPRISING (minor): problems in [runtime] come in the order the parser reads the keys,
  // unknown keys last, not in line order.
  BOOST_TEST(parse_error("[runtime]\nthreads = -1\nstor = 1\nparallelism = -1\n" + a_job) ==
             "jobs.toml:4:15: runtime.parallelism: expected an integer from 0 to 1000000, found "
             "-1\n"
             "jobs.toml:2:11: runtime.threads: expected an integer from 0 to 256, found -1\n"
             "jobs.toml:3:8: runtime: unknown key 'stor' (did you mean 'store'?)");
}

BOOST_AUTO_TEST_CASE(an_unknown_runtime_key_far_from_every_key_gets_no_suggestion) {
  // Like every problem of a key, an unknown key is placed at its value (column 10), as the
  // kinds' problems are.
  BOOST_TEST(parse_error("[runtime]\ncolour = \"red\"\n" + a_job) ==
             "jobs.toml:2:10: runtime: unknown key 'colour'");
}

BOOST_AUTO_TEST_CASE(an_inconsistent_runtime_retry_policy_is_reported_at_the_key_it_sets) {
  BOOST_TEST(parse_error(a_job + "\n[runtime]\ninitial_backoff = \"1m\"\n") ==
             "jobs.toml:6:19: runtime.initial_backoff: expected at most max_backoff (\"30s\"), "
             "found \"1m\"");
  BOOST_TEST(parse_error("[runtime]\nmax_backoff = \"100ms\"\n" + a_job) ==
             "jobs.toml:2:15: runtime.max_backoff: expected at least initial_backoff "
             "(\"250ms\"), found \"100ms\"");
  // The job inherits both: the problem is [runtime]'s alone, reported once.
  BOOST_TEST(parse_error("[runtime]\nmax_backoff = \"100ms\"\n" + a_job + "max_attempts = 2\n") ==
             "jobs.toml:2:15: runtime.max_backoff: expected at least initial_backoff "
             "(\"250ms\"), found \"100ms\"");
}

BOOST_AUTO_TEST_CASE(backoff_base_must_be_finite) {
  BOOST_TEST(parse_error("[runtime]\nbackoff_base = inf\n" + a_job) ==
             "jobs.toml:2:16: runtime.backoff_base: expected a finite number of at least 1, "
             "found inf");
}

BOOST_AUTO_TEST_CASE(unknown_top_level_keys_are_reported_with_a_suggestion) {
  // The top level has no table name to put before the key.
  BOOST_TEST(parse_error("colour = \"red\"\n" + a_job) == "jobs.toml:1:10: unknown key 'colour'");
  BOOST_TEST(parse_error("[runtim]\nparallelism = 4\n\n" + a_job) ==
             "jobs.toml:1:1: unknown key 'runtim' (did you mean 'runtime'?)");
  BOOST_TEST(parse_error("[servr]\n" + a_job) ==
             "jobs.toml:1:1: unknown key 'servr' (did you mean 'server'?)");
}

BOOST_AUTO_TEST_CASE(runtime_and_job_of_the_wrong_shape_are_reported) {
  BOOST_TEST(parse_error("runtime = 5\n" + a_job) ==
             "jobs.toml:1:11: runtime: expected a table ([runtime]), found an integer");
  BOOST_TEST(parse_error("job = 5\n") ==
             "jobs.toml:1:7: job: expected an array of tables ([[job]]), found an integer");
  BOOST_TEST(parse_error("[job]\nname = \"a\"\nkind = \"noop\"\n") ==
             "jobs.toml:1:1: job: expected an array of tables ([[job]]), found a table");
  BOOST_TEST(parse_error("job = [1, { name = \"a\", kind = \"noop\" }]\n") ==
             "jobs.toml:1:8: job[0]: expected a table, found an integer");
  BOOST_TEST(parse_error("server = \"x\"\n" + a_job) ==
             "jobs.toml:1:10: server: expected a table ([server]), found a string");
}

BOOST_AUTO_TEST_CASE(a_file_without_jobs_is_refused) {
  BOOST_TEST(parse_error("") == "jobs.toml: no [[job]] entries: nothing to run");
  BOOST_TEST(parse_error("[runtime]\nparallelism = 4\n") ==
             "jobs.toml: no [[job]] entries: nothing to run");
  BOOST_TEST(parse_error("job = []\n") == "jobs.toml: no [[job]] entries: nothing to run");
  // Another problem replaces the message rather than joining it.
  BOOST_TEST(parse_error("[runtime]\nthreads = 999\n") ==
             "jobs.toml:2:11: runtime.threads: expected an integer from 0 to 256, found 999");
}

BOOST_AUTO_TEST_CASE(a_toml_syntax_error_is_reported_alone_at_its_position) {
  // The description after "invalid TOML: " is toml++'s own wording, so only its presence is
  // checked. A syntax error stops the parse: the later bad duration is not reported, unlike
  // the docs' "every problem is reported at once" (which holds for valid TOML only).
  // The position is where toml++ gave up: a bare value starting with 'n' is read as `nan`,
  // which fails at its second character (column 9), not at the value's start (column 8).
  auto msg = parse_error("[[job]]\nname = \"a\"\nkind = noop\ntask_timeout = \"soon\"\n");
  const std::string prefix = "jobs.toml:3:9: invalid TOML: ";
  BOOST_TEST(msg.substr(0, prefix.size()) == prefix);
  BOOST_TEST(msg.size() > prefix.size());
  BOOST_TEST(msg.find('\n') == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_redefined_key_is_a_toml_syntax_error) {
  // toml++ locates the redefinition at the second value (column 8), not at the key.
  auto msg = parse_error("[[job]]\nname = \"a\"\nname = \"b\"\nkind = \"noop\"\n");
  const std::string prefix = "jobs.toml:3:8: invalid TOML: ";
  BOOST_TEST(msg.substr(0, prefix.size()) == prefix);
  BOOST_TEST(msg.find('\n') == std::string::npos);
}

// --- load_job_file ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(load_job_file_reads_a_real_file_and_resolves_against_its_directory) {
  test::temp_dir dir;
  const auto file = dir.sub("jobs.toml");
  {
    std::ofstream out(file, std::ios::binary);
    out << "[runtime]\nstore = \"state\"\n\n[[job]]\nname = \"site\"\nkind = \"upload\"\n"
           "source = \"data\"\ntarget = \"http://127.0.0.1:8080/\"\n";
  }
  auto f = load_job_file(file);
  BOOST_TEST_REQUIRE(f.has_value(), test::why(f));
  BOOST_TEST(f->path == file);
  BOOST_TEST(f->runtime.store == dir.path() + "/state");
  BOOST_TEST_REQUIRE(f->jobs.size() == 1u);
  BOOST_TEST(f->jobs[0].name == "site");
  BOOST_TEST(dump(f->jobs[0].params) ==
             "source=" + dir.path() + "/data\ntarget=http://127.0.0.1:8080/\n");

  auto missing = load_job_file(dir.sub("missing.toml"));
  BOOST_TEST_REQUIRE(!missing.has_value());
  BOOST_TEST((missing.error().code == errc::invalid_argument));
  BOOST_TEST(missing.error().message == dir.sub("missing.toml") + ": cannot read the job file");
}

BOOST_AUTO_TEST_SUITE_END()
