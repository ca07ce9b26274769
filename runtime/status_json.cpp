#include "runtime/status_json.hpp"

#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "storage/store.hpp"
#include "storage/store_lock.hpp"

namespace haul {

namespace {

job_status from_record(const storage::job_record& r, bool owned) {
  // A record's running count and concurrency are live only while its owner runs.
  bool live = owned && !is_finished(r.state);
  auto s = storage::status_of(r, live ? r.running : 0);
  if (!live) {
    s.concurrency = 0;
    s.eta_ms = -1;
  }
  if (!owned && s.state == job_state::running)
    s.state = job_state::pending; // its record says running, but no process runs it now
  if (!live && !is_finished(r.state)) {
    // A stopped run's rates are history, not a present rate: nothing runs it now. A
    // finished job keeps the rate of its last run.
    s.tasks_per_second = 0;
    s.bytes_per_second = 0;
  }
  return s;
}

} // namespace

expected<store_status> read_store_status(const std::string& dir) {
  store_status out;
  out.owned = storage::store_lock::held(dir);
  auto s = storage::store::open_reader(dir);
  if (!s)
    return s.error();
  auto jobs = (*s)->load_jobs();
  if (!jobs)
    return jobs.error();
  for (const auto& r : *jobs)
    out.jobs.push_back(from_record(r, out.owned));
  return out;
}

namespace {

nlohmann::json job_object(const job_status& j) {
  return {
      {"id", j.id},
      {"name", j.name},
      {"kind", j.kind},
      {"state", std::string(to_string(j.state))},
      {"tasks",
       {{"total", j.tasks.total},
        {"succeeded", j.tasks.succeeded},
        {"failed", j.tasks.failed},
        {"pending", j.tasks.pending},
        {"running", j.tasks.running},
        {"cancelled", j.tasks.cancelled}}},
      {"retries", j.retries},
      {"bytes", j.bytes},
      {"parallelism", j.parallelism},
      {"concurrency", j.concurrency},
      {"tasks_per_second", j.tasks_per_second},
      {"bytes_per_second", j.bytes_per_second},
      {"eta_ms", j.eta_ms},
      {"created_ms", j.created_ms},
      {"finished_ms", j.finished_ms},
      {"last_error", j.last_error},
  };
}

} // namespace

std::string job_json(const job_status& j) {
  return job_object(j).dump();
}

std::string status_json(const store_status& s) {
  auto jobs = nlohmann::json::array();
  for (const auto& j : s.jobs)
    jobs.push_back(job_object(j));
  nlohmann::json doc = {{"jobs", jobs}, {"store_in_use", s.owned}};
  return doc.dump();
}

std::string human_bytes(double bytes) {
  static const char* const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int u = 0;
  while (bytes >= 1024.0 && u < 5) {
    bytes /= 1024.0;
    ++u;
  }
  char out[32];
  if (u == 0)
    std::snprintf(out, sizeof(out), "%.0f B", bytes);
  else
    std::snprintf(out, sizeof(out), "%.1f %s", bytes, units[u]);
  return out;
}

std::string human_duration(std::int64_t ms) {
  if (ms < 0)
    return "-";
  auto s = (ms + 500) / 1000; // nearest: an ETA of 0.9 s is "1s", not "0s"
  char out[32];
  if (s < 60)
    std::snprintf(out, sizeof(out), "%llds", static_cast<long long>(s));
  else if (s < 3600)
    std::snprintf(out, sizeof(out), "%lldm%02llds", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  else
    std::snprintf(out, sizeof(out), "%lldh%02lldm", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60));
  return out;
}

namespace {

std::string rate_text(const job_status& j) {
  char out[64];
  if (j.bytes_per_second > 0)
    std::snprintf(out, sizeof(out), "%.0f/s %s/s", j.tasks_per_second,
                  human_bytes(j.bytes_per_second).c_str());
  else
    std::snprintf(out, sizeof(out), "%.0f/s", j.tasks_per_second);
  return out;
}

} // namespace

namespace {

/// Columns a UTF-8 string takes (one per code point: no wide characters are written here).
std::size_t columns_of(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    n += (c & 0xC0) != 0x80;
  return n;
}

/// The longest prefix that fits in `columns`, cut at a code point boundary.
std::string cut_to(std::string s, std::size_t columns) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80)
      continue;
    if (n == columns) {
      s.resize(i);
      break;
    }
    ++n;
  }
  return s;
}

std::string bar(double fraction, std::size_t width, bool unicode) {
  auto full = static_cast<std::size_t>(fraction * static_cast<double>(width) + 1e-9);
  if (full > width)
    full = width;
  std::string out = "[";
  for (std::size_t i = 0; i < width; ++i)
    out += i < full ? (unicode ? "\u2588" : "#") : (unicode ? "\u2591" : ".");
  return out + "]";
}

} // namespace

std::string progress_line(const job_status& j, const progress_style& style,
                          const partial_progress* partial) {
  auto ended = j.tasks.succeeded + j.tasks.failed;
  double fraction =
      j.tasks.total == 0 ? 1.0 : static_cast<double>(ended) / static_cast<double>(j.tasks.total);
  if (partial)
    fraction = std::clamp(partial->fraction, 0.0, 1.0);
  std::string name = j.name;
  if (style.name_width > 0) {
    name = cut_to(name, style.name_width);
    name.append(style.name_width - columns_of(name), ' ');
  }
  std::string line = name + "  ";
  if (style.bar_width > 0)
    line += bar(fraction, style.bar_width, style.unicode) + " ";
  char numbers[160];
  std::snprintf(numbers, sizeof(numbers), "%llu/%llu %5.1f%%",
                static_cast<unsigned long long>(ended),
                static_cast<unsigned long long>(j.tasks.total), 100.0 * fraction);
  line += numbers;
  auto bytes = partial ? std::max(partial->bytes, j.bytes) : j.bytes;
  if (bytes > 0)
    line += "  " + human_bytes(static_cast<double>(bytes));
  bool live = !is_finished(j.state) && j.state != job_state::paused;
  if (live && partial) {
    if (partial->bytes_per_second > 0)
      line += "  " + human_bytes(partial->bytes_per_second) + "/s";
    if (partial->eta_ms >= 0)
      line += "  ETA " + human_duration(partial->eta_ms);
    if (!partial->detail.empty())
      line += "  " + partial->detail;
  } else if (live) {
    line += "  " + rate_text(j) + "  ETA " + human_duration(j.eta_ms);
  }
  if (j.retries > 0)
    line += "  retries " + std::to_string(j.retries);
  if (j.tasks.failed > 0)
    line += "  failed " + std::to_string(j.tasks.failed);
  if (!is_finished(j.state)) {
    line += "  in flight " + std::to_string(j.tasks.running);
    if (j.concurrency != 0)
      line += "/" + std::to_string(j.concurrency);
  }
  if (!live)
    line += "  [" + std::string(to_string(j.state)) + "]";
  if (style.columns > 0 && columns_of(line) > style.columns)
    line = cut_to(std::move(line), style.columns);
  return line;
}

std::string status_text(const store_status& s) {
  if (s.jobs.empty())
    return "no jobs in the store\n";
  std::string out;
  char line[768];
  std::snprintf(line, sizeof(line), "%-32s %-7s %-23s %9s %9s %7s %7s %8s %10s %11s %7s\n", "JOB",
                "KIND", "STATE", "TOTAL", "DONE", "FAILED", "RUNNING", "RETRIES", "BYTES", "RATE",
                "ETA");
  out += line;
  for (const auto& j : s.jobs) {
    char rate[32];
    std::snprintf(rate, sizeof(rate), "%.0f/s", j.tasks_per_second);
    std::snprintf(
        line, sizeof(line), "%-32s %-7s %-23s %9llu %9llu %7llu %7llu %8llu %10s %11s %7s\n",
        j.id.c_str(), j.kind.c_str(), std::string(to_string(j.state)).c_str(),
        static_cast<unsigned long long>(j.tasks.total),
        static_cast<unsigned long long>(j.tasks.succeeded),
        static_cast<unsigned long long>(j.tasks.failed),
        static_cast<unsigned long long>(j.tasks.running),
        static_cast<unsigned long long>(j.retries),
        human_bytes(static_cast<double>(j.bytes)).c_str(), rate, human_duration(j.eta_ms).c_str());
    out += line;
    if (j.concurrency != 0 && j.tasks.running != 0)
      out += "    adaptive concurrency: " + std::to_string(j.concurrency) + " of " +
             std::to_string(j.parallelism) + "\n";
  }
  return out;
}

} // namespace haul
