#pragma once

// The scheduler's due_source over the real store: what the supervisor and the scheduler
// tests page due queues in through.

#include "runtime/scheduler.hpp"
#include "storage/store.hpp"

namespace haul::sched {

class store_due_source final : public due_source {
 public:
  explicit store_due_source(storage::store& s)
      : store_(s) {}

  expected<std::vector<storage::due_entry>> load_due(std::uint32_t job,
                                                     const std::optional<storage::due_entry>& after,
                                                     std::size_t limit) override {
    return store_.load_due(job, after, limit);
  }
  expected<std::optional<storage::task_record>> load_task(task_id task) override {
    return store_.load_task_record(task.job, task.index);
  }

 private:
  storage::store& store_;
};

} // namespace haul::sched
