// Golden text of every problem the built-in kinds report, as `haul validate` prints it: the
// whole line, FILE:LINE:COLUMN included. Each message the upload, export and noop kinds can
// produce appears here at least once. Line and column numbers were counted by hand in the
// literal texts: a value starts one column after "key = ".

#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "tests/unit/validation_golden.hpp"

using namespace haul;
using haul::test::check_golden;
using haul::test::golden_case;

namespace {

const std::string upload_keys =
    " for kind upload (expected source or manifest, target, multipart_threshold, part_size, "
    "part_concurrency, part_attempts, connect_timeout, stall_timeout, transfer_timeout, "
    "content_type, skip_existing, bearer_token_env, [job.s3], [job.headers] and "
    "[job.headers_env] keys)";
const std::string export_keys =
    " for kind export (expected source, target, compression, compression_level, part_size, "
    "part_attempts, connect_timeout, stall_timeout, transfer_timeout and [job.s3] keys)";
const std::string noop_keys =
    " for kind noop (expected sleep_ms, fail_first, fail_every, ignore_stop, witness)";
const std::string not_a_name =
    "expected the name of an environment variable (letters, digits and '_'), found other text; "
    "the secret goes in that variable, never in the job file";

// Lines 1-3.
const std::string up_job = "[[job]]\nname = \"up\"\nkind = \"upload\"\n";
// Lines 1-5; a case's first line is line 6.
const std::string up_http = up_job + "source = \"/d\"\ntarget = \"http://h/\"\n";
// Lines 1-7; a case's first line is line 8.
const std::string up_s3 = up_job + "source = \"/d\"\ntarget = \"s3://b/p/\"\n"
                                   "s3.access_key_env = \"HAUL_GOLDEN_KEY\"\n"
                                   "s3.secret_key_env = \"HAUL_GOLDEN_SECRET\"\n";
// Lines 1-3.
const std::string ex_job = "[[job]]\nname = \"nightly\"\nkind = \"export\"\n";
// Lines 1-5; a case's first line is line 6.
const std::string ex_file = ex_job + "source = \"/app.db\"\ntarget = \"file:///tmp/x.sql\"\n";
// Lines 1-7; a case's first line is line 8.
const std::string ex_s3 = ex_job + "source = \"/app.db\"\ntarget = \"s3://b/k.sql\"\n"
                                   "s3.access_key_env = \"HAUL_GOLDEN_KEY\"\n"
                                   "s3.secret_key_env = \"HAUL_GOLDEN_SECRET\"\n";
// Lines 1-3.
const std::string noop_job = "[[job]]\nname = \"n\"\nkind = \"noop\"\n";

struct golden_env {
  golden_env() { test::set_golden_env(); }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(kind_messages, golden_env)

BOOST_AUTO_TEST_CASE(valid_jobs_of_every_kind_have_no_problems) {
  check_golden(up_http, {{"", {}}});
  check_golden(up_s3, {{"s3.region = \"auto\"\ns3.path_style = true\n", {}}});
  check_golden(ex_file, {{"compression = \"zstd\"\ncompression_level = 19\n", {}}});
  check_golden(ex_s3, {{"", {}}});
  check_golden(noop_job, {{"sleep_ms = 5\nwitness = \"w.bin\"\n", {}}});
}

BOOST_AUTO_TEST_CASE(upload_unknown_keys_suggest_the_nearest_key_of_the_kind_or_job) {
  check_golden(
      up_http,
      {
          {"colour = \"red\"\n", {"jobs.toml:6:10: job up: unknown key 'colour'" + upload_keys}},
          {"part_concurency = 4\n",
           {"jobs.toml:6:19: job up: unknown key 'part_concurency' (did you mean "
            "'part_concurrency'?)" +
            upload_keys}},
          {"paralelism = 4\n",
           {"jobs.toml:6:14: job up: unknown key 'paralelism' (did you mean 'parallelism'?)" +
            upload_keys}},
      });
}

BOOST_AUTO_TEST_CASE(upload_source_and_target) {
  check_golden(up_job,
               {
                   {"target = \"http://h/\"\n",
                    {"jobs.toml:1:1: job up: source, manifest: set exactly one (a directory, or "
                     "a JSONL manifest), found neither"}},
                   {"source = \"/d\"\nmanifest = \"/m\"\ntarget = \"http://h/\"\n",
                    {"jobs.toml:1:1: job up: source, manifest: set exactly one (a directory, or "
                     "a JSONL manifest), found both"}},
                   {"source = \"\"\ntarget = \"http://h/\"\n",
                    {"jobs.toml:4:10: job up: source: expected a directory, found an empty "
                     "string"}},
                   {"manifest = \"\"\ntarget = \"http://h/\"\n",
                    {"jobs.toml:4:12: job up: manifest: expected a JSONL file, found an empty "
                     "string"}},
                   {"source = \"/d\"\n",
                    {"jobs.toml:1:1: job up: target: missing: an http://, https:// or s3:// URL "
                     "to upload to"}},
                   {"source = \"/d\"\ntarget = \"ftp://h/\"\n",
                    {"jobs.toml:5:10: job up: target: expected an http://, https:// or s3:// "
                     "URL, found \"ftp://h/\""}},
                   {"source = \"/d\"\ntarget = \"nowhere\"\n",
                    {"jobs.toml:5:10: job up: target: expected an http://, https:// or s3:// "
                     "URL, found \"nowhere\""}},
               });
}

BOOST_AUTO_TEST_CASE(upload_sizes_counts_durations_and_flags) {
  check_golden(
      up_http,
      {
          {"multipart_threshold = \"1MiB\"\n",
           {"jobs.toml:6:23: job up: multipart_threshold: expected at least 5MiB (S3's smallest "
            "part), found \"1MiB\""}},
          {"multipart_threshold = \"big\"\n",
           {"jobs.toml:6:23: job up: multipart_threshold: expected a size such as \"512\", "
            "\"64KiB\", \"16MiB\", \"1GiB\", found \"big\""}},
          {"part_size = 1024\n",
           {"jobs.toml:6:13: job up: part_size: expected at least 5MiB (S3's smallest part), "
            "found 1024"}},
          {"part_size = \"17179869184GiB\"\n",
           {"jobs.toml:6:13: job up: part_size: expected a size below 16EiB, found "
            "\"17179869184GiB\""}},
          {"part_concurrency = 65\n",
           {"jobs.toml:6:20: job up: part_concurrency: expected an integer from 1 to 64, found "
            "65"}},
          {"part_attempts = \"x\"\n",
           {"jobs.toml:6:17: job up: part_attempts: expected an integer from 1 to 100, found "
            "\"x\""}},
          {"connect_timeout = \"0s\"\n",
           {"jobs.toml:6:19: job up: connect_timeout: expected a positive duration, found "
            "\"0s\""}},
          {"stall_timeout = 30\n",
           {"jobs.toml:6:17: job up: stall_timeout: expected a duration such as \"250ms\", "
            "\"30s\", \"5m\", \"24h\", found 30"}},
          {"transfer_timeout = \"36501d\"\n",
           {"jobs.toml:6:20: job up: transfer_timeout: expected a duration of at most 36500d, "
            "found \"36501d\""}},
          {"skip_existing = \"yes\"\n",
           {"jobs.toml:6:17: job up: skip_existing: expected true or false, found \"yes\""}},
      });
}

BOOST_AUTO_TEST_CASE(upload_headers_content_type_and_bearer_token) {
  check_golden(
      up_http,
      {
          {"[job.headers]\n\"Bad Name\" = \"x\"\n",
           {"jobs.toml:7:14: job up: headers.Bad Name: expected a header name of letters, "
            "digits, '-' and '_', found \"Bad Name\""}},
          {"[job.headers]\nX-A = \"a\\nb\"\n",
           {"jobs.toml:7:7: job up: headers.X-A: expected a value of one line, found a line "
            "break"}},
          {"[job.headers]\nauthorization = \"Basic dXNlcjpwdw==\"\n",
           {"jobs.toml:7:17: job up: headers.authorization: a credential header never takes "
            "its value from the job file: name the environment variable that holds it in "
            "[job.headers_env]"}},
          {"[job.headers_env]\nX-Api-Key = \"HAUL_GOLDEN_UNSET\"\n",
           {"jobs.toml:7:13: job up: headers_env.X-Api-Key: environment variable "
            "HAUL_GOLDEN_UNSET is not set"}},
          {"bearer_token_env = \"HAUL_GOLDEN_KEY\"\n[job.headers_env]\n"
           "Authorization = \"HAUL_GOLDEN_SECRET\"\n",
           {"jobs.toml:8:17: job up: headers_env.Authorization: bearer_token_env sets "
            "Authorization already"}},
          {"[job.headers]\nAccept = \"a\"\n[job.headers_env]\naccept = \"HAUL_GOLDEN_KEY\"\n",
           {"jobs.toml:9:10: job up: headers_env.accept: header accept is set twice "
            "([job.headers] and [job.headers_env] together take one value a name, whatever "
            "its case)"}},
          {"[job.headers_env]\n\"Bad Name\" = \"HAUL_GOLDEN_KEY\"\n",
           {"jobs.toml:7:14: job up: headers_env.Bad Name: expected a header name of letters, "
            "digits, '-' and '_', found \"Bad Name\""}},
          {"content_type = \"text/plain\\r\\nX: y\"\n",
           {"jobs.toml:6:16: job up: content_type: expected a value of one line, found a line "
            "break"}},
          {"bearer_token_env = \"HAUL_GOLDEN_UNSET\"\n",
           {"jobs.toml:6:20: job up: bearer_token_env: environment variable HAUL_GOLDEN_UNSET "
            "is not set"}},
          {"bearer_token_env = \"\"\n",
           {"jobs.toml:6:20: job up: bearer_token_env: expected the name of an environment "
            "variable, found an empty string"}},
          {"bearer_token_env = \"abc/def+ghi\"\n",
           {"jobs.toml:6:20: job up: bearer_token_env: " + not_a_name}},
          {"s3.region = \"auto\"\n",
           {"jobs.toml:6:13: job up: s3.region: S3 settings need an s3:// target, not "
            "http://"}},
      });
  check_golden(up_s3, {{"bearer_token_env = \"HAUL_GOLDEN_KEY\"\n",
                        {"jobs.toml:8:20: job up: bearer_token_env: only for http(s):// targets "
                         "(S3 signs its requests), found an s3:// target"}},
                       {"[job.headers_env]\nAuthorization = \"HAUL_GOLDEN_KEY\"\n",
                        {"jobs.toml:9:17: job up: headers_env.Authorization: S3 requests carry "
                         "their own signed Authorization header"}}});
}

BOOST_AUTO_TEST_CASE(upload_s3_settings) {
  check_golden(
      up_s3,
      {
          {"s3.endpoint = \"ftp://x\"\n",
           {"jobs.toml:8:15: job up: s3.endpoint: expected http(s)://HOST[:PORT] with no path, "
            "found \"ftp://x\""}},
          {"s3.endpoint = \"http://h:9000/path\"\n",
           {"jobs.toml:8:15: job up: s3.endpoint: expected http(s)://HOST[:PORT] with no path, "
            "found \"http://h:9000/path\""}},
          {"s3.region = \"us east\"\n",
           {"jobs.toml:8:13: job up: s3.region: expected a region such as \"us-east-1\" or "
            "\"auto\", found \"us east\""}},
          {"s3.session_token_env = \"HAUL_GOLDEN_UNSET\"\n",
           {"jobs.toml:8:24: job up: s3.session_token_env: environment variable "
            "HAUL_GOLDEN_UNSET is not set"}},
          {"s3.path_style = \"yes\"\n",
           {"jobs.toml:8:17: job up: s3.path_style: expected true or false, found \"yes\""}},
          {"s3.sign_payload = 1\n",
           {"jobs.toml:8:19: job up: s3.sign_payload: expected true or false, found 1"}},
      });
  check_golden(up_job,
               {
                   {"source = \"/d\"\ntarget = \"s3://b/\"\n"
                    "s3.access_key_env = \"HAUL_GOLDEN_UNSET\"\ns3.secret_key_env = \"\"\n",
                    {"jobs.toml:6:21: job up: s3.access_key_env: environment variable "
                     "HAUL_GOLDEN_UNSET is not set",
                     "jobs.toml:7:21: job up: s3.secret_key_env: expected the name of an "
                     "environment variable, found an empty string"}},
                   {"source = \"/d\"\ntarget = \"s3://my.bucket/\"\n"
                    "s3.access_key_env = \"HAUL_GOLDEN_KEY\"\n"
                    "s3.secret_key_env = \"HAUL_GOLDEN_SECRET\"\n",
                    {"jobs.toml:5:10: job up: target: bucket 'my.bucket' has dots, which break "
                     "TLS for virtual-hosted addressing: set s3.path_style = true"}},
               });
}

BOOST_AUTO_TEST_CASE(upload_s3_credentials_default_to_the_aws_variables) {
  test::scoped_env key("AWS_ACCESS_KEY_ID", std::nullopt);
  test::scoped_env secret("AWS_SECRET_ACCESS_KEY", std::nullopt);
  // No key to place them at: the job's table.
  check_golden(up_job, {{"source = \"/d\"\ntarget = \"s3://b/\"\n",
                         {"jobs.toml:1:1: job up: s3.access_key_env: environment variable "
                          "AWS_ACCESS_KEY_ID is not set",
                          "jobs.toml:1:1: job up: s3.secret_key_env: environment variable "
                          "AWS_SECRET_ACCESS_KEY is not set"}}});
}

BOOST_AUTO_TEST_CASE(export_unknown_keys_suggest_keys_of_the_kind_its_s3_table_or_the_job) {
  check_golden(ex_file, {
                            {"colour = \"red\"\n",
                             {"jobs.toml:6:10: job nightly: unknown key 'colour'" + export_keys}},
                            {"part_sise = \"8MiB\"\n",
                             {"jobs.toml:6:13: job nightly: unknown key 'part_sise' (did you "
                              "mean 'part_size'?)" +
                              export_keys}},
                            {"max_attempt = 3\n",
                             {"jobs.toml:6:15: job nightly: unknown key 'max_attempt' (did you "
                              "mean 'max_attempts'?)" +
                              export_keys}},
                        });
  check_golden(ex_s3, {{"s3.regoin = \"auto\"\n",
                        {"jobs.toml:8:13: job nightly: unknown key 's3.regoin' (did you mean "
                         "'s3.region'?)" +
                         export_keys}}});
}

BOOST_AUTO_TEST_CASE(export_source_and_target) {
  check_golden(
      ex_job,
      {
          {"target = \"file:///tmp/x.sql\"\n",
           {"jobs.toml:1:1: job nightly: source: missing: the SQLite database to export"}},
          {"source = \"\"\ntarget = \"file:///tmp/x.sql\"\n",
           {"jobs.toml:4:10: job nightly: source: expected the SQLite database to export, found "
            "an empty string"}},
          {"source = \"/app.db\"\n",
           {"jobs.toml:1:1: job nightly: target: missing: an s3://BUCKET/KEY or file:///PATH to "
            "export to"}},
          {"source = \"/app.db\"\ntarget = \"file://tmp/x.sql\"\n",
           {"jobs.toml:5:10: job nightly: target: expected file:///ABSOLUTE/PATH (three "
            "slashes), found \"file://tmp/x.sql\""}},
          {"source = \"/app.db\"\ntarget = \"file:///tmp/a%zz.sql\"\n",
           {"jobs.toml:5:10: job nightly: target: expected %XX escapes of two hex digits, found "
            "\"file:///tmp/a%zz.sql\""}},
          {"source = \"/app.db\"\ntarget = \"file:///tmp/\"\n",
           {"jobs.toml:5:10: job nightly: target: expected the path of a file, found a "
            "directory \"file:///tmp/\""}},
          {"source = \"/app.db\"\ntarget = \"ftp://h/x\"\n",
           {"jobs.toml:5:10: job nightly: target: expected s3://BUCKET/KEY or file:///PATH, "
            "found \"ftp://h/x\""}},
          {"source = \"/app.db\"\ntarget = \"s3://b/\"\n",
           {"jobs.toml:5:10: job nightly: target: expected an object key after the bucket, "
            "found \"s3://b/\""}},
      });
  check_golden(ex_file, {{"s3.region = \"auto\"\n",
                          {"jobs.toml:6:13: job nightly: s3.region: S3 settings need an s3:// "
                           "target, not file://"}}});
}

BOOST_AUTO_TEST_CASE(export_compression_parts_and_timeouts) {
  check_golden(
      ex_file,
      {
          {"compression = \"lz4\"\n",
           {"jobs.toml:6:15: job nightly: compression: expected one of \"none\", \"gzip\", "
            "\"zstd\", found \"lz4\""}},
          {"compression_level = 5\n",
           {"jobs.toml:6:21: job nightly: compression_level: needs compression = \"gzip\" or "
            "\"zstd\", found compression = \"none\""}},
          {"compression = \"gzip\"\ncompression_level = 12\n",
           {"jobs.toml:7:21: job nightly: compression_level: expected an integer from 1 to 9 for "
            "gzip, found 12"}},
          {"compression = \"zstd\"\ncompression_level = 23\n",
           {"jobs.toml:7:21: job nightly: compression_level: expected an integer from 1 to 22, "
            "found 23"}},
          {"part_size = \"4MiB\"\n",
           {"jobs.toml:6:13: job nightly: part_size: expected 5MiB to 5GiB (S3's part sizes), "
            "found \"4MiB\""}},
          {"part_size = \"6GiB\"\n",
           {"jobs.toml:6:13: job nightly: part_size: expected 5MiB to 5GiB (S3's part sizes), "
            "found \"6GiB\""}},
          {"part_size = \"16 MiB\"\n",
           {"jobs.toml:6:13: job nightly: part_size: expected a size such as \"512\", "
            "\"64KiB\", \"16MiB\", \"1GiB\", found \"16 MiB\""}},
          {"part_attempts = 0\n",
           {"jobs.toml:6:17: job nightly: part_attempts: expected an integer from 1 to 100, "
            "found 0"}},
          {"connect_timeout = \"0ms\"\n",
           {"jobs.toml:6:19: job nightly: connect_timeout: expected a positive duration, found "
            "\"0ms\""}},
          {"stall_timeout = \"5\"\n",
           {"jobs.toml:6:17: job nightly: stall_timeout: expected a duration such as \"250ms\", "
            "\"30s\", \"5m\", \"24h\", found 5"}},
          {"transfer_timeout = \"1w\"\n",
           {"jobs.toml:6:20: job nightly: transfer_timeout: expected a duration such as "
            "\"250ms\", \"30s\", \"5m\", \"24h\", found \"1w\""}},
      });
}

BOOST_AUTO_TEST_CASE(export_s3_settings_are_the_uploads) {
  check_golden(ex_s3, {
                          {"s3.endpoint = \"http://h:9000/x\"\n",
                           {"jobs.toml:8:15: job nightly: s3.endpoint: expected "
                            "http(s)://HOST[:PORT] with no path, found \"http://h:9000/x\""}},
                          {"s3.session_token_env = \"not a name\"\n",
                           {"jobs.toml:8:24: job nightly: s3.session_token_env: " + not_a_name}},
                      });
}

BOOST_AUTO_TEST_CASE(noop_params) {
  check_golden(
      noop_job,
      {
          {"sleepms = 5\n",
           {"jobs.toml:4:11: job n: unknown key 'sleepms' (did you mean 'sleep_ms'?)" + noop_keys}},
          {"task = 3\n",
           {"jobs.toml:4:8: job n: unknown key 'task' (did you mean 'tasks'?)" + noop_keys}},
          {"colour = 1\n", {"jobs.toml:4:10: job n: unknown key 'colour'" + noop_keys}},
          {"sleep_ms = \"soon\"\n",
           {"jobs.toml:4:12: job n: sleep_ms: expected a non-negative integer, found \"soon\""}},
          {"fail_first = -1\n",
           {"jobs.toml:4:14: job n: fail_first: expected a non-negative integer, found -1"}},
          {"fail_every = 1.5\n",
           {"jobs.toml:4:14: job n: fail_every: expected a non-negative integer, found 1.5"}},
          {"ignore_stop = true\n",
           {"jobs.toml:4:15: job n: ignore_stop: expected a non-negative integer, found true"}},
          {"sleep_ms = \"1234567890123456789\"\n",
           {"jobs.toml:4:12: job n: sleep_ms: expected an integer of at most 18 digits, found "
            "1234567890123456789"}},
          {"witness = \"\"\n",
           {"jobs.toml:4:11: job n: witness: expected a file path, found an empty string"}},
      });
}

BOOST_AUTO_TEST_CASE(an_unknown_kind) {
  check_golden("[[job]]\nname = \"n\"\n",
               {{"kind = \"nope\"\n",
                 {"jobs.toml:3:8: job n: unknown kind 'nope' (built in: export, noop, upload)"}}});
}

BOOST_AUTO_TEST_CASE(every_problem_of_every_job_is_reported_in_file_order_of_jobs) {
  check_golden(up_job,
               {{"target = \"ftp://h/\"\npart_size = \"1MiB\"\n\n" + noop_job + "sleep_ms = -1\n",
                 {"jobs.toml:1:1: job up: source, manifest: set exactly one (a "
                  "directory, or a JSONL manifest), found neither",
                  "jobs.toml:4:10: job up: target: expected an http://, https:// or "
                  "s3:// URL, found \"ftp://h/\"",
                  "jobs.toml:5:13: job up: part_size: expected at least 5MiB (S3's "
                  "smallest part), found \"1MiB\"",
                  "jobs.toml:10:12: job n: sleep_ms: expected a non-negative integer, "
                  "found -1"}}});
}

BOOST_AUTO_TEST_SUITE_END()
