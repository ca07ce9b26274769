#pragma once

// Drives a scheduler the way the supervisor does, over a real store in a temporary directory:
// each turn's batch is committed before the turn's dispatches are looked at. Times are plain
// milliseconds that the test passes in.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "runtime/scheduler.hpp"
#include "runtime/store_due_source.hpp"
#include "storage/encoding.hpp"
#include "storage/store.hpp"
#include "temp_dir.hpp"
#include "test_util.hpp"

namespace haul::test {

using sched::store_due_source;

class scheduler_harness {
 public:
  static constexpr std::uint64_t generation = 3;

  explicit scheduler_harness(sched::scheduler::options opts = {})
      : store_(open_store(dir_.path()))
      , source_(*store_)
      , sched(opts, generation, source_) {}

  storage::store& store() { return *store_; }

  /// Adds a job of `total` tasks and activates it.
  std::uint32_t add_job(std::uint64_t total, sched::job_config config = {},
                        std::int64_t now_ms = 0) {
    auto seq = add_stored_job(total, job_state::pending, now_ms);
    sched.activate_job(seq, config, now_ms);
    return seq;
  }

  /// Adds a job as an earlier process left it in the store, in `state`, without activating
  /// it (a job not submitted in this process).
  std::uint32_t add_stored_job(std::uint64_t total, job_state state, std::int64_t created_ms = 0) {
    storage::job_record r;
    r.seq = next_seq_++;
    r.id = "job-" + std::to_string(r.seq);
    r.name = r.id;
    r.kind = "noop";
    r.total = total;
    r.state = state;
    r.created_ms = created_ms;
    sched.add_job(r, 0);
    return r.seq;
  }

  /// One supervisor turn: decide, commit the batch, acknowledge it.
  sched::turn_result turn(std::int64_t now_ms) {
    auto r = sched.turn(now_ms);
    BOOST_REQUIRE_MESSAGE(r.has_value(), "turn failed: " << why(r));
    auto ok = store_->commit(r->batch, false);
    BOOST_REQUIRE_MESSAGE(ok.has_value(), "commit failed: " << why(ok));
    sched.committed();
    return std::move(*r);
  }

  /// The report a worker sends for the run `d`.
  static sched::completion report(const sched::dispatch& d, outcome_kind kind = outcome_kind::ok) {
    sched::completion c;
    c.task = d.task;
    c.run_id = d.run_id;
    c.generation = generation;
    c.kind = kind;
    if (kind != outcome_kind::ok)
      c.error = "failed: " + std::to_string(d.task.index);
    return c;
  }

  bool complete(const sched::dispatch& d, outcome_kind kind, std::int64_t now_ms) {
    return sched.on_completion(report(d, kind), now_ms);
  }

  storage::job_record stored_job(std::uint32_t seq) {
    auto jobs = store_->load_jobs();
    BOOST_REQUIRE(jobs.has_value());
    for (auto& j : *jobs)
      if (j.seq == seq)
        return j;
    BOOST_FAIL("job " << seq << " is not in the store");
    return {};
  }

  std::optional<storage::task_record> stored_task(std::uint32_t job, std::uint64_t index) {
    auto r = store_->load_task_record(job, index);
    BOOST_REQUIRE(r.has_value());
    return *r;
  }

  std::vector<storage::due_entry> stored_due(std::uint32_t job) {
    auto r = store_->load_due(job, std::nullopt, 1'000'000);
    BOOST_REQUIRE(r.has_value());
    return *r;
  }

  bool done_bit(std::uint32_t job, std::uint64_t index) {
    auto chunk = store_->load_done_chunk(job, index / storage::done_chunk_bits);
    BOOST_REQUIRE(chunk.has_value());
    auto bit = index % storage::done_chunk_bits;
    return ((static_cast<unsigned char>((*chunk)[bit / 8]) >> (bit % 8)) & 1u) != 0;
  }

 private:
  temp_dir dir_;
  std::unique_ptr<storage::store> store_;
  store_due_source source_;
  std::uint32_t next_seq_ = 1;

 public:
  sched::scheduler sched; ///< Declared last: it borrows the store and the source above.
};

} // namespace haul::test
