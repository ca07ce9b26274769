#pragma once

// Adaptive concurrency for one job: how many of its tasks may be in flight right now, found
// the way TCP finds a congestion window. It starts low and doubles per round of successes
// (slow start) until the first overload, then grows by one per round (additive increase);
// an overload (HTTP 429/503) halves it (multiplicative decrease).
//
// A burst of overloads counts once: every run that was already in flight when the window
// shrank saw the old load, so its overload says nothing new. Runs are told apart by run id,
// which grows with every dispatch: no clock needed.

#include <cstdint>

namespace haul::sched {

class concurrency_window {
 public:
  static constexpr std::uint32_t initial = 4;

  /// `ceiling` is the job's configured parallelism: the window never exceeds it.
  explicit concurrency_window(std::uint32_t ceiling = 64);

  /// Tasks that may be in flight: between 1 and the ceiling.
  std::uint32_t limit() const;

  void on_success();
  /// `run_id` is the overloaded run's; `next_run_id` the id the next dispatch will get.
  void on_overload(std::uint64_t run_id, std::uint64_t next_run_id);
  void set_ceiling(std::uint32_t ceiling);

 private:
  double window_;
  double threshold_; ///< Slow start below it, additive increase above.
  std::uint32_t ceiling_;
  std::uint64_t quiet_before_run_ = 0; ///< Overloads of earlier runs are part of a past burst.
};

} // namespace haul::sched
