#pragma once

// Durations and sizes as the job file spells them: "250ms", "30s", "5m", "24h"; "16MiB".

#include <cstdint>
#include <string_view>

#include "haul/expected.hpp"

namespace haul {

/// The longest duration accepted: 36500 days. Far beyond any timeout, and small enough that
/// adding it to a clock's time_point in nanoseconds cannot overflow.
inline constexpr std::int64_t max_duration_ms = 36'500LL * 86'400'000;

/// Milliseconds of a duration such as "250ms", "1.5s", "5m", "2h", "1d", rounded to the
/// nearest millisecond. A bare number is not accepted: the unit is required so that "30" is
/// never misread. Fails with invalid_argument whose message completes "expected ...": `a
/// duration such as "250ms", ...` or `a duration of at most 36500d`.
expected<std::int64_t> parse_duration_ms(std::string_view text);

/// Bytes of a size such as "512", "64KiB", "16MiB", "1GiB", "10MB" (decimal units too),
/// rounded to the nearest byte. Fails like parse_duration_ms: `a size such as "512", ...` or
/// `a size below 16EiB` (2^64 bytes).
expected<std::uint64_t> parse_size(std::string_view text);

} // namespace haul
