#pragma once

// haul's log lines: spdlog underneath, text or JSON lines on stderr. Every line is one
// event with a message and optional fields; JSON mode renders the fields as JSON members
// so that log pipelines need no parsing. Secrets never reach a log call.

#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "haul/expected.hpp"

namespace haul::log {

enum class level : std::uint8_t { debug, info, warn, error };
enum class format : std::uint8_t { text, json };

struct field {
  std::string key;
  std::string value;
  bool number = false;
};

inline field num(std::string key, std::uint64_t v) {
  return {std::move(key), std::to_string(v), true};
}
inline field num(std::string key, double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.4g", v);
  return {std::move(key), buf, true};
}
inline field str(std::string key, std::string v) {
  return {std::move(key), std::move(v), false};
}

/// Sets the threshold and format for the whole process. Thread-safe.
void configure(level threshold, format fmt);
std::optional<level> parse_level(std::string_view text);
std::optional<format> parse_format(std::string_view text);

void event(level lvl, std::string_view message, const std::vector<field>& fields = {});
inline void info(std::string_view m, const std::vector<field>& f = {}) {
  event(level::info, m, f);
}
inline void warn(std::string_view m, const std::vector<field>& f = {}) {
  event(level::warn, m, f);
}
inline void error(std::string_view m, const std::vector<field>& f = {}) {
  event(level::error, m, f);
}
inline void debug(std::string_view m, const std::vector<field>& f = {}) {
  event(level::debug, m, f);
}
bool enabled(level lvl);

/// Where each log line goes instead of stderr while a terminal display shares stderr with
/// the log: the display takes its own lines away, prints the log line, and draws them again,
/// so a warning never tears the bars. Called with the line (no newline) on the logging
/// thread, one line at a time. An empty function sends lines to stderr again; it returns
/// only once no line is being written through the old writer.
using line_writer = std::function<void(const std::string& line)>;
void set_line_writer(line_writer writer);

/// JSON string literal of s, quotes included.
std::string json_quote(std::string_view s);

} // namespace haul::log
