#include "runtime/retry_policy.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include <boost/test/unit_test.hpp>

using namespace haul;
using namespace std::chrono_literals;

namespace {

/// The un-jittered delay after `failures` failures, computed independently of backoff_ms.
double nominal_ms(const retry_policy& p, std::uint32_t failures) {
  auto grown = static_cast<double>(p.initial_backoff.count()) *
               std::pow(p.backoff_base, static_cast<double>(failures - 1));
  return std::min(static_cast<double>(p.max_backoff.count()), grown);
}

/// The largest jitter a draw can produce: just below jitter_max.
const double top_jitter = std::nextafter(jitter_max, 0.0);

} // namespace

BOOST_AUTO_TEST_SUITE(retry_policy_tests)

BOOST_AUTO_TEST_CASE(the_backoff_stays_within_half_and_one_and_a_half_of_the_nominal_delay) {
  retry_policy p; // 250 ms, doubling, capped at 30 s
  for (std::uint32_t n = 1; n <= 20; ++n) {
    auto nominal = nominal_ms(p, n);
    // Rounding to whole milliseconds may land on the bound itself.
    auto lo = std::llround(jitter_min * nominal);
    auto hi = std::llround(jitter_max * nominal);
    for (double u = 0.0; u < 1.0; u += 1.0 / 64) {
      auto d = backoff_ms(p, n, jitter_from_unit(u));
      BOOST_TEST_CONTEXT("failures " << n << ", draw " << u) {
        BOOST_TEST(d >= lo);
        BOOST_TEST(d <= hi);
      }
    }
    BOOST_TEST(backoff_ms(p, n, jitter_min) == lo);
    BOOST_TEST(backoff_ms(p, n, top_jitter) <= hi);
  }
}

BOOST_AUTO_TEST_CASE(the_backoff_grows_by_the_base_until_the_cap) {
  retry_policy p;
  BOOST_TEST(backoff_ms(p, 1, 1.0) == 250);
  BOOST_TEST(backoff_ms(p, 2, 1.0) == 500);
  BOOST_TEST(backoff_ms(p, 7, 1.0) == 16'000);
  BOOST_TEST(backoff_ms(p, 8, 1.0) == 30'000);
}

BOOST_AUTO_TEST_CASE(the_backoff_is_capped_at_max_backoff_times_the_jitter) {
  retry_policy p;
  BOOST_TEST(backoff_ms(p, 30, 1.0) == 30'000);
  BOOST_TEST(backoff_ms(p, 30, jitter_min) == 15'000);
  BOOST_TEST(backoff_ms(p, 30, top_jitter) <= 45'000);
}

BOOST_AUTO_TEST_CASE(the_backoff_never_overflows_after_many_failures) {
  retry_policy p;
  p.backoff_base = 10.0;
  p.max_backoff = 86'400'000ms;
  for (std::uint32_t n : {64u, 1000u, std::numeric_limits<std::uint32_t>::max()}) {
    BOOST_TEST_CONTEXT("failures " << n) {
      BOOST_TEST(backoff_ms(p, n, 1.0) == 86'400'000);
      BOOST_TEST(backoff_ms(p, n, top_jitter) <= 129'600'000);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_jitter_outside_its_range_is_clamped) {
  retry_policy p;
  BOOST_TEST(backoff_ms(p, 1, 100.0) == 375);
  BOOST_TEST(backoff_ms(p, 1, -3.0) == 125);
}

BOOST_AUTO_TEST_CASE(a_zero_initial_backoff_retries_at_once) {
  retry_policy p;
  p.initial_backoff = 0ms;
  BOOST_TEST(backoff_ms(p, 5, top_jitter) == 0);
}

BOOST_AUTO_TEST_CASE(jitter_draws_map_onto_the_jitter_range) {
  BOOST_TEST(jitter_from_unit(0.0) == jitter_min);
  BOOST_TEST(jitter_from_unit(0.5) == 1.0);
  BOOST_TEST(jitter_from_unit(std::nextafter(1.0, 0.0)) < jitter_max);
}

BOOST_AUTO_TEST_CASE(the_default_policy_is_valid) {
  BOOST_TEST(validate(retry_policy{}).empty());
}

BOOST_AUTO_TEST_CASE(validation_refuses_zero_attempts) {
  retry_policy p;
  p.max_attempts = 0;
  BOOST_TEST(!validate(p).empty());
}

BOOST_AUTO_TEST_CASE(validation_refuses_a_base_below_one) {
  retry_policy p;
  p.backoff_base = 0.99;
  BOOST_TEST(!validate(p).empty());
}

BOOST_AUTO_TEST_CASE(validation_refuses_a_base_that_is_not_a_finite_number) {
  for (double base :
       {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
    retry_policy p;
    p.backoff_base = base;
    BOOST_TEST_CONTEXT("base " << base) {
      BOOST_TEST(!validate(p).empty());
    }
  }
}

BOOST_AUTO_TEST_CASE(validation_refuses_a_max_backoff_below_the_initial_one) {
  retry_policy p;
  p.initial_backoff = 1000ms;
  p.max_backoff = 999ms;
  BOOST_TEST(!validate(p).empty());
}

BOOST_AUTO_TEST_CASE(validation_refuses_a_negative_initial_backoff) {
  retry_policy p;
  p.initial_backoff = -1ms;
  BOOST_TEST(!validate(p).empty());
}

BOOST_AUTO_TEST_SUITE_END()
