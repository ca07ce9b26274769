#include "runtime/concurrency_window.hpp"

#include <algorithm>

namespace haul::sched {

concurrency_window::concurrency_window(std::uint32_t ceiling)
    : window_(std::min(initial, std::max<std::uint32_t>(ceiling, 1)))
    , ceiling_(std::max<std::uint32_t>(ceiling, 1)) {}

void concurrency_window::on_completion(bool overloaded) {
  ++round_completions_;
  round_overloads_ += overloaded ? 1 : 0;
  if (round_completions_ < std::max(window_, min_round))
    return;
  if (round_overloads_ * overload_share_denominator >= round_completions_) {
    window_ = std::max<std::uint32_t>(1, window_ / 2);
    slow_start_ = false;
  } else {
    window_ = std::min(ceiling_, slow_start_ ? window_ * 2 : window_ + 1);
  }
  round_completions_ = 0;
  round_overloads_ = 0;
}

void concurrency_window::set_ceiling(std::uint32_t ceiling) {
  ceiling_ = std::max<std::uint32_t>(ceiling, 1);
  window_ = std::min(window_, ceiling_);
}

} // namespace haul::sched
