#include "runtime/liveness.hpp"

#include <cstdint>

#include <boost/test/unit_test.hpp>

using namespace haul;

namespace {

const sched::task_id task_a{1, 10};
const sched::task_id task_b{1, 11};

} // namespace

BOOST_AUTO_TEST_SUITE(liveness_tests)

BOOST_AUTO_TEST_CASE(a_run_without_heartbeats_is_lost_at_its_timeout) {
  liveness_tracker t;
  t.watch(task_a, 1, 100, 0);
  BOOST_TEST(t.expire(99).empty());
  auto lost = t.expire(100);
  BOOST_TEST_REQUIRE(lost.size() == 1u);
  BOOST_TEST((lost[0].task == task_a));
  BOOST_TEST(lost[0].run_id == 1u);
  BOOST_TEST(lost[0].silent_ms == 100);
}

BOOST_AUTO_TEST_CASE(a_heartbeat_pushes_the_deadline_to_a_full_timeout_after_it) {
  liveness_tracker t;
  t.watch(task_a, 1, 100, 0);
  t.beat(task_a, 1, 90);
  BOOST_TEST(t.expire(189).empty());
  auto lost = t.expire(190);
  BOOST_TEST_REQUIRE(lost.size() == 1u);
  BOOST_TEST(lost[0].silent_ms == 100);
}

BOOST_AUTO_TEST_CASE(a_long_run_that_keeps_beating_is_never_lost) {
  // Age alone never decides: a run of many timeouts' length stays alive while it beats.
  liveness_tracker t;
  t.watch(task_a, 1, 100, 0);
  for (std::int64_t now = 50; now <= 1'000'000; now += 50) {
    t.beat(task_a, 1, now);
    BOOST_TEST_REQUIRE(t.expire(now + 99).empty());
  }
  BOOST_TEST(t.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_heartbeat_of_a_replaced_run_does_not_keep_the_new_one_alive) {
  liveness_tracker t;
  t.watch(task_a, 1, 100, 0);
  t.watch(task_a, 2, 100, 10);
  t.beat(task_a, 1, 100);
  auto lost = t.expire(110);
  BOOST_TEST_REQUIRE(lost.size() == 1u);
  BOOST_TEST(lost[0].run_id == 2u);
}

BOOST_AUTO_TEST_CASE(unwatching_a_replaced_run_leaves_the_new_one_watched) {
  liveness_tracker t;
  t.watch(task_a, 1, 100, 0);
  t.watch(task_a, 2, 100, 0);
  t.unwatch(task_a, 1);
  BOOST_TEST(t.size() == 1u);
  auto lost = t.expire(100);
  BOOST_TEST_REQUIRE(lost.size() == 1u);
  BOOST_TEST(lost[0].run_id == 2u);
}

BOOST_AUTO_TEST_CASE(an_unwatched_run_is_never_reported) {
  liveness_tracker t;
  t.watch(task_a, 1, 100, 0);
  t.unwatch(task_a, 1);
  BOOST_TEST(t.size() == 0u);
  BOOST_TEST(t.expire(1'000).empty());
}

BOOST_AUTO_TEST_CASE(expire_reports_a_lost_run_once_and_forgets_it) {
  liveness_tracker t;
  t.watch(task_a, 1, 100, 0);
  t.watch(task_b, 2, 500, 0);
  auto lost = t.expire(200);
  BOOST_TEST_REQUIRE(lost.size() == 1u);
  BOOST_TEST((lost[0].task == task_a));
  BOOST_TEST(t.size() == 1u);
  BOOST_TEST(t.expire(300).empty());
}

BOOST_AUTO_TEST_CASE(a_heartbeat_from_the_past_does_not_move_the_deadline_back) {
  liveness_tracker t;
  t.watch(task_a, 1, 100, 50);
  t.beat(task_a, 1, 10);
  BOOST_TEST(t.expire(149).empty());
}

BOOST_AUTO_TEST_SUITE_END()
