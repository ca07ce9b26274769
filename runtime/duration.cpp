#include "runtime/duration.hpp"

#include <cmath>
#include <string>

namespace haul {

namespace {

/// Splits "12.5ms" into 12.5 and "ms". Fails on an empty number, a sign, or spaces.
bool split_number(std::string_view text, double& number, std::string_view& unit) {
  std::size_t i = 0;
  while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.'))
    ++i;
  if (i == 0)
    return false;
  std::string digits(text.substr(0, i));
  char* end = nullptr;
  number = std::strtod(digits.c_str(), &end);
  if (end != digits.c_str() + digits.size() || !std::isfinite(number))
    return false;
  unit = text.substr(i);
  return true;
}

error expected_a(const char* what) {
  return error{errc::invalid_argument, what};
}

} // namespace

expected<std::int64_t> parse_duration_ms(std::string_view text) {
  double n = 0;
  std::string_view unit;
  double factor = 0;
  if (split_number(text, n, unit)) {
    if (unit == "ms")
      factor = 1;
    else if (unit == "s")
      factor = 1000;
    else if (unit == "m")
      factor = 60'000;
    else if (unit == "h")
      factor = 3'600'000;
    else if (unit == "d")
      factor = 86'400'000;
  }
  if (factor == 0)
    return expected_a("a duration such as \"250ms\", \"30s\", \"5m\", \"24h\"");
  double ms = std::round(n * factor);
  if (ms > static_cast<double>(max_duration_ms))
    return expected_a("a duration of at most 36500d");
  return static_cast<std::int64_t>(ms);
}

expected<std::uint64_t> parse_size(std::string_view text) {
  double n = 0;
  std::string_view unit;
  double factor = 0;
  if (split_number(text, n, unit)) {
    if (unit.empty() || unit == "B")
      factor = 1;
    else if (unit == "KiB")
      factor = 1024.0;
    else if (unit == "MiB")
      factor = 1024.0 * 1024;
    else if (unit == "GiB")
      factor = 1024.0 * 1024 * 1024;
    else if (unit == "KB")
      factor = 1e3;
    else if (unit == "MB")
      factor = 1e6;
    else if (unit == "GB")
      factor = 1e9;
  }
  if (factor == 0)
    return expected_a("a size such as \"512\", \"64KiB\", \"16MiB\", \"1GiB\"");
  // 2^64 is exact as a double, and every double below it is a whole number of bytes that
  // std::uint64_t holds (unlike llround's long long, which stops at 2^63).
  double bytes = std::round(n * factor);
  if (!(bytes < 18446744073709551616.0))
    return expected_a("a size below 16EiB");
  return static_cast<std::uint64_t>(bytes);
}

} // namespace haul
