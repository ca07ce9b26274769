#pragma once

// Durations and sizes as the job file spells them: "250ms", "30s", "5m", "24h"; "16MiB".

#include <cstdint>
#include <optional>
#include <string_view>

namespace haul {

/// Milliseconds of a duration such as "250ms", "1.5s", "5m", "2h", "1d". A bare number is
/// not accepted: the unit is required so that "30" is never misread.
std::optional<std::int64_t> parse_duration_ms(std::string_view text);

/// Bytes of a size such as "512", "64KiB", "16MiB", "1GiB", "10MB" (decimal units too).
std::optional<std::uint64_t> parse_size(std::string_view text);

} // namespace haul
