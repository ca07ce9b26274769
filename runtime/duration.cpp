#include "runtime/duration.hpp"

#include <charconv>
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

} // namespace

std::optional<std::int64_t> parse_duration_ms(std::string_view text) {
  double n = 0;
  std::string_view unit;
  if (!split_number(text, n, unit))
    return std::nullopt;
  double factor = 0;
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
  else
    return std::nullopt;
  double ms = n * factor;
  if (ms > 9.0e15)
    return std::nullopt;
  return static_cast<std::int64_t>(std::llround(ms));
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
  double n = 0;
  std::string_view unit;
  if (!split_number(text, n, unit))
    return std::nullopt;
  double factor = 0;
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
  else
    return std::nullopt;
  double bytes = n * factor;
  if (bytes > 1.8e19)
    return std::nullopt;
  return static_cast<std::uint64_t>(std::llround(bytes));
}

} // namespace haul
