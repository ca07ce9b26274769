#pragma once

// Adaptive concurrency for one job: how many of its tasks may be in flight right now.
//
// It starts low and grows the way TCP finds a congestion window, judged once per round (as
// many completions as the window allows in flight, at least min_round): a round in which at
// least overload_share of the completions said "overloaded" (HTTP 429/503) halves the
// window (multiplicative decrease); any other round doubles it until the first decrease
// (slow start) and adds one after it (additive increase).
//
// Judging whole rounds is what makes a *burst* of overloads count, and once: a scattering
// of 503s (a flaky proxy failing one request in ten) retries those requests but keeps the
// job fast, while a server that turns most requests away gets fewer of them.

#include <cstdint>

namespace haul::sched {

class concurrency_window {
 public:
  static constexpr std::uint32_t initial = 4;
  static constexpr std::uint32_t min_round = 16;
  /// Overloads per completions in a round at which the window halves: one in five.
  static constexpr std::uint32_t overload_share_denominator = 5;

  /// `ceiling` is the job's configured parallelism: the window never exceeds it.
  explicit concurrency_window(std::uint32_t ceiling = 64);

  /// Tasks that may be in flight: between 1 and the ceiling.
  std::uint32_t limit() const { return window_; }

  /// A run of the job ended (cancelled runs say nothing about the far side: skip them).
  void on_completion(bool overloaded);
  void set_ceiling(std::uint32_t ceiling);

 private:
  std::uint32_t window_;
  std::uint32_t ceiling_;
  bool slow_start_ = true;
  std::uint32_t round_completions_ = 0;
  std::uint32_t round_overloads_ = 0;
};

} // namespace haul::sched
