// Sizes ("16MiB") and durations ("250ms") as the job file spells them: every unit, the
// edges of their ranges, and the whole messages of the values they refuse, in [runtime]
// (read as TOML) and in a kind's params (read as text).

#include "runtime/duration.hpp"

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "runtime/job_file.hpp"
#include "runtime/param_values.hpp"
#include "tests/unit/test_util.hpp"

using namespace haul;

namespace {

const std::string shape = "a size such as \"512\", \"64KiB\", \"16MiB\", \"1GiB\"";
const std::string duration_shape = "a duration such as \"250ms\", \"30s\", \"5m\", \"24h\"";

std::string error_of(const expected<std::uint64_t>& r) {
  return r ? "accepted: " + std::to_string(*r) : r.error().message;
}
std::string error_of(const expected<std::int64_t>& r) {
  return r ? "accepted: " + std::to_string(*r) : r.error().message;
}

/// The one problem of a [runtime] table holding `line` (line 2 of the file).
std::string runtime_problem(const std::string& line) {
  auto f = parse_job_file("[runtime]\n" + line + "\n[[job]]\nname = \"a\"\nkind = \"noop\"\n",
                          "jobs.toml");
  return f ? std::string("accepted") : f.error().message;
}

} // namespace

BOOST_AUTO_TEST_SUITE(sizes_and_durations)

BOOST_AUTO_TEST_CASE(sizes_take_every_documented_unit) {
  const std::vector<std::pair<std::string, std::uint64_t>> cases = {
      {"0", 0},
      {"512", 512},
      {"512B", 512},
      {"1KiB", 1024},
      {"64KiB", 65'536},
      {"16MiB", 16'777'216},
      {"1GiB", 1'073'741'824},
      {"1KB", 1'000},
      {"10MB", 10'000'000},
      {"2GB", 2'000'000'000},
      {"1.5KiB", 1'536},
      {".5KiB", 512},
      {"5.", 5},
  };
  for (const auto& [text, bytes] : cases)
    BOOST_TEST_CONTEXT(text) {
      auto v = parse_size(text);
      BOOST_TEST_REQUIRE(v.has_value(), test::why(v));
      BOOST_TEST(*v == bytes);
    }
}

BOOST_AUTO_TEST_CASE(a_fraction_of_a_byte_rounds_to_the_nearest_byte) {
  BOOST_TEST(*parse_size("0.5B") == 1u);
  BOOST_TEST(*parse_size("1.25B") == 1u);
  BOOST_TEST(*parse_size("0.1KiB") == 102u);
}

BOOST_AUTO_TEST_CASE(sizes_above_2_to_the_63_do_not_overflow) {
  // Regression: the bytes went through llround, whose long long stops at 2^63.
  BOOST_TEST(*parse_size("9223372036854775808") == 9'223'372'036'854'775'808ull);
  BOOST_TEST(*parse_size("8589934592GiB") == 9'223'372'036'854'775'808ull); // 2^63
  // The largest whole number of GiB below 2^64, exact as a double.
  BOOST_TEST(*parse_size("17179869183GiB") == 18'446'744'072'635'809'792ull);
}

BOOST_AUTO_TEST_CASE(sizes_of_2_to_the_64_bytes_or_more_are_refused) {
  // 2^64 - 1 is no double: it rounds to 2^64.
  for (const char* text : {"17179869184GiB", "18446744073709551615", "1e30", "20000000000GB"})
    BOOST_TEST_CONTEXT(text) {
      BOOST_TEST(error_of(parse_size(text)) ==
                 (std::string(text) == "1e30" ? shape : "a size below 16EiB"));
    }
}

BOOST_AUTO_TEST_CASE(a_size_of_another_shape_is_refused) {
  for (const char* text : {"", "-1", "+1", " 1", "1 ", "1 KiB", "1kib", "1KIB", "1TiB", "1e3",
                           "1.2.3", ".", "KiB", "big", "0x10"})
    BOOST_TEST_CONTEXT('"' << text << '"') {
      BOOST_TEST(error_of(parse_size(text)) == shape);
    }
}

BOOST_AUTO_TEST_CASE(durations_round_to_the_nearest_millisecond) {
  BOOST_TEST(*parse_duration_ms("0.4ms") == 0);
  BOOST_TEST(*parse_duration_ms("0.5ms") == 1);
  BOOST_TEST(*parse_duration_ms("2.5ms") == 3);
  BOOST_TEST(*parse_duration_ms("1.25s") == 1'250);
  BOOST_TEST(*parse_duration_ms(".5s") == 500);
}

BOOST_AUTO_TEST_CASE(durations_reach_36500_days_and_no_further) {
  const std::int64_t limit = 36'500LL * 86'400'000;
  BOOST_TEST(*parse_duration_ms("36500d") == limit);
  BOOST_TEST(*parse_duration_ms("876000h") == limit);
  BOOST_TEST(*parse_duration_ms("3153600000000ms") == limit);
  BOOST_TEST(max_duration_ms == limit);
  const std::vector<std::string> beyond = {"36501d", "876001h", "3153600000001ms",
                                           "9000000000000000ms", "1" + std::string(30, '0') + "d"};
  for (const auto& text : beyond)
    BOOST_TEST_CONTEXT(text) {
      BOOST_TEST(error_of(parse_duration_ms(text)) == "a duration of at most 36500d");
    }
  // The limit in nanoseconds, the finest clock's unit, still fits an int64.
  BOOST_TEST(limit < std::numeric_limits<std::int64_t>::max() / 1'000'000);
}

BOOST_AUTO_TEST_CASE(a_duration_of_another_shape_is_refused) {
  for (const char* text :
       {"", "30", "30 s", "-5s", "+5s", " 5m", "5M", "1w", "1y", "s", "1e3ms", "inf", "1.2.3s"})
    BOOST_TEST_CONTEXT('"' << text << '"') {
      BOOST_TEST(error_of(parse_duration_ms(text)) == duration_shape);
    }
}

BOOST_AUTO_TEST_CASE(runtime_durations_out_of_range_are_reported_whole) {
  BOOST_TEST(runtime_problem("retention = \"36501d\"") ==
             "jobs.toml:2:13: runtime.retention: expected a duration of at most 36500d, found "
             "\"36501d\"");
  BOOST_TEST(runtime_problem("report_interval = \"10y\"") ==
             "jobs.toml:2:19: runtime.report_interval: expected a duration such as \"250ms\", "
             "\"30s\", \"5m\", \"24h\", found \"10y\"");
  BOOST_TEST(runtime_problem("shutdown_grace = \"36500d\"") == "accepted");
}

BOOST_AUTO_TEST_CASE(param_getters_name_the_key_what_was_expected_and_what_was_found) {
  const job_params p = {{"size", "12 MiB"}, {"huge", "17179869184GiB"},
                        {"wait", "30"},     {"long", "40000d"},
                        {"flag", "yes"},    {"count", "-3"},
                        {"pick", "lz4"},    {"blank", ""}};
  BOOST_TEST(test::why(param_size(p, "size", 0)) ==
             "size: expected " + shape + ", found \"12 MiB\"");
  BOOST_TEST(test::why(param_size(p, "huge", 0)) ==
             "huge: expected a size below 16EiB, found \"17179869184GiB\"");
  BOOST_TEST(test::why(param_duration(p, "wait", {})) ==
             "wait: expected " + duration_shape + ", found 30");
  BOOST_TEST(test::why(param_duration(p, "long", {})) ==
             "long: expected a duration of at most 36500d, found \"40000d\"");
  BOOST_TEST(test::why(param_flag(p, "flag", false)) ==
             "flag: expected true or false, found \"yes\"");
  BOOST_TEST(test::why(param_count(p, "count", 1, 1, 9)) ==
             "count: expected an integer from 1 to 9, found -3");
  BOOST_TEST(test::why(param_choice(p, "pick", "a", {"a", "b"})) ==
             "pick: expected one of \"a\", \"b\", found \"lz4\"");
  BOOST_TEST(test::why(param_flag(p, "blank", false)) ==
             "blank: expected true or false, found \"\"");
  // Absent keys take the fallback.
  BOOST_TEST(*param_size(p, "absent", 7) == 7u);
  BOOST_TEST(param_duration(p, "absent", std::chrono::milliseconds(5))->count() == 5);
}

BOOST_AUTO_TEST_CASE(found_values_are_shown_as_toml_would_write_them) {
  BOOST_TEST(shown_value("5") == "5");
  BOOST_TEST(shown_value("-3") == "-3");
  BOOST_TEST(shown_value("1.5") == "1.5");
  BOOST_TEST(shown_value("1e+20") == "1e+20");
  BOOST_TEST(shown_value("true") == "true");
  BOOST_TEST(shown_value("false") == "false");
  BOOST_TEST(shown_value("") == "\"\"");
  BOOST_TEST(shown_value("5s") == "\"5s\"");
  BOOST_TEST(shown_value("inf") == "\"inf\"");
  BOOST_TEST(shown_value("-") == "\"-\"");
  BOOST_TEST(shown_value("True") == "\"True\"");
}

BOOST_AUTO_TEST_SUITE_END()
