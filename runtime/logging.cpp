#include "runtime/logging.hpp"

#include <atomic>
#include <mutex>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace haul::log {

namespace {

std::atomic<level> threshold_{level::info};
std::atomic<format> format_{format::text};
std::mutex writer_mutex_;
line_writer writer_; ///< Guarded by writer_mutex_; empty: spdlog's stderr sink.
std::atomic<bool> has_writer_{false};

spdlog::logger& logger() {
  // stderr, flushed per line, so that lines of several threads never interleave mid-line.
  static auto instance = [] {
    auto l = spdlog::stderr_logger_mt("haul");
    l->set_level(spdlog::level::trace);
    l->set_pattern("%v");
    return l;
  }();
  return *instance;
}

const char* level_name(level l) {
  switch (l) {
  case level::debug:
    return "debug";
  case level::info:
    return "info";
  case level::warn:
    return "warn";
  case level::error:
    return "error";
  }
  return "info";
}

std::string timestamp() {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms.count()));
  return buf;
}

} // namespace

void configure(level t, format f) {
  threshold_ = t;
  format_ = f;
}

std::optional<level> parse_level(std::string_view text) {
  if (text == "debug")
    return level::debug;
  if (text == "info")
    return level::info;
  if (text == "warn")
    return level::warn;
  if (text == "error")
    return level::error;
  return std::nullopt;
}

std::optional<format> parse_format(std::string_view text) {
  if (text == "text")
    return format::text;
  if (text == "json")
    return format::json;
  return std::nullopt;
}

bool enabled(level lvl) {
  return lvl >= threshold_.load();
}

std::string json_quote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      if (c < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "\\u%04x", c);
        out += buf;
      } else {
        out.push_back(static_cast<char>(c));
      }
    }
  }
  out += "\"";
  return out;
}

void event(level lvl, std::string_view message, const std::vector<field>& fields) {
  if (!enabled(lvl))
    return;
  std::string line;
  if (format_.load() == format::json) {
    line = "{\"time\":\"" + timestamp() + "\",\"level\":\"" + level_name(lvl) +
           "\",\"msg\":" + json_quote(message);
    for (const auto& f : fields)
      line += "," + json_quote(f.key) + ":" + (f.number ? f.value : json_quote(f.value));
    line += "}";
  } else {
    line = timestamp() + " " + level_name(lvl) + " " + std::string(message);
    for (const auto& f : fields)
      line += " " + f.key + "=" +
              (f.number || f.value.find(' ') == std::string::npos ? f.value : json_quote(f.value));
  }
  if (has_writer_.load()) {
    std::lock_guard<std::mutex> guard(writer_mutex_);
    if (writer_)
      return writer_(line);
  }
  logger().log(spdlog::level::info, "{}", line);
}

void set_line_writer(line_writer writer) {
  std::lock_guard<std::mutex> guard(writer_mutex_);
  writer_ = std::move(writer);
  has_writer_ = static_cast<bool>(writer_);
}

} // namespace haul::log
