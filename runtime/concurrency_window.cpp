#include "runtime/concurrency_window.hpp"

#include <algorithm>
#include <limits>

namespace haul::sched {

concurrency_window::concurrency_window(std::uint32_t ceiling)
    : window_(std::min<double>(initial, std::max<std::uint32_t>(ceiling, 1)))
    , threshold_(std::numeric_limits<double>::infinity())
    , ceiling_(std::max<std::uint32_t>(ceiling, 1)) {}

std::uint32_t concurrency_window::limit() const {
  return std::clamp<std::uint32_t>(static_cast<std::uint32_t>(window_), 1, ceiling_);
}

void concurrency_window::on_success() {
  // +1 per success doubles the window per round trip; +1/window adds one per round trip.
  window_ += window_ < threshold_ ? 1.0 : 1.0 / window_;
  window_ = std::min<double>(window_, ceiling_);
}

void concurrency_window::on_overload(std::uint64_t run_id, std::uint64_t next_run_id) {
  if (run_id < quiet_before_run_)
    return;
  window_ = std::max(1.0, window_ / 2);
  threshold_ = window_;
  quiet_before_run_ = next_run_id;
}

void concurrency_window::set_ceiling(std::uint32_t ceiling) {
  ceiling_ = std::max<std::uint32_t>(ceiling, 1);
  window_ = std::min<double>(window_, ceiling_);
}

} // namespace haul::sched
