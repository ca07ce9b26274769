#include "runtime/concurrency_window.hpp"

#include <boost/test/unit_test.hpp>

#include "scheduler_harness.hpp"

using namespace haul;
using haul::sched::concurrency_window;
using haul::test::scheduler_harness;

BOOST_AUTO_TEST_SUITE(concurrency_window_tests)

BOOST_AUTO_TEST_CASE(it_starts_low_and_never_above_the_ceiling) {
  BOOST_TEST(concurrency_window(64).limit() == concurrency_window::initial);
  BOOST_TEST(concurrency_window(2).limit() == 2u);
  BOOST_TEST(concurrency_window(0).limit() == 1u);
}

BOOST_AUTO_TEST_CASE(slow_start_doubles_per_round_of_successes) {
  concurrency_window w(64);
  // One round: as many successes as tasks in flight.
  for (int round = 0; round < 3; ++round) {
    auto before = w.limit();
    for (std::uint32_t i = 0; i < before; ++i)
      w.on_success();
    BOOST_TEST(w.limit() == before * 2);
  }
  for (int i = 0; i < 1000; ++i)
    w.on_success();
  BOOST_TEST(w.limit() == 64u);
}

BOOST_AUTO_TEST_CASE(an_overload_halves_and_growth_becomes_additive) {
  concurrency_window w(64);
  for (int i = 0; i < 28; ++i)
    w.on_success(); // 4 -> 32
  BOOST_TEST(w.limit() == 32u);
  w.on_overload(10, 11);
  BOOST_TEST(w.limit() == 16u);
  // A round of successes now adds about one (1/window each), not one each.
  for (int i = 0; i < 17; ++i)
    w.on_success();
  BOOST_TEST(w.limit() == 17u);
  for (int i = 0; i < 18; ++i)
    w.on_success();
  BOOST_TEST(w.limit() == 18u);
}

BOOST_AUTO_TEST_CASE(a_burst_of_overloads_from_runs_already_in_flight_counts_once) {
  concurrency_window w(64);
  for (int i = 0; i < 28; ++i)
    w.on_success();
  w.on_overload(100, 150); // runs 100..149 were in flight when it shrank
  w.on_overload(120, 160);
  w.on_overload(149, 170);
  BOOST_TEST(w.limit() == 16u);
  w.on_overload(150, 180); // started after the decrease: it saw the smaller window
  BOOST_TEST(w.limit() == 8u);
}

BOOST_AUTO_TEST_CASE(it_never_goes_below_one) {
  concurrency_window w(64);
  for (std::uint64_t run = 0; run < 20; ++run)
    w.on_overload(run * 10, run * 10 + 1);
  BOOST_TEST(w.limit() == 1u);
}

BOOST_AUTO_TEST_CASE(a_lower_ceiling_caps_the_window_at_once) {
  concurrency_window w(64);
  for (int i = 0; i < 60; ++i)
    w.on_success();
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
  // Four successes: the window doubles to eight, all of it dispatched in the next turn.
  for (const auto& d : r.dispatches)
    h.complete(d, outcome_kind::ok, 1);
  r = h.turn(1);
  BOOST_TEST(r.dispatches.size() == 8u);
  BOOST_TEST(h.sched.status(job)->concurrency == 8u);
  // One overloaded run halves the window: four in flight are over it, nothing starts.
  auto c = scheduler_harness::report(r.dispatches[0], outcome_kind::retryable);
  c.overloaded = true;
  BOOST_TEST(h.sched.on_completion(c, 2));
  auto after = h.turn(2);
  BOOST_TEST(after.dispatches.empty());
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
