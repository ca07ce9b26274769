#pragma once

// The recovery actor's view of the running set: one deadline per run, pushed forward by
// every heartbeat. A run is declared lost only when its deadline passes; how long it has
// been running never matters, so a long, healthy task is never started twice at once.
// Plain class, times passed in: tests drive it with a fake clock.

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "runtime/scheduler.hpp"

namespace haul {

struct lost_run {
  sched::task_id task;
  std::uint64_t run_id = 0;
  std::int64_t silent_ms = 0; ///< How long it went without a heartbeat.
};

class liveness_tracker {
 public:
  /// Starts watching a run: lost unless it beats or completes within timeout_ms.
  void watch(sched::task_id task, std::uint64_t run_id, std::int64_t timeout_ms,
             std::int64_t now_ms);
  /// A heartbeat: pushes the deadline to now + timeout. Ignored for unknown or replaced runs.
  void beat(sched::task_id task, std::uint64_t run_id, std::int64_t now_ms);
  /// The run completed (or was given up): stop watching it.
  void unwatch(sched::task_id task, std::uint64_t run_id);
  /// Removes and returns every run whose deadline is at or before now.
  std::vector<lost_run> expire(std::int64_t now_ms);
  std::size_t size() const { return runs_.size(); }

 private:
  struct watched {
    std::uint64_t run_id = 0;
    std::int64_t timeout_ms = 0;
    std::int64_t last_beat_ms = 0;
  };
  std::unordered_map<sched::task_id, watched, sched::task_id_hash> runs_;
};

} // namespace haul
