#include "runtime/concurrency_window.hpp"

#include <boost/test/unit_test.hpp>

#include "scheduler_harness.hpp"

using namespace haul;
using haul::sched::concurrency_window;
using haul::test::scheduler_harness;

namespace {

/// One round of `n` completions of which `overloads` said overloaded.
void round_of(concurrency_window& w, std::uint32_t n, std::uint32_t overloads) {
  for (std::uint32_t i = 0; i < n; ++i)
    w.on_completion(i < overloads);
}

std::uint32_t round_size(const concurrency_window& w) {
  return std::max(w.limit(), concurrency_window::min_round);
}

} // namespace

BOOST_AUTO_TEST_SUITE(concurrency_window_tests)

BOOST_AUTO_TEST_CASE(it_starts_low_and_never_above_the_ceiling) {
  BOOST_TEST(concurrency_window(64).limit() == concurrency_window::initial);
  BOOST_TEST(concurrency_window(2).limit() == 2u);
  BOOST_TEST(concurrency_window(0).limit() == 1u);
}

BOOST_AUTO_TEST_CASE(slow_start_doubles_per_clean_round_up_to_the_ceiling) {
  concurrency_window w(64);
  std::vector<std::uint32_t> seen;
  for (int r = 0; r < 6; ++r) {
    round_of(w, round_size(w), 0);
    seen.push_back(w.limit());
  }
  BOOST_TEST(seen == (std::vector<std::uint32_t>{8, 16, 32, 64, 64, 64}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(nothing_changes_before_a_round_is_complete) {
  concurrency_window w(64);
  round_of(w, concurrency_window::min_round - 1, 0);
  BOOST_TEST(w.limit() == concurrency_window::initial);
}

BOOST_AUTO_TEST_CASE(a_burst_of_overloads_halves_once_per_round_then_growth_is_additive) {
  concurrency_window w(64);
  round_of(w, 16, 0);
  round_of(w, 16, 0);
  round_of(w, 16, 0); // 32
  BOOST_TEST(w.limit() == 32u);
  round_of(w, 32, 32); // the whole round overloaded: halves once, not 32 times
  BOOST_TEST(w.limit() == 16u);
  round_of(w, 16, 0);
  BOOST_TEST(w.limit() == 17u);
  round_of(w, 17, 0);
  BOOST_TEST(w.limit() == 18u);
}

BOOST_AUTO_TEST_CASE(a_round_at_the_overload_share_halves_and_one_below_it_does_not) {
  concurrency_window below(64);
  round_of(below, 16, 3); // 3 of 16 < 1 in 5
  BOOST_TEST(below.limit() == 8u);
  concurrency_window at(64);
  round_of(at, 16, 4); // 4 of 16 >= 1 in 5
  BOOST_TEST(at.limit() == 2u);
}

BOOST_AUTO_TEST_CASE(a_scattering_of_overloads_keeps_the_window_at_the_ceiling) {
  // One completion in ten overloaded, evenly spread: a flaky proxy, not an overloaded server.
  concurrency_window w(64);
  for (int i = 0; i < 10'000; ++i)
    w.on_completion(i % 10 == 9);
  BOOST_TEST(w.limit() == 64u);
}

BOOST_AUTO_TEST_CASE(it_never_goes_below_one) {
  concurrency_window w(64);
  for (int r = 0; r < 20; ++r)
    round_of(w, round_size(w), round_size(w));
  BOOST_TEST(w.limit() == 1u);
}

BOOST_AUTO_TEST_CASE(a_lower_ceiling_caps_the_window_at_once) {
  concurrency_window w(64);
  for (int r = 0; r < 5; ++r)
    round_of(w, round_size(w), 0);
  w.set_ceiling(10);
  BOOST_TEST(w.limit() == 10u);
}

BOOST_AUTO_TEST_CASE(an_adaptive_job_dispatches_within_its_window_and_shrinks_on_overload) {
  scheduler_harness h;
  sched::job_config config;
  config.parallelism = 64;
  config.adaptive = true;
  auto job = h.add_job(1000, config);
  auto r = h.turn(0);
  BOOST_TEST(r.dispatches.size() == concurrency_window::initial);
  // A clean round (16 completions) doubles the window to eight.
  std::int64_t now = 1;
  for (int done = 0; done < 16; ++now) {
    for (const auto& d : r.dispatches)
      if (done++ < 16)
        h.complete(d, outcome_kind::ok, now);
    r = h.turn(now);
  }
  BOOST_TEST(h.sched.status(job)->concurrency == 8u);
  BOOST_TEST(h.sched.running() == 8u);
  // A round of overloads (16 completions, two turns of eight) halves it once.
  std::vector<sched::dispatch> running = r.dispatches;
  for (int done = 0; done < 16; ++now) {
    for (const auto& d : running) {
      auto c = scheduler_harness::report(d, outcome_kind::retryable);
      c.overloaded = true;
      if (done++ < 16)
        BOOST_TEST(h.sched.on_completion(c, now));
    }
    running = h.turn(now).dispatches;
  }
  BOOST_TEST(h.sched.status(job)->concurrency == 4u);
  BOOST_TEST(h.stored_job(job).concurrency == 4u);
}

BOOST_AUTO_TEST_CASE(a_job_without_adaptive_concurrency_reports_none) {
  scheduler_harness h;
  auto job = h.add_job(10);
  BOOST_TEST(h.turn(0).dispatches.size() == 10u);
  BOOST_TEST(h.sched.status(job)->concurrency == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
