#include "runtime/liveness.hpp"

namespace haul {

void liveness_tracker::watch(sched::task_id task, std::uint64_t run_id, std::int64_t timeout_ms,
                             std::int64_t now_ms) {
  runs_[task] = watched{run_id, timeout_ms, now_ms};
}

void liveness_tracker::beat(sched::task_id task, std::uint64_t run_id, std::int64_t now_ms) {
  auto it = runs_.find(task);
  if (it != runs_.end() && it->second.run_id == run_id && now_ms > it->second.last_beat_ms)
    it->second.last_beat_ms = now_ms;
}

void liveness_tracker::unwatch(sched::task_id task, std::uint64_t run_id) {
  auto it = runs_.find(task);
  if (it != runs_.end() && it->second.run_id == run_id)
    runs_.erase(it);
}

std::vector<lost_run> liveness_tracker::expire(std::int64_t now_ms) {
  std::vector<lost_run> out;
  for (auto it = runs_.begin(); it != runs_.end();) {
    const auto& w = it->second;
    if (now_ms >= w.last_beat_ms + w.timeout_ms) {
      out.push_back({it->first, w.run_id, now_ms - w.last_beat_ms});
      it = runs_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

} // namespace haul
