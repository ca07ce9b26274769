// The scheduler's due queue: retries wait in the store and are paged into memory a window at
// a time, so a job with millions of failed tasks never holds them all in memory.

#include <cstdint>
#include <map>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "runtime/scheduler.hpp"
#include "scheduler_harness.hpp"

using namespace haul;
using namespace haul::sched;
using haul::test::scheduler_harness;

namespace {

scheduler::options small_window(std::uint32_t parallelism, std::size_t window) {
  scheduler::options o;
  o.parallelism = parallelism;
  o.due_window = window;
  return o;
}

/// Runs a job in which every task fails once (due after a delay that varies by task) and then
/// succeeds, reporting completions between turns the way workers do. Records the attempts
/// each task was dispatched with and the largest due window seen at any point.
struct fail_once_run {
  std::map<std::uint64_t, std::vector<std::uint32_t>> attempts;
  std::size_t most_in_memory = 0;
  std::int64_t end_ms = 0;
};

fail_once_run run_fail_once(scheduler_harness& h, std::uint32_t job, std::int64_t deadline_ms) {
  fail_once_run out;
  std::vector<dispatch> running;
  std::int64_t now = 0;
  auto watch = [&] { out.most_in_memory = std::max(out.most_in_memory, h.sched.due_in_memory()); };
  while (!h.sched.all_finished() && now < deadline_ms) {
    for (auto& d : h.turn(now).dispatches) {
      out.attempts[d.task.index].push_back(d.attempt);
      running.push_back(d);
    }
    watch();
    ++now;
    // Odd turns report everything that runs, even turns nothing: completions pile up between
    // turns, so some retries are staged in a batch that is not committed yet.
    if (now % 2 == 1) {
      for (const auto& d : running) {
        auto c = scheduler_harness::report(d, d.attempt == 1 ? outcome_kind::retryable
                                                             : outcome_kind::ok);
        c.retry_after_ms = static_cast<std::int64_t>((d.task.index * 37) % 50);
        BOOST_REQUIRE(h.sched.on_completion(c, now));
        watch();
      }
      running.clear();
    }
  }
  BOOST_REQUIRE_MESSAGE(h.sched.job(job) != nullptr, "the job disappeared");
  out.end_ms = now;
  return out;
}

/// Stores a job of `total` tasks, all dispatched before, whose tasks wait in the due queue
/// at the given times (one failure each), and hands it to the scheduler.
void seed_waiting_job(scheduler_harness& h, std::uint32_t seq, std::uint64_t total,
                      const std::vector<std::pair<std::int64_t, std::uint64_t>>& due) {
  storage::job_record rec;
  rec.seq = seq;
  rec.id = "seeded-" + std::to_string(seq);
  rec.name = rec.id;
  rec.kind = "noop";
  rec.total = total;
  rec.next_fresh = total;
  storage::store_batch b;
  b.put_job(rec);
  for (auto [due_ms, index] : due) {
    b.put_task(seq, index, {storage::task_state::waiting, 1, due_ms, "boom", {}});
    b.put_due({seq, due_ms, index});
  }
  BOOST_TEST_REQUIRE(h.store().commit(b, false).has_value());
  h.sched.add_job(rec, due.size());
  h.sched.activate_job(seq, job_config{}, 0);
}

/// Turns until every job has finished, every dispatched task succeeding at once. Returns the
/// number of dispatches per task; `most_in_memory` is raised to the largest window seen.
std::map<std::uint64_t, int> drain(scheduler_harness& h, std::int64_t now,
                                   std::size_t& most_in_memory) {
  std::map<std::uint64_t, int> runs;
  for (int turns = 0; !h.sched.all_finished() && turns < 10'000; ++turns) {
    auto r = h.turn(now);
    most_in_memory = std::max(most_in_memory, h.sched.due_in_memory());
    for (const auto& d : r.dispatches) {
      ++runs[d.task.index];
      BOOST_REQUIRE(h.complete(d, outcome_kind::ok, now));
    }
    now = r.wake_at_ms ? std::max(*r.wake_at_ms, now + 1) : now + 1;
  }
  return runs;
}

} // namespace

BOOST_AUTO_TEST_SUITE(scheduler_due_queue_tests)

BOOST_AUTO_TEST_CASE(a_small_due_window_still_retries_every_failed_task_exactly_once) {
  scheduler_harness h(small_window(10, 8));
  auto job = h.add_job(100);
  auto run = run_fail_once(h, job, 100'000);
  BOOST_TEST_REQUIRE(h.sched.all_finished());
  BOOST_TEST(run.attempts.size() == 100u);
  for (const auto& [index, attempts] : run.attempts) {
    BOOST_TEST_CONTEXT("task " << index) {
      BOOST_TEST(attempts == (std::vector<std::uint32_t>{1, 2}), boost::test_tools::per_element());
    }
  }
  auto rec = h.stored_job(job);
  BOOST_TEST((rec.state == job_state::succeeded));
  BOOST_TEST(rec.succeeded == 100u);
  BOOST_TEST(rec.retries == 100u);
  BOOST_TEST(h.stored_due(job).empty());
}

BOOST_AUTO_TEST_CASE(the_due_window_never_holds_more_entries_than_its_size) {
  scheduler_harness h(small_window(10, 8));
  auto job = h.add_job(100);
  auto run = run_fail_once(h, job, 100'000);
  BOOST_TEST(run.most_in_memory <= 8u);
}

BOOST_AUTO_TEST_CASE(the_due_window_stays_within_its_size_when_retries_pile_up_between_turns) {
  // The window holds one entry when retries due before everything else in the store arrive
  // between two turns; paging in must not take them all on top of a full page.
  scheduler_harness h(small_window(7, 8));
  std::vector<std::pair<std::int64_t, std::uint64_t>> due;
  for (std::uint64_t i = 0; i < 20; ++i)
    due.emplace_back(i < 8 ? 100 : 5'000, i);
  seed_waiting_job(h, 1, 20, due);
  auto first = h.turn(100).dispatches;
  BOOST_TEST_REQUIRE(first.size() == 7u);
  for (const auto& d : first) {
    auto c = scheduler_harness::report(d, outcome_kind::retryable);
    c.retry_after_ms = 100;
    BOOST_REQUIRE(h.sched.on_completion(c, 100));
  }
  auto second = h.turn(101).dispatches;
  BOOST_TEST(h.sched.due_in_memory() <= 8u);
  for (const auto& d : second)
    BOOST_REQUIRE(h.complete(d, outcome_kind::ok, 101));
  std::size_t most = 0;
  auto runs = drain(h, 102, most);
  for (const auto& d : second)
    ++runs[d.task.index];
  BOOST_TEST(most <= 8u);
  BOOST_TEST_REQUIRE(h.sched.all_finished());
  BOOST_TEST(runs.size() == 20u);
  for (const auto& [index, n] : runs) {
    BOOST_TEST_CONTEXT("task " << index) {
      BOOST_TEST(n == 1);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_due_window_of_a_few_entries_still_reaches_every_retry) {
  for (std::size_t window : {1u, 2u, 3u}) {
    BOOST_TEST_CONTEXT("window " << window) {
      scheduler_harness h(small_window(4, window));
      std::vector<std::pair<std::int64_t, std::uint64_t>> due;
      for (std::uint64_t i = 0; i < 12; ++i)
        due.emplace_back(static_cast<std::int64_t>(10 * (i % 3)), i);
      seed_waiting_job(h, 1, 12, due);
      std::size_t most = 0;
      auto runs = drain(h, 0, most);
      BOOST_TEST(h.sched.all_finished());
      BOOST_TEST(runs.size() == 12u);
      BOOST_TEST(most <= window);
    }
  }
}

BOOST_AUTO_TEST_CASE(due_retries_beyond_the_window_start_without_waiting_for_another_event) {
  // All twenty retries fall due at once but only eight fit in the window. The turn that
  // empties the window must start the rest, or ask to be woken to do so; otherwise free
  // slots idle until some unrelated completion happens to arrive.
  scheduler_harness h(small_window(100, 8));
  h.add_job(20);
  for (const auto& d : h.turn(0).dispatches) {
    auto c = scheduler_harness::report(d, outcome_kind::retryable);
    c.retry_after_ms = 100;
    h.sched.on_completion(c, 1);
  }
  h.turn(1);
  auto r = h.turn(101);
  auto started = r.dispatches.size();
  for (int i = 0; i < 10 && r.wake_at_ms && started < 20; ++i) {
    r = h.turn(*r.wake_at_ms);
    started += r.dispatches.size();
  }
  BOOST_TEST(started == 20u);
}

BOOST_AUTO_TEST_CASE(a_job_taken_over_from_the_store_runs_its_waiting_tasks_as_they_left_off) {
  // What the recovery pass leaves behind: tasks 0, 2 and 4 done, 1 and 3 waiting in the due
  // queue, 1 after two failures and with a checkpoint.
  scheduler_harness h;
  storage::job_record rec;
  rec.seq = 1;
  rec.id = "resumed";
  rec.name = "resumed";
  rec.kind = "noop";
  rec.total = 5;
  rec.next_fresh = 5;
  rec.succeeded = 3;
  storage::store_batch b;
  b.put_job(rec);
  for (std::uint64_t i : {0, 2, 4})
    b.mark_done(1, i);
  b.put_task(1, 1, {storage::task_state::waiting, 2, 50, "boom", "c1"});
  b.put_due({1, 50, 1});
  b.put_task(1, 3, {storage::task_state::waiting, 0, 40, "interrupted", {}});
  b.put_due({1, 40, 3});
  BOOST_TEST_REQUIRE(h.store().commit(b, false).has_value());

  h.sched.add_job(rec, 2);
  h.sched.activate_job(1, job_config{}, 30);
  BOOST_TEST(h.turn(39).dispatches.empty());
  auto at40 = h.turn(40).dispatches;
  BOOST_TEST_REQUIRE(at40.size() == 1u);
  BOOST_TEST(at40[0].task.index == 3u);
  BOOST_TEST(at40[0].attempt == 1u);
  auto at50 = h.turn(50).dispatches;
  BOOST_TEST_REQUIRE(at50.size() == 1u);
  BOOST_TEST(at50[0].task.index == 1u);
  BOOST_TEST(at50[0].attempt == 3u);
  BOOST_TEST(at50[0].checkpoint == "c1");
  h.complete(at40[0], outcome_kind::ok, 60);
  h.complete(at50[0], outcome_kind::ok, 60);
  auto r = h.turn(60);
  BOOST_TEST(r.finished_jobs.size() == 1u);
  auto stored = h.stored_job(1);
  BOOST_TEST((stored.state == job_state::succeeded));
  BOOST_TEST(stored.succeeded == 5u);
  BOOST_TEST(!h.stored_task(1, 1).has_value());
  BOOST_TEST(!h.stored_task(1, 3).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
