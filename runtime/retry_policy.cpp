#include "runtime/retry_policy.hpp"

#include <algorithm>
#include <cmath>

namespace haul {

std::int64_t backoff_ms(const retry_policy& policy, std::uint32_t failures, double jitter) {
  auto initial = static_cast<double>(policy.initial_backoff.count());
  auto cap = static_cast<double>(policy.max_backoff.count());
  double delay = initial;
  for (std::uint32_t i = 1; i < failures && delay < cap; ++i)
    delay *= policy.backoff_base;
  delay = std::min(delay, cap) * std::clamp(jitter, jitter_min, jitter_max);
  return std::max<std::int64_t>(0, std::llround(delay));
}

std::string validate(const retry_policy& policy) {
  if (policy.max_attempts < 1)
    return "max_attempts must be at least 1";
  if (policy.initial_backoff.count() < 0)
    return "initial_backoff must not be negative";
  if (!(policy.backoff_base >= 1.0) || !std::isfinite(policy.backoff_base))
    return "backoff_base must be a finite number of at least 1";
  if (policy.max_backoff < policy.initial_backoff)
    return "max_backoff must be at least initial_backoff";
  return {};
}

} // namespace haul
