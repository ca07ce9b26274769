#include "runtime/scheduler.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "scheduler_harness.hpp"

using namespace haul;
using namespace haul::sched;
using haul::test::scheduler_harness;

namespace {

scheduler::options with_parallelism(std::uint32_t n) {
  scheduler::options o;
  o.parallelism = n;
  return o;
}

job_config job_with(std::uint32_t parallelism, std::uint32_t max_attempts = 5) {
  job_config c;
  c.parallelism = parallelism;
  c.retry.max_attempts = max_attempts;
  return c;
}

std::vector<std::uint64_t> indices(const std::vector<dispatch>& ds) {
  std::vector<std::uint64_t> out;
  for (const auto& d : ds)
    out.push_back(d.task.index);
  return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(scheduler_tests)

// --- dispatching fresh tasks ------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(fresh_tasks_are_dispatched_up_to_the_runtime_parallelism) {
  scheduler_harness h(with_parallelism(3));
  auto job = h.add_job(10);
  auto r = h.turn(0);
  BOOST_TEST(indices(r.dispatches) == (std::vector<std::uint64_t>{0, 1, 2}),
             boost::test_tools::per_element());
  for (const auto& d : r.dispatches) {
    BOOST_TEST(d.task.job == job);
    BOOST_TEST(d.attempt == 1u);
    BOOST_TEST(d.checkpoint.empty());
  }
  BOOST_TEST(h.sched.running() == 3u);
  BOOST_TEST(h.turn(1).dispatches.empty());
}

BOOST_AUTO_TEST_CASE(fresh_tasks_are_dispatched_up_to_the_job_parallelism) {
  scheduler_harness h(with_parallelism(64));
  h.add_job(10, job_with(2));
  BOOST_TEST(h.turn(0).dispatches.size() == 2u);
  BOOST_TEST(h.turn(1).dispatches.empty());
}

BOOST_AUTO_TEST_CASE(every_run_gets_its_own_run_id) {
  scheduler_harness h(with_parallelism(4));
  h.add_job(4);
  auto r = h.turn(0);
  std::vector<std::uint64_t> ids;
  for (const auto& d : r.dispatches)
    ids.push_back(d.run_id);
  std::sort(ids.begin(), ids.end());
  BOOST_TEST((std::adjacent_find(ids.begin(), ids.end()) == ids.end()));
}

BOOST_AUTO_TEST_CASE(a_success_frees_its_slot_for_the_next_task_in_the_same_turn) {
  scheduler_harness h(with_parallelism(1));
  h.add_job(3);
  auto first = h.turn(0).dispatches;
  BOOST_TEST_REQUIRE(first.size() == 1u);
  BOOST_TEST(h.complete(first[0], outcome_kind::ok, 5));
  auto next = h.turn(5).dispatches;
  BOOST_TEST_REQUIRE(next.size() == 1u);
  BOOST_TEST(next[0].task.index == 1u);
}

BOOST_AUTO_TEST_CASE(a_success_is_stored_as_a_done_bit_and_counted_in_the_job_record) {
  scheduler_harness h(with_parallelism(2));
  auto job = h.add_job(5);
  auto ds = h.turn(0).dispatches;
  auto c = scheduler_harness::report(ds[1]);
  c.bytes = 1234;
  BOOST_TEST(h.sched.on_completion(c, 5));
  h.turn(5);
  BOOST_TEST(h.done_bit(job, 1));
  BOOST_TEST(!h.done_bit(job, 0));
  BOOST_TEST(!h.stored_task(job, 1).has_value());
  auto rec = h.stored_job(job);
  BOOST_TEST(rec.succeeded == 1u);
  BOOST_TEST(rec.bytes == 1234u);
  BOOST_TEST((rec.state == job_state::running));
}

BOOST_AUTO_TEST_CASE(a_job_whose_tasks_all_succeed_ends_succeeded) {
  scheduler_harness h;
  auto job = h.add_job(2);
  for (const auto& d : h.turn(0).dispatches)
    h.complete(d, outcome_kind::ok, 7);
  auto r = h.turn(7);
  BOOST_TEST(r.finished_jobs == (std::vector<std::uint32_t>{job}),
             boost::test_tools::per_element());
  auto rec = h.stored_job(job);
  BOOST_TEST((rec.state == job_state::succeeded));
  BOOST_TEST(rec.finished_ms == 7);
  BOOST_TEST(h.sched.all_finished());
}

BOOST_AUTO_TEST_CASE(a_job_with_no_tasks_ends_succeeded_on_its_first_turn) {
  scheduler_harness h;
  auto job = h.add_job(0);
  auto r = h.turn(0);
  BOOST_TEST(r.dispatches.empty());
  BOOST_TEST(r.finished_jobs == (std::vector<std::uint32_t>{job}),
             boost::test_tools::per_element());
  BOOST_TEST((h.stored_job(job).state == job_state::succeeded));
}

BOOST_AUTO_TEST_CASE(a_job_that_is_added_but_not_activated_runs_nothing) {
  scheduler_harness h;
  storage::job_record r;
  r.seq = 9;
  r.id = "idle";
  r.name = "idle";
  r.kind = "noop";
  r.total = 3;
  h.sched.add_job(r, 0);
  BOOST_TEST(h.turn(0).dispatches.empty());
  BOOST_TEST(h.sched.all_finished());
}

// --- failures and retries ----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_retryable_failure_waits_out_its_backoff_without_holding_a_slot) {
  scheduler_harness h(with_parallelism(1));
  auto job = h.add_job(2);
  auto first = h.turn(0).dispatches;
  BOOST_TEST(h.complete(first[0], outcome_kind::retryable, 10));
  auto next = h.turn(10).dispatches;
  BOOST_TEST_REQUIRE(next.size() == 1u);
  BOOST_TEST(next[0].task.index == 1u);
  auto rec = h.stored_task(job, 0);
  BOOST_TEST_REQUIRE(rec.has_value());
  BOOST_TEST((rec->state == storage::task_state::waiting));
  BOOST_TEST(rec->failures == 1u);
  // The default policy's first backoff is 250 ms times a jitter in [0.5, 1.5).
  BOOST_TEST(rec->due_ms >= 10 + 125);
  BOOST_TEST(rec->due_ms <= 10 + 375);
  auto due = h.stored_due(job);
  BOOST_TEST_REQUIRE(due.size() == 1u);
  BOOST_TEST(due[0].index == 0u);
  BOOST_TEST(due[0].due_ms == rec->due_ms);
}

BOOST_AUTO_TEST_CASE(a_retried_task_runs_again_at_its_due_time_and_not_before) {
  scheduler_harness h(with_parallelism(4));
  auto job = h.add_job(1);
  auto first = h.turn(0).dispatches;
  h.complete(first[0], outcome_kind::retryable, 10);
  h.turn(10);
  auto due_ms = h.stored_task(job, 0)->due_ms;
  BOOST_TEST(h.turn(due_ms - 1).dispatches.empty());
  auto again = h.turn(due_ms).dispatches;
  BOOST_TEST_REQUIRE(again.size() == 1u);
  BOOST_TEST(again[0].task.index == 0u);
  BOOST_TEST(again[0].attempt == 2u);
  BOOST_TEST(again[0].run_id != first[0].run_id);
  BOOST_TEST(h.stored_due(job).empty());
}

BOOST_AUTO_TEST_CASE(the_turn_asks_to_wake_when_the_next_retry_is_due) {
  scheduler_harness h;
  auto job = h.add_job(1);
  h.complete(h.turn(0).dispatches[0], outcome_kind::retryable, 10);
  auto r = h.turn(10);
  BOOST_TEST_REQUIRE(r.wake_at_ms.has_value());
  BOOST_TEST(*r.wake_at_ms == h.stored_task(job, 0)->due_ms);
}

BOOST_AUTO_TEST_CASE(start_lag_is_the_wait_since_a_task_was_due_and_steps_are_traced) {
  scheduler_harness h(with_parallelism(1));
  h.sched.set_tracing(true);
  h.add_job(2, job_with(1), 1'000); // the job starts running at t=1000
  auto first = h.turn(1'000);
  BOOST_TEST_REQUIRE(first.events.size() == 1u);
  BOOST_TEST((first.events[0].what == task_event::step::started));
  BOOST_TEST(first.events[0].ms == 0);
  // Task 0 asks to be retried 50 ms later; task 1 waits for the only slot until t=1030.
  auto c = scheduler_harness::report(first.dispatches[0], outcome_kind::retryable);
  c.retry_after_ms = 50;
  c.error = "busy";
  h.sched.on_completion(c, 1'010);
  auto second = h.turn(1'030);
  BOOST_TEST_REQUIRE(second.events.size() == 2u);
  BOOST_TEST((second.events[0].what == task_event::step::requeued));
  BOOST_TEST(second.events[0].ms == 50); // due in
  BOOST_TEST(second.events[0].attempt == 1u);
  BOOST_TEST(second.events[0].error == "busy");
  BOOST_TEST((second.events[1].what == task_event::step::started));
  BOOST_TEST(second.events[1].task.index == 1u);
  BOOST_TEST(second.events[1].ms == 30); // fresh: due since the job started
  h.complete(second.dispatches[0], outcome_kind::ok, 1'100);
  // Task 0 was due at 1060 and starts at 1100: 40 ms late.
  auto third = h.turn(1'100);
  BOOST_TEST_REQUIRE(third.events.size() == 2u);
  BOOST_TEST((third.events[0].what == task_event::step::succeeded));
  BOOST_TEST((third.events[1].what == task_event::step::started));
  BOOST_TEST(third.events[1].ms == 40);
  BOOST_TEST(third.events[1].attempt == 2u);
  const auto& counters = h.sched.counters();
  BOOST_TEST(counters.start_lag_sum_ms == 70u);
  BOOST_TEST(h.sched.take_start_lag_max() == 40u);
  BOOST_TEST(h.sched.take_start_lag_max() == 0u); // reset by the take
}

BOOST_AUTO_TEST_CASE(without_tracing_no_steps_are_collected) {
  scheduler_harness h(with_parallelism(2));
  h.add_job(2);
  auto r = h.turn(0);
  BOOST_TEST(r.dispatches.size() == 2u);
  BOOST_TEST(r.events.empty());
}

BOOST_AUTO_TEST_CASE(a_saturated_runtime_does_not_ask_to_wake_for_retries_it_cannot_start) {
  // With every slot taken only a completion can free one, and a completion brings a turn of
  // its own: waking before that would spin once a millisecond for nothing.
  scheduler_harness h(with_parallelism(1));
  h.add_job(2);
  auto c = scheduler_harness::report(h.turn(0).dispatches[0], outcome_kind::retryable);
  c.retry_after_ms = 10;
  h.sched.on_completion(c, 0);
  BOOST_TEST_REQUIRE(h.turn(1).dispatches.size() == 1u); // task 1 takes the only slot
  auto r = h.turn(10);
  BOOST_TEST(r.dispatches.empty());
  BOOST_TEST(!r.wake_at_ms.has_value());
}

BOOST_AUTO_TEST_CASE(a_retry_after_replaces_the_computed_backoff) {
  scheduler_harness h;
  auto job = h.add_job(1);
  auto c = scheduler_harness::report(h.turn(0).dispatches[0], outcome_kind::retryable);
  c.retry_after_ms = 60'000;
  h.sched.on_completion(c, 10);
  h.turn(10);
  BOOST_TEST(h.stored_task(job, 0)->due_ms == 60'010);
  BOOST_TEST(h.turn(60'009).dispatches.empty());
  BOOST_TEST(h.turn(60'010).dispatches.size() == 1u);
}

BOOST_AUTO_TEST_CASE(retries_are_counted_in_the_job_record_with_the_last_error) {
  scheduler_harness h;
  auto job = h.add_job(1);
  h.complete(h.turn(0).dispatches[0], outcome_kind::retryable, 10);
  h.turn(10);
  auto rec = h.stored_job(job);
  BOOST_TEST(rec.retries == 1u);
  BOOST_TEST(rec.last_error == "failed: 0");
  BOOST_TEST(h.sched.counters().retries == 1u);
}

BOOST_AUTO_TEST_CASE(a_permanent_failure_sends_the_task_to_the_dead_letter_at_once) {
  scheduler_harness h;
  auto job = h.add_job(2);
  auto ds = h.turn(0).dispatches;
  h.complete(ds[0], outcome_kind::permanent, 10);
  h.turn(10);
  auto rec = h.stored_task(job, 0);
  BOOST_TEST_REQUIRE(rec.has_value());
  BOOST_TEST((rec->state == storage::task_state::dead));
  BOOST_TEST(rec->failures == 1u);
  BOOST_TEST(rec->last_error == "failed: 0");
  BOOST_TEST(h.stored_due(job).empty());
  BOOST_TEST(h.stored_job(job).dead == 1u);
  BOOST_TEST(h.sched.counters().failed == 1u);
  BOOST_TEST(h.turn(1'000'000).dispatches.empty());
}

BOOST_AUTO_TEST_CASE(a_job_whose_every_task_failed_ends_failed) {
  scheduler_harness h;
  auto job = h.add_job(1);
  h.complete(h.turn(0).dispatches[0], outcome_kind::permanent, 10);
  auto r = h.turn(10);
  BOOST_TEST(r.finished_jobs.size() == 1u);
  BOOST_TEST((h.stored_job(job).state == job_state::failed));
}

BOOST_AUTO_TEST_CASE(a_job_with_some_failed_tasks_ends_completed_with_failures) {
  scheduler_harness h;
  auto job = h.add_job(2);
  auto ds = h.turn(0).dispatches;
  h.complete(ds[0], outcome_kind::permanent, 10);
  h.complete(ds[1], outcome_kind::ok, 10);
  h.turn(10);
  auto rec = h.stored_job(job);
  BOOST_TEST((rec.state == job_state::completed_with_failures));
  BOOST_TEST(rec.succeeded == 1u);
  BOOST_TEST(rec.dead == 1u);
}

BOOST_AUTO_TEST_CASE(retrying_the_dead_letter_requeues_only_dead_tasks_with_fresh_attempts) {
  scheduler_harness h;
  auto job = h.add_job(3);
  auto ds = h.turn(0).dispatches;
  h.complete(ds[0], outcome_kind::permanent, 10);
  h.complete(ds[1], outcome_kind::ok, 10);
  h.complete(ds[2], outcome_kind::permanent, 10);
  h.turn(10);
  BOOST_TEST((h.stored_job(job).state == job_state::completed_with_failures));
  auto records = h.store().load_task_records(job);
  BOOST_REQUIRE(records.has_value());
  auto n = h.sched.retry_dead(job, *records, 20);
  BOOST_REQUIRE(n.has_value());
  BOOST_TEST(*n == 2u);
  h.turn(20);
  auto rec = h.stored_job(job);
  BOOST_TEST((rec.state == job_state::pending));
  BOOST_TEST(rec.dead == 0u);
  BOOST_TEST(rec.finished_ms == 0);
  BOOST_TEST((h.stored_task(job, 0)->state == storage::task_state::waiting));
  BOOST_TEST(h.stored_task(job, 0)->failures == 0u);
  BOOST_TEST(!h.stored_task(job, 1).has_value());
  BOOST_TEST(h.stored_due(job).size() == 2u);
  // A finished job's process let it go: it runs again once activated (the next submit).
  BOOST_TEST(h.turn(30).dispatches.empty());
  h.sched.activate_job(job, {}, 40);
  auto again = h.turn(40).dispatches;
  BOOST_TEST(indices(again) == (std::vector<std::uint64_t>{0, 2}),
             boost::test_tools::per_element());
  BOOST_TEST(again[0].attempt == 1u);
  for (const auto& d : again)
    h.complete(d, outcome_kind::ok, 50);
  h.turn(50);
  BOOST_TEST((h.stored_job(job).state == job_state::succeeded));
}

BOOST_AUTO_TEST_CASE(a_cancelled_job_cannot_be_retried) {
  scheduler_harness h;
  auto job = h.add_job(1);
  h.sched.cancel(job, 0);
  h.turn(0);
  auto n = h.sched.retry_dead(job, {}, 10);
  BOOST_TEST(!n.has_value());
}

BOOST_AUTO_TEST_CASE(a_task_that_exhausts_its_attempts_goes_to_the_dead_letter) {
  scheduler_harness h;
  auto job = h.add_job(1, job_with(64, 2));
  h.complete(h.turn(0).dispatches[0], outcome_kind::retryable, 0);
  h.turn(0);
  auto second = h.turn(h.stored_task(job, 0)->due_ms).dispatches;
  BOOST_TEST_REQUIRE(second.size() == 1u);
  BOOST_TEST(second[0].attempt == 2u);
  h.complete(second[0], outcome_kind::retryable, 5'000);
  h.turn(5'000);
  auto rec = h.stored_task(job, 0);
  BOOST_TEST((rec->state == storage::task_state::dead));
  BOOST_TEST(rec->failures == 2u);
  BOOST_TEST(h.stored_due(job).empty());
  BOOST_TEST((h.stored_job(job).state == job_state::failed));
  BOOST_TEST(h.sched.counters().retries == 1u);
  BOOST_TEST(h.sched.counters().failed == 1u);
}

BOOST_AUTO_TEST_CASE(a_lost_run_counts_as_a_retryable_failure) {
  scheduler_harness h;
  auto job = h.add_job(1);
  auto d = h.turn(0).dispatches[0];
  h.sched.on_lost(d.task, d.run_id, "no heartbeat", 100);
  BOOST_TEST(h.sched.running() == 0u);
  h.turn(100);
  auto rec = h.stored_task(job, 0);
  BOOST_TEST_REQUIRE(rec.has_value());
  BOOST_TEST((rec->state == storage::task_state::waiting));
  BOOST_TEST(rec->failures == 1u);
  BOOST_TEST(rec->last_error == "no heartbeat");
  auto again = h.turn(rec->due_ms).dispatches;
  BOOST_TEST_REQUIRE(again.size() == 1u);
  BOOST_TEST(again[0].attempt == 2u);
}

BOOST_AUTO_TEST_CASE(a_lost_report_about_a_replaced_run_is_ignored) {
  scheduler_harness h;
  h.add_job(1);
  auto d = h.turn(0).dispatches[0];
  h.sched.on_lost(d.task, d.run_id + 100, "no heartbeat", 100);
  BOOST_TEST(h.sched.running() == 1u);
  BOOST_TEST(h.sched.counters().retries == 0u);
}

BOOST_AUTO_TEST_CASE(a_cancelled_outcome_without_a_job_cancel_requeues_without_counting_a_failure) {
  scheduler_harness h;
  auto job = h.add_job(1);
  auto d = h.turn(0).dispatches[0];
  h.complete(d, outcome_kind::cancelled, 10);
  auto again = h.turn(10).dispatches;
  BOOST_TEST_REQUIRE(again.size() == 1u);
  BOOST_TEST(again[0].attempt == 1u);
  BOOST_TEST(h.sched.counters().retries == 0u);
  BOOST_TEST(h.stored_job(job).retries == 0u);
}

// --- checkpoints -------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_checkpoint_is_stored_while_the_task_runs) {
  scheduler_harness h;
  auto job = h.add_job(1);
  auto d = h.turn(0).dispatches[0];
  h.sched.on_checkpoint(d.task, d.run_id, "offset=42");
  h.turn(1);
  auto rec = h.stored_task(job, 0);
  BOOST_TEST_REQUIRE(rec.has_value());
  BOOST_TEST((rec->state == storage::task_state::active));
  BOOST_TEST(rec->checkpoint == "offset=42");
}

BOOST_AUTO_TEST_CASE(a_checkpoint_is_handed_to_the_next_attempt) {
  scheduler_harness h;
  auto job = h.add_job(1);
  auto d = h.turn(0).dispatches[0];
  h.sched.on_checkpoint(d.task, d.run_id, "offset=42");
  h.complete(d, outcome_kind::retryable, 10);
  h.turn(10);
  BOOST_TEST(h.stored_task(job, 0)->checkpoint == "offset=42");
  auto again = h.turn(h.stored_task(job, 0)->due_ms).dispatches;
  BOOST_TEST_REQUIRE(again.size() == 1u);
  BOOST_TEST(again[0].checkpoint == "offset=42");
}

BOOST_AUTO_TEST_CASE(a_checkpoint_sent_with_a_failure_replaces_the_earlier_one) {
  scheduler_harness h;
  auto job = h.add_job(1);
  auto d = h.turn(0).dispatches[0];
  h.sched.on_checkpoint(d.task, d.run_id, "offset=42");
  auto c = scheduler_harness::report(d, outcome_kind::retryable);
  c.checkpoint = "offset=99";
  h.sched.on_completion(c, 10);
  h.turn(10);
  auto again = h.turn(h.stored_task(job, 0)->due_ms).dispatches;
  BOOST_TEST_REQUIRE(again.size() == 1u);
  BOOST_TEST(again[0].checkpoint == "offset=99");
}

BOOST_AUTO_TEST_CASE(a_checkpoint_of_a_replaced_run_is_ignored) {
  scheduler_harness h;
  auto job = h.add_job(1);
  auto d = h.turn(0).dispatches[0];
  h.sched.on_checkpoint(d.task, d.run_id + 100, "offset=42");
  h.turn(1);
  BOOST_TEST(!h.stored_task(job, 0).has_value());
}

BOOST_AUTO_TEST_CASE(a_success_deletes_the_record_of_a_checkpointed_task) {
  scheduler_harness h;
  auto job = h.add_job(1);
  auto d = h.turn(0).dispatches[0];
  h.sched.on_checkpoint(d.task, d.run_id, "offset=42");
  h.turn(1);
  h.complete(d, outcome_kind::ok, 2);
  h.turn(2);
  BOOST_TEST(!h.stored_task(job, 0).has_value());
  BOOST_TEST(h.done_bit(job, 0));
}

BOOST_AUTO_TEST_CASE(a_kind_that_keeps_final_checkpoints_keeps_the_one_sent_with_the_success) {
  scheduler_harness h;
  sched::job_config config;
  config.keep_final_checkpoint = true;
  auto job = h.add_job(2, config);
  auto ds = h.turn(0).dispatches;
  BOOST_TEST_REQUIRE(ds.size() == 2u);
  h.sched.on_checkpoint(ds[0].task, ds[0].run_id, "parts=1");
  h.turn(1);
  auto c = scheduler_harness::report(ds[0]);
  c.checkpoint = "parts=3 complete";
  h.sched.on_completion(c, 2);
  h.complete(ds[1], outcome_kind::ok, 2); // no checkpoint: nothing to keep
  h.turn(2);
  auto rec = h.stored_task(job, 0);
  BOOST_TEST_REQUIRE(rec.has_value());
  BOOST_TEST((rec->state == storage::task_state::done));
  BOOST_TEST(rec->checkpoint == "parts=3 complete");
  BOOST_TEST(h.done_bit(job, 0));
  BOOST_TEST(!h.stored_task(job, 1).has_value());
  BOOST_TEST((h.stored_job(job).state == job_state::succeeded));
}

// --- stale reports -----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_completion_from_another_generation_is_ignored_as_stale) {
  scheduler_harness h;
  auto job = h.add_job(1);
  auto c = scheduler_harness::report(h.turn(0).dispatches[0]);
  c.generation = scheduler_harness::generation - 1;
  BOOST_TEST(!h.sched.on_completion(c, 5));
  h.turn(5);
  BOOST_TEST(h.sched.counters().stale == 1u);
  BOOST_TEST(h.sched.running() == 1u);
  BOOST_TEST(!h.done_bit(job, 0));
}

BOOST_AUTO_TEST_CASE(a_completion_of_a_replaced_run_is_ignored_as_stale) {
  scheduler_harness h;
  auto job = h.add_job(1);
  auto old_run = h.turn(0).dispatches[0];
  h.sched.on_lost(old_run.task, old_run.run_id, "no heartbeat", 10);
  h.turn(10);
  auto new_run = h.turn(h.stored_task(job, 0)->due_ms).dispatches;
  BOOST_TEST_REQUIRE(new_run.size() == 1u);
  BOOST_TEST(!h.complete(old_run, outcome_kind::ok, 10'000));
  BOOST_TEST(h.sched.counters().stale == 1u);
  BOOST_TEST(h.sched.running() == 1u);
  h.turn(10'000);
  BOOST_TEST(!h.done_bit(job, 0));
}

BOOST_AUTO_TEST_CASE(a_completion_for_a_task_that_is_not_running_is_ignored_as_stale) {
  scheduler_harness h;
  auto job = h.add_job(5);
  h.turn(0);
  dispatch unknown{{job, 4}, 12345, 1, {}};
  BOOST_TEST(!h.complete(unknown, outcome_kind::ok, 5));
  dispatch no_such_job{{job + 1, 0}, 1, 1, {}};
  BOOST_TEST(!h.complete(no_such_job, outcome_kind::ok, 5));
  BOOST_TEST(h.sched.counters().stale == 2u);
  BOOST_TEST(h.sched.counters().completed == 0u);
}

// --- cancel ------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_cancelled_job_starts_none_of_its_pending_tasks) {
  scheduler_harness h(with_parallelism(2));
  auto job = h.add_job(10);
  auto ds = h.turn(0).dispatches;
  h.sched.cancel(job, 10);
  for (const auto& d : ds)
    h.complete(d, outcome_kind::cancelled, 11);
  BOOST_TEST(h.turn(11).dispatches.empty());
  BOOST_TEST(h.turn(1'000'000).dispatches.empty());
  BOOST_TEST(h.stored_job(job).next_fresh == 2u);
}

BOOST_AUTO_TEST_CASE(cancelling_asks_each_running_task_to_stop_once) {
  scheduler_harness h(with_parallelism(3));
  auto job = h.add_job(10);
  auto ds = h.turn(0).dispatches;
  h.sched.cancel(job, 10);
  auto r = h.turn(10);
  BOOST_TEST_REQUIRE(r.stops.size() == 3u);
  std::vector<std::uint64_t> stopped, started;
  for (const auto& s : r.stops)
    stopped.push_back(s.run_id);
  for (const auto& d : ds)
    started.push_back(d.run_id);
  std::sort(stopped.begin(), stopped.end());
  std::sort(started.begin(), started.end());
  BOOST_TEST(stopped == started, boost::test_tools::per_element());
  BOOST_TEST(h.turn(11).stops.empty());
}

BOOST_AUTO_TEST_CASE(a_cancelled_job_ends_cancelled_once_its_running_tasks_report) {
  scheduler_harness h(with_parallelism(3));
  auto job = h.add_job(10);
  auto ds = h.turn(0).dispatches;
  h.sched.cancel(job, 10);
  h.turn(10);
  h.complete(ds[0], outcome_kind::cancelled, 11);
  h.complete(ds[1], outcome_kind::retryable, 11);
  BOOST_TEST(h.turn(11).finished_jobs.empty());
  BOOST_TEST((h.stored_job(job).state != job_state::cancelled));
  h.complete(ds[2], outcome_kind::cancelled, 12);
  auto r = h.turn(12);
  BOOST_TEST(r.finished_jobs == (std::vector<std::uint32_t>{job}),
             boost::test_tools::per_element());
  auto rec = h.stored_job(job);
  BOOST_TEST((rec.state == job_state::cancelled));
  BOOST_TEST(rec.retries == 0u);
  BOOST_TEST(h.sched.counters().cancelled == 3u);
  BOOST_TEST(h.sched.status(job)->tasks.cancelled == 10u);
}

BOOST_AUTO_TEST_CASE(a_cancelled_job_frees_its_slots_after_the_grace_even_without_reports) {
  scheduler::options o;
  o.parallelism = 3;
  o.cancel_grace_ms = 1'000;
  scheduler_harness h(o);
  auto job = h.add_job(10);
  auto other = h.add_job(10);
  auto ds = h.turn(0).dispatches;
  h.sched.cancel(job, 100);
  auto r = h.turn(100);
  BOOST_TEST_REQUIRE(r.wake_at_ms.has_value());
  BOOST_TEST(*r.wake_at_ms == 1'100);
  h.turn(1'099);
  BOOST_TEST((h.stored_job(job).state != job_state::cancelled));
  r = h.turn(1'100);
  BOOST_TEST((h.stored_job(job).state == job_state::cancelled));
  // The freed slots go to the other job, and a late report of a given-up run is stale.
  std::size_t others = 0;
  for (const auto& d : r.dispatches)
    others += d.task.job == other ? 1 : 0;
  BOOST_TEST(h.sched.running() == 3u);
  BOOST_TEST(others > 0u);
  for (const auto& d : ds) {
    if (d.task.job == job) {
      BOOST_TEST(!h.complete(d, outcome_kind::cancelled, 1'200));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_cancel_with_no_grace_still_asks_its_runs_to_stop_as_cancelled) {
  // Regression: with no grace the runs were given up on in the cancel's own turn, before
  // its stop requests went out, so they never heard of the cancel.
  scheduler::options o;
  o.parallelism = 2;
  o.cancel_grace_ms = 0;
  scheduler_harness h(o);
  auto job = h.add_job(10);
  h.turn(0);
  h.sched.cancel(job, 5);
  auto r = h.turn(5);
  BOOST_TEST_REQUIRE(r.stops.size() == 2u);
  for (const auto& s : r.stops)
    BOOST_TEST(s.cancel);
  BOOST_TEST((h.stored_job(job).state == job_state::cancelled));
}

BOOST_AUTO_TEST_CASE(a_cancel_during_a_shutdown_reaches_its_runs_as_a_cancel) {
  scheduler_harness h(with_parallelism(2));
  auto job = h.add_job(10);
  h.turn(0);
  h.sched.begin_shutdown(1, 10'000);
  auto first = h.turn(1);
  BOOST_TEST(first.stops.size() == 2u);
  for (const auto& s : first.stops)
    BOOST_TEST(!s.cancel);
  h.sched.cancel(job, 2);
  auto second = h.turn(2);
  BOOST_TEST_REQUIRE(second.stops.size() == 2u);
  for (const auto& s : second.stops)
    BOOST_TEST(s.cancel);
}

BOOST_AUTO_TEST_CASE(a_cancelled_job_drops_its_waiting_retries) {
  scheduler_harness h;
  auto job = h.add_job(2);
  auto ds = h.turn(0).dispatches;
  h.complete(ds[0], outcome_kind::retryable, 10);
  h.turn(10);
  auto due_ms = h.stored_task(job, 0)->due_ms;
  h.sched.cancel(job, 20);
  h.complete(ds[1], outcome_kind::cancelled, 21);
  h.turn(21);
  BOOST_TEST(h.stored_due(job).empty());
  BOOST_TEST(h.turn(due_ms).dispatches.empty());
  BOOST_TEST((h.stored_job(job).state == job_state::cancelled));
}

BOOST_AUTO_TEST_CASE(cancelling_a_finished_job_changes_nothing) {
  scheduler_harness h;
  auto job = h.add_job(1);
  h.complete(h.turn(0).dispatches[0], outcome_kind::ok, 1);
  h.turn(1);
  h.sched.cancel(job, 2);
  auto r = h.turn(2);
  BOOST_TEST(r.finished_jobs.empty());
  BOOST_TEST((h.stored_job(job).state == job_state::succeeded));
}

// --- pause and parallelism ---------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_job_with_parallelism_zero_is_paused_and_starts_nothing) {
  scheduler_harness h;
  auto job = h.add_job(5, job_with(0));
  BOOST_TEST(h.turn(0).dispatches.empty());
  BOOST_TEST((h.stored_job(job).state == job_state::paused));
  BOOST_TEST(!h.sched.all_finished());
}

BOOST_AUTO_TEST_CASE(raising_a_paused_jobs_parallelism_resumes_it) {
  scheduler_harness h;
  auto job = h.add_job(5, job_with(0));
  h.turn(0);
  h.sched.set_job_parallelism(job, 2);
  BOOST_TEST(h.turn(1).dispatches.size() == 2u);
  BOOST_TEST((h.stored_job(job).state == job_state::running));
}

BOOST_AUTO_TEST_CASE(pausing_a_running_job_lets_its_runs_finish_but_starts_no_more) {
  scheduler_harness h;
  auto job = h.add_job(5, job_with(2));
  auto ds = h.turn(0).dispatches;
  h.sched.set_job_parallelism(job, 0);
  for (const auto& d : ds)
    BOOST_TEST(h.complete(d, outcome_kind::ok, 1));
  BOOST_TEST(h.turn(1).dispatches.empty());
  auto rec = h.stored_job(job);
  BOOST_TEST((rec.state == job_state::paused));
  BOOST_TEST(rec.succeeded == 2u);
}

BOOST_AUTO_TEST_CASE(a_paused_job_resumes_with_the_parallelism_it_had) {
  scheduler_harness h;
  auto job = h.add_job(10, job_with(3));
  auto ds = h.turn(0).dispatches;
  BOOST_TEST_REQUIRE(ds.size() == 3u);
  BOOST_TEST(h.sched.pause(job));
  for (const auto& d : ds)
    h.complete(d, outcome_kind::ok, 1);
  BOOST_TEST(h.turn(1).dispatches.empty());
  BOOST_TEST((h.stored_job(job).state == job_state::paused));
  BOOST_TEST(h.sched.resume(job, 64));
  BOOST_TEST(h.turn(2).dispatches.size() == 3u); // its own 3, not the runtime's 64
  BOOST_TEST((h.stored_job(job).state == job_state::running));
}

BOOST_AUTO_TEST_CASE(a_job_paused_through_parallelism_zero_resumes_with_the_parallelism_it_had) {
  scheduler_harness h;
  auto job = h.add_job(10, job_with(3));
  auto ds = h.turn(0).dispatches;
  BOOST_TEST_REQUIRE(ds.size() == 3u);
  h.sched.set_job_parallelism(job, 0);
  for (const auto& d : ds)
    h.complete(d, outcome_kind::ok, 1);
  BOOST_TEST(h.turn(1).dispatches.empty());
  BOOST_TEST(h.sched.resume(job, 64));
  BOOST_TEST(h.turn(2).dispatches.size() == 3u); // its own 3, not the runtime's 64
}

BOOST_AUTO_TEST_CASE(parallelism_for_a_job_not_running_here_pauses_or_unpauses_it_in_the_store) {
  scheduler_harness h;
  auto job = h.add_stored_job(4, job_state::pending);
  h.sched.set_job_parallelism(job, 0);
  h.turn(0);
  BOOST_TEST((h.stored_job(job).state == job_state::paused));
  h.sched.set_job_parallelism(job, 2);
  h.turn(1);
  // Not "running": no process runs it until one submits it.
  BOOST_TEST((h.stored_job(job).state == job_state::pending));
}

BOOST_AUTO_TEST_CASE(a_job_stored_paused_stays_paused_when_activated_until_resumed) {
  scheduler_harness h;
  auto job = h.add_stored_job(4, job_state::paused); // as an earlier process left it
  h.sched.activate_job(job, job_with(2), 0);
  BOOST_TEST(h.turn(0).dispatches.empty());
  BOOST_TEST((h.stored_job(job).state == job_state::paused));
  BOOST_TEST(h.sched.resume(job, 64));
  BOOST_TEST(h.turn(1).dispatches.size() == 2u); // the parallelism it was submitted with
}

BOOST_AUTO_TEST_CASE(a_job_not_running_here_is_paused_and_resumed_in_the_store) {
  scheduler_harness h;
  auto job = h.add_stored_job(4, job_state::pending);
  BOOST_TEST(h.sched.pause(job));
  h.turn(0);
  BOOST_TEST((h.stored_job(job).state == job_state::paused));
  BOOST_TEST(h.sched.resume(job, 64));
  h.turn(1);
  BOOST_TEST((h.stored_job(job).state == job_state::pending));
}

BOOST_AUTO_TEST_CASE(a_finished_job_cannot_be_paused_or_resumed) {
  scheduler_harness h;
  auto job = h.add_job(1);
  h.complete(h.turn(0).dispatches[0], outcome_kind::ok, 1);
  h.turn(1);
  BOOST_TEST(!h.sched.pause(job));
  BOOST_TEST(!h.sched.resume(job, 64));
}

BOOST_AUTO_TEST_CASE(runtime_parallelism_zero_starts_nothing_for_any_job) {
  scheduler_harness h(with_parallelism(0));
  h.add_job(5);
  h.add_job(5);
  BOOST_TEST(h.turn(0).dispatches.empty());
  h.sched.set_parallelism(3);
  BOOST_TEST(h.turn(1).dispatches.size() == 3u);
}

BOOST_AUTO_TEST_CASE(lowering_the_runtime_parallelism_stops_nothing_but_starts_nothing_new) {
  scheduler_harness h(with_parallelism(4));
  h.add_job(10);
  auto ds = h.turn(0).dispatches;
  h.sched.set_parallelism(1);
  auto r = h.turn(1);
  BOOST_TEST(r.stops.empty());
  BOOST_TEST(r.dispatches.empty());
  h.complete(ds[0], outcome_kind::ok, 2);
  BOOST_TEST(h.turn(2).dispatches.empty()); // three still run over a limit of one
}

// --- shutdown ----------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(shutdown_asks_every_running_task_to_stop_once_and_starts_nothing) {
  scheduler_harness h(with_parallelism(3));
  h.add_job(10);
  auto ds = h.turn(0).dispatches;
  h.sched.begin_shutdown(10, 500);
  auto r = h.turn(10);
  BOOST_TEST(r.stops.size() == 3u);
  BOOST_TEST(r.dispatches.empty());
  for (const auto& d : ds)
    h.complete(d, outcome_kind::cancelled, 11);
  r = h.turn(11);
  BOOST_TEST(r.stops.empty());
  BOOST_TEST(r.dispatches.empty());
  BOOST_TEST(h.sched.shutdown_complete(11));
}

BOOST_AUTO_TEST_CASE(a_task_stopped_by_shutdown_is_requeued_without_a_failure) {
  scheduler_harness h;
  auto job = h.add_job(1);
  auto d = h.turn(0).dispatches[0];
  h.sched.on_checkpoint(d.task, d.run_id, "half");
  h.sched.begin_shutdown(10, 500);
  h.turn(10);
  h.complete(d, outcome_kind::cancelled, 11);
  h.turn(11);
  auto rec = h.stored_task(job, 0);
  BOOST_TEST_REQUIRE(rec.has_value());
  BOOST_TEST((rec->state == storage::task_state::waiting));
  BOOST_TEST(rec->failures == 0u);
  BOOST_TEST(rec->checkpoint == "half");
  BOOST_TEST(h.stored_due(job).size() == 1u);
}

BOOST_AUTO_TEST_CASE(shutdown_is_complete_after_the_grace_even_when_tasks_do_not_report) {
  scheduler_harness h;
  h.add_job(3);
  h.turn(0);
  h.sched.begin_shutdown(10, 500);
  auto r = h.turn(10);
  BOOST_TEST_REQUIRE(r.wake_at_ms.has_value());
  BOOST_TEST(*r.wake_at_ms == 510);
  BOOST_TEST(!h.sched.shutdown_complete(509));
  BOOST_TEST(h.sched.shutdown_complete(510));
}

// --- fairness ----------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(free_slots_are_shared_evenly_between_jobs) {
  scheduler_harness h(with_parallelism(10));
  auto a = h.add_job(100);
  auto b = h.add_job(100);
  std::map<std::uint32_t, int> per_job;
  for (const auto& d : h.turn(0).dispatches)
    ++per_job[d.task.job];
  BOOST_TEST(per_job[a] == 5);
  BOOST_TEST(per_job[b] == 5);
}

BOOST_AUTO_TEST_CASE(a_single_slot_alternates_between_two_jobs) {
  scheduler_harness h(with_parallelism(1));
  auto a = h.add_job(100);
  auto b = h.add_job(100);
  std::vector<std::uint32_t> order;
  auto ds = h.turn(0).dispatches;
  for (std::int64_t now = 1; now <= 6; ++now) {
    BOOST_TEST_REQUIRE(ds.size() == 1u);
    order.push_back(ds[0].task.job);
    h.complete(ds[0], outcome_kind::ok, now);
    ds = h.turn(now).dispatches;
  }
  BOOST_TEST(order == (std::vector<std::uint32_t>{a, b, a, b, a, b}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_job_added_later_gets_slots_as_they_free_up) {
  scheduler_harness h(with_parallelism(2));
  auto a = h.add_job(100);
  auto first = h.turn(0).dispatches;
  auto b = h.add_job(100, {}, 1);
  for (const auto& d : first)
    h.complete(d, outcome_kind::ok, 1);
  std::map<std::uint32_t, int> per_job;
  for (const auto& d : h.turn(1).dispatches)
    ++per_job[d.task.job];
  BOOST_TEST(per_job[a] == 1);
  BOOST_TEST(per_job[b] == 1);
}

BOOST_AUTO_TEST_SUITE_END()
