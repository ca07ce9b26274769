#include "storage/recovery_pass.hpp"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "storage/encoding.hpp"
#include "storage/store.hpp"
#include "temp_dir.hpp"
#include "test_util.hpp"

using namespace haul;
using namespace haul::storage;

namespace {

constexpr std::int64_t now_ms = 1'000'000;
constexpr std::int64_t retention_ms = 100'000;

/// A store as a killed process left it: job 1 was running with tasks [0, 10) dispatched,
/// of which 0, 1, 2, 4 and 5 succeeded (5 kept its final checkpoint), 7 waits on a backoff, 8 ran
/// with a checkpoint, and 3, 6 and 9 were in flight without leaving a trace. Job 2 finished long
/// ago, job 3 recently.
struct crashed_store {
  test::temp_dir dir;
  std::unique_ptr<store> s = test::open_store(dir.path());

  crashed_store() {
    store_batch b;
    b.put_job(job(1, "crashed", job_state::running, 0));
    b.put_job_id("crashed", 1);
    for (std::uint64_t i : {0, 1, 2, 4, 5})
      b.mark_done(1, i);
    b.put_task(1, 7, {task_state::waiting, 1, 5'000, "boom", {}});
    b.put_due({1, 5'000, 7});
    b.put_task(1, 8, {task_state::active, 0, 0, {}, "cp8"});
    b.put_task(1, 5, {task_state::done, 0, 0, {}, "final5"});

    b.put_job(job(2, "expired", job_state::succeeded, now_ms - retention_ms - 1));
    b.put_job_id("expired", 2);
    b.mark_done(2, 0);
    b.put_task(2, 1, {task_state::dead, 5, 0, "gone", {}});

    b.put_job(job(3, "recent", job_state::completed_with_failures, now_ms - retention_ms + 1));
    b.put_job_id("recent", 3);
    BOOST_TEST_REQUIRE(s->commit(b, true).has_value());
  }

  static job_record job(std::uint32_t seq, std::string id, job_state state,
                        std::int64_t finished_ms) {
    job_record r;
    r.seq = seq;
    r.id = id;
    r.name = std::move(id);
    r.kind = "noop";
    r.total = 20;
    r.next_fresh = 10;
    r.state = state;
    r.running = 4;
    r.finished_ms = finished_ms;
    return r;
  }

  recovery_result recover(std::int64_t at_ms = now_ms) {
    auto r = run_recovery_pass(*s, at_ms, retention_ms);
    BOOST_REQUIRE_MESSAGE(r.has_value(), "recovery failed: " << test::why(r));
    return std::move(*r);
  }

  std::vector<std::uint64_t> due_indices(std::uint32_t seq) {
    auto due = s->load_due(seq, std::nullopt, 1'000);
    BOOST_REQUIRE(due.has_value());
    std::vector<std::uint64_t> out;
    for (const auto& e : *due)
      out.push_back(e.index);
    return out;
  }

  std::optional<job_record> stored_job(std::uint32_t seq) {
    auto jobs = s->load_jobs();
    BOOST_REQUIRE(jobs.has_value());
    for (auto& j : *jobs)
      if (j.seq == seq)
        return j;
    return std::nullopt;
  }
};

const recovered_job* find(const recovery_result& r, std::uint32_t seq) {
  auto it = std::find_if(r.jobs.begin(), r.jobs.end(),
                         [&](const recovered_job& j) { return j.record.seq == seq; });
  return it == r.jobs.end() ? nullptr : &*it;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(recovery_pass_tests, crashed_store)

BOOST_AUTO_TEST_CASE(tasks_in_flight_without_a_trace_are_requeued_due_now) {
  recover();
  for (std::uint64_t i : {3, 6, 9}) {
    auto rec = s->load_task_record(1, i);
    BOOST_TEST_REQUIRE(rec.has_value());
    BOOST_TEST_CONTEXT("task " << i) {
      BOOST_TEST_REQUIRE(rec->has_value());
      BOOST_TEST(((*rec)->state == task_state::waiting));
      BOOST_TEST((*rec)->due_ms == now_ms);
      BOOST_TEST((*rec)->failures == 0u);
    }
  }
}

BOOST_AUTO_TEST_CASE(an_active_task_is_requeued_with_its_checkpoint) {
  recover();
  auto rec = s->load_task_record(1, 8);
  BOOST_TEST_REQUIRE(rec.has_value());
  BOOST_TEST_REQUIRE(rec->has_value());
  BOOST_TEST(((*rec)->state == task_state::waiting));
  BOOST_TEST((*rec)->due_ms == now_ms);
  BOOST_TEST((*rec)->checkpoint == "cp8");
}

BOOST_AUTO_TEST_CASE(a_waiting_task_keeps_its_due_time) {
  recover();
  auto rec = s->load_task_record(1, 7);
  BOOST_TEST_REQUIRE(rec.has_value());
  BOOST_TEST_REQUIRE(rec->has_value());
  BOOST_TEST(((*rec)->state == task_state::waiting));
  BOOST_TEST((*rec)->due_ms == 5'000);
  BOOST_TEST((*rec)->failures == 1u);
}

BOOST_AUTO_TEST_CASE(the_due_queue_holds_every_unfinished_task_in_due_order) {
  auto r = recover();
  BOOST_TEST(due_indices(1) == (std::vector<std::uint64_t>{7, 3, 6, 8, 9}),
             boost::test_tools::per_element());
  BOOST_TEST_REQUIRE(find(r, 1) != nullptr);
  BOOST_TEST(find(r, 1)->waiting == 5u);
}

BOOST_AUTO_TEST_CASE(succeeded_and_never_started_tasks_are_left_alone) {
  recover();
  for (std::uint64_t i : {0, 1, 2, 4, 10, 19}) {
    auto rec = s->load_task_record(1, i);
    BOOST_TEST_REQUIRE(rec.has_value());
    BOOST_TEST_CONTEXT("task " << i) {
      BOOST_TEST(!rec->has_value());
    }
  }
}

BOOST_AUTO_TEST_CASE(a_succeeded_task_keeps_its_final_checkpoint_and_is_not_requeued) {
  recover();
  auto rec = s->load_task_record(1, 5);
  BOOST_TEST_REQUIRE(rec.has_value());
  BOOST_TEST_REQUIRE(rec->has_value());
  BOOST_TEST(((*rec)->state == task_state::done));
  BOOST_TEST((*rec)->checkpoint == "final5");
}

BOOST_AUTO_TEST_CASE(the_report_counts_interrupted_tasks_resumable_and_expired_jobs) {
  auto r = recover();
  BOOST_TEST(r.report.tasks_interrupted == 4u);
  BOOST_TEST(r.report.jobs_resumable == 1u);
  BOOST_TEST(r.report.jobs_expired == 1u);
}

BOOST_AUTO_TEST_CASE(an_unfinished_job_goes_back_to_pending_with_nothing_running) {
  auto r = recover();
  auto stored = stored_job(1);
  BOOST_TEST_REQUIRE(stored.has_value());
  BOOST_TEST((stored->state == job_state::pending));
  BOOST_TEST(stored->running == 0u);
  BOOST_TEST(stored->updated_ms == now_ms);
  BOOST_TEST((find(r, 1)->record == *stored));
}

BOOST_AUTO_TEST_CASE(a_paused_job_stays_paused) {
  store_batch b;
  b.put_job(job(4, "held", job_state::paused, 0));
  b.put_job_id("held", 4);
  BOOST_TEST_REQUIRE(s->commit(b, true).has_value());
  auto r = recover();
  BOOST_TEST_REQUIRE(find(r, 4) != nullptr);
  BOOST_TEST((find(r, 4)->record.state == job_state::paused));
}

BOOST_AUTO_TEST_CASE(each_pass_bumps_the_generation_by_one) {
  BOOST_TEST(recover().report.generation == 1u);
  BOOST_TEST(*s->generation() == 1u);
  BOOST_TEST(recover(now_ms + 1).report.generation == 2u);
  BOOST_TEST(*s->generation() == 2u);
}

BOOST_AUTO_TEST_CASE(a_second_pass_finds_nothing_more_interrupted) {
  recover();
  auto again = recover(now_ms + 1);
  BOOST_TEST(again.report.tasks_interrupted == 0u);
  BOOST_TEST_REQUIRE(find(again, 1) != nullptr);
  BOOST_TEST(find(again, 1)->waiting == 5u);
  BOOST_TEST(due_indices(1).size() == 5u);
}

BOOST_AUTO_TEST_CASE(a_finished_job_past_its_retention_is_deleted_entirely) {
  auto r = recover();
  BOOST_TEST(find(r, 2) == nullptr);
  BOOST_TEST(!stored_job(2).has_value());
  auto id = s->find_job("expired");
  BOOST_TEST_REQUIRE(id.has_value());
  BOOST_TEST(!id->has_value());
  auto tasks = s->load_task_records(2);
  BOOST_TEST_REQUIRE(tasks.has_value());
  BOOST_TEST(tasks->empty());
  BOOST_TEST(*s->load_done_chunk(2, 0) == std::string(done_chunk_bytes, '\0'));
}

BOOST_AUTO_TEST_CASE(a_finished_job_within_its_retention_is_kept_unchanged) {
  auto r = recover();
  BOOST_TEST_REQUIRE(find(r, 3) != nullptr);
  auto stored = stored_job(3);
  BOOST_TEST_REQUIRE(stored.has_value());
  BOOST_TEST((stored->state == job_state::completed_with_failures));
  BOOST_TEST(
      (*stored == job(3, "recent", job_state::completed_with_failures, now_ms - retention_ms + 1)));
  BOOST_TEST(find(r, 3)->waiting == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
