#pragma once

// How the supervisor's loop is doing, written by the supervisor and read from any thread
// (health and metrics): when it last ran a turn, and how late its once-a-second probe
// message arrived, which is how long a message waits in its mailbox now.

#include <atomic>
#include <chrono>
#include <cstdint>

namespace haul {

struct loop_health {
  static constexpr std::chrono::milliseconds probe_interval{1000};
  std::atomic<std::int64_t> last_turn_ms{0};  ///< Unix ms; 0 before the first turn.
  std::atomic<std::int64_t> lag_ms{0};        ///< Of the latest probe.
  std::atomic<std::int64_t> last_probe_ms{0}; ///< Unix ms the latest probe arrived.
  /// The supervisor has quit: after stop(), or on its own after a store failure.
  std::atomic<bool> stopped{false};
  std::atomic<bool> store_failed{false};
  /// Task functions of blocking and inline kinds running now, written by the workers. After
  /// a stop, what is left ignored its stop request for longer than the grace.
  std::atomic<std::int64_t> task_functions{0};
};

} // namespace haul
