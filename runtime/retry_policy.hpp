#pragma once

// Backoff arithmetic of the retry policy (haul/job.hpp). Pure functions: the caller supplies
// the jitter draw, so tests can pin it and the scheduler can inject its random source.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "haul/job.hpp"

namespace haul {

/// Inclusive lower and exclusive upper bound of the jitter factor.
inline constexpr double jitter_min = 0.5;
inline constexpr double jitter_max = 1.5;

/// Delay before the next attempt after `failures` failed attempts (failures >= 1), with
/// `jitter` in [jitter_min, jitter_max). Never negative; the uncapped exponential never
/// overflows (it saturates at max_backoff before it could).
std::int64_t backoff_ms(const retry_policy& policy, std::uint32_t failures, double jitter);

/// Maps a uniform draw u in [0, 1) to a jitter factor in [jitter_min, jitter_max).
inline double jitter_from_unit(double u) {
  // A draw just below 1 rounds up to jitter_max itself; the bound is exclusive.
  return std::min(jitter_min + u * (jitter_max - jitter_min),
                  std::nextafter(jitter_max, jitter_min));
}

/// Empty when the policy is usable; otherwise a sentence saying which field is wrong.
std::string validate(const retry_policy& policy);

} // namespace haul
