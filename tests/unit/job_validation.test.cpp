// Kind problems of a job file placed at the key they are about: the golden messages of
// `haul validate` (and of `haul run`, which checks the same before it starts).

#include "runtime/job_validation.hpp"

#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "tests/unit/test_util.hpp"

using namespace haul;

namespace {

std::vector<std::string> problems_of(const std::string& text) {
  auto f = parse_job_file(text, "jobs.toml");
  BOOST_TEST_REQUIRE(f.has_value(), test::why(f));
  kind_registry kinds;
  add_builtin_kinds(kinds);
  return check_job_kinds(*f, kinds);
}

std::string only_problem(const std::string& text) {
  auto p = problems_of(text);
  BOOST_TEST_REQUIRE(p.size() == 1u);
  return p.front();
}

const std::string export_head = "[[job]]\nname = \"nightly\"\nkind = \"export\"\n";

} // namespace

BOOST_AUTO_TEST_SUITE(job_validation_tests)

BOOST_AUTO_TEST_CASE(a_valid_file_has_no_kind_problems) {
  BOOST_TEST(problems_of(export_head + "source = \"app.db\"\ntarget = \"file:///tmp/x.sql\"\n"
                                       "[[job]]\nname = \"n\"\nkind = \"noop\"\ntasks = 3\n")
                 .empty());
}

BOOST_AUTO_TEST_CASE(an_unknown_kind_is_placed_at_its_value) {
  BOOST_TEST(only_problem("[[job]]\nname = \"a\"\nkind = \"nope\"\n") ==
             "jobs.toml:3:8: job a: unknown kind 'nope' (built in: export, noop, upload)");
}

BOOST_AUTO_TEST_CASE(a_bad_value_is_placed_at_its_key) {
  BOOST_TEST(only_problem(export_head + "source = \"app.db\"\ntarget = \"file:///tmp/x.sql\"\n"
                                        "compression = \"lz4\"\n") ==
             "jobs.toml:6:15: job nightly: compression: expected one of \"none\", \"gzip\", "
             "\"zstd\", found \"lz4\"");
  BOOST_TEST(only_problem(export_head + "source = \"app.db\"\ntarget = \"ftp://host/x\"\n") ==
             "jobs.toml:5:10: job nightly: target: expected s3://BUCKET/KEY or file:///PATH, "
             "found \"ftp://host/x\"");
}

BOOST_AUTO_TEST_CASE(an_unknown_key_is_placed_where_it_is_quoted) {
  auto p = only_problem(export_head + "source = \"app.db\"\ntarget = \"file:///tmp/x.sql\"\n"
                                      "colour = \"red\"\n");
  BOOST_TEST(p.starts_with("jobs.toml:6:10: job nightly: unknown key 'colour' for kind export"), p);
}

BOOST_AUTO_TEST_CASE(a_key_of_a_sub_table_is_placed_in_it) {
  auto p = only_problem(export_head + "source = \"app.db\"\ntarget = \"file:///tmp/x.sql\"\n"
                                      "[job.s3]\nregion = \"x\"\n");
  BOOST_TEST(p.starts_with("jobs.toml:7:10: job nightly: s3.region: "), p);
}

BOOST_AUTO_TEST_CASE(a_missing_key_is_placed_at_the_jobs_table) {
  auto p = only_problem(export_head + "source = \"app.db\"\n");
  BOOST_TEST(p == "jobs.toml:1:1: job nightly: target: missing: an s3://BUCKET/KEY or "
                  "file:///PATH to export to",
             p);
}

BOOST_AUTO_TEST_CASE(every_jobs_problems_are_reported_at_once) {
  auto p = problems_of("[[job]]\nname = \"a\"\nkind = \"nope\"\n" + export_head +
                       "source = \"app.db\"\n");
  BOOST_TEST_REQUIRE(p.size() == 2u);
  BOOST_TEST(p[0].starts_with("jobs.toml:3:8: job a: "));
  BOOST_TEST(p[1].starts_with("jobs.toml:4:1: job nightly: target: missing"));
}

BOOST_AUTO_TEST_CASE(every_problem_of_one_job_is_reported_each_at_its_key) {
  auto p = problems_of(export_head + "sorce = \"app.db\"\ntarget = \"ftp://host/x\"\n"
                                     "compression = \"lz4\"\npart_size = \"1MiB\"\n"
                                     "stall_timeout = \"soon\"\n");
  BOOST_TEST_REQUIRE(p.size() == 6u, test::joined(p));
  BOOST_TEST(p[0] == "jobs.toml:4:9: job nightly: unknown key 'sorce' (did you mean 'source'?) "
                     "for kind export (expected source, target, compression, compression_level, "
                     "part_size, part_attempts, connect_timeout, stall_timeout, transfer_timeout "
                     "and [job.s3] keys)");
  BOOST_TEST(p[1] == "jobs.toml:1:1: job nightly: source: missing: the SQLite database to export");
  BOOST_TEST(p[2] == "jobs.toml:5:10: job nightly: target: expected s3://BUCKET/KEY or "
                     "file:///PATH, found \"ftp://host/x\"");
  BOOST_TEST(p[3] == "jobs.toml:6:15: job nightly: compression: expected one of \"none\", "
                     "\"gzip\", \"zstd\", found \"lz4\"");
  BOOST_TEST(p[4] == "jobs.toml:7:13: job nightly: part_size: expected 5MiB to 5GiB (S3's part "
                     "sizes), found \"1MiB\"");
  BOOST_TEST(p[5] == "jobs.toml:8:17: job nightly: stall_timeout: expected a duration such as "
                     "\"250ms\", \"30s\", \"5m\", \"24h\", found \"soon\"");
}

BOOST_AUTO_TEST_CASE(an_uploads_problems_are_all_reported_too) {
  auto p = problems_of("[[job]]\nname = \"up\"\nkind = \"upload\"\nsource = \"files\"\n"
                       "target = \"http://127.0.0.1:1/x/\"\npart_concurency = 4\n"
                       "skip_existing = \"maybe\"\n[job.headers]\n\"bad name\" = \"x\"\n");
  BOOST_TEST_REQUIRE(p.size() == 3u, test::joined(p));
  BOOST_TEST(p[0].starts_with("jobs.toml:9:14: job up: headers.bad name: expected a header name"),
             p[0]);
  BOOST_TEST(p[1].starts_with("jobs.toml:6:19: job up: unknown key 'part_concurency' (did you "
                              "mean 'part_concurrency'?)"),
             p[1]);
  BOOST_TEST(p[2].starts_with("jobs.toml:7:17: job up: skip_existing: "), p[2]);
}

BOOST_AUTO_TEST_CASE(an_unknown_key_is_placed_at_itself_not_at_the_key_it_suggests) {
  auto p = only_problem(export_head + "source = \"app.db\"\ntarget = \"file:///tmp/x.sql\"\n"
                                      "part_size = \"8MiB\"\npart_sizes = \"9MiB\"\n");
  BOOST_TEST(p.starts_with("jobs.toml:7:14: job nightly: unknown key 'part_sizes' (did you mean "
                           "'part_size'?)"),
             p);
}

BOOST_AUTO_TEST_SUITE_END()
