#include "runtime/status_json.hpp"

#include <cstdio>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "storage/store.hpp"

namespace haul {

namespace {

job_status from_record(const storage::job_record& r, bool owned) {
  job_status s;
  s.id = r.id;
  s.name = r.name;
  s.kind = r.kind;
  s.state = r.state;
  s.tasks.total = r.total;
  s.tasks.succeeded = r.succeeded;
  s.tasks.failed = r.dead;
  // A record's running count is live only while its owner runs.
  s.tasks.running = owned && !is_finished(r.state) ? r.running : 0;
  auto ended = r.succeeded + r.dead + s.tasks.running;
  auto rest = r.total > ended ? r.total - ended : 0;
  if (r.state == job_state::cancelled)
    s.tasks.cancelled = rest;
  else
    s.tasks.pending = rest;
  s.retries = r.retries;
  s.bytes = r.bytes;
  s.parallelism = r.parallelism;
  s.created_ms = r.created_ms;
  s.finished_ms = r.finished_ms;
  s.last_error = r.last_error;
  return s;
}

/// True when some process holds the store's lock. When nobody does, the probe itself holds a
/// shared lock for microseconds; an owner starting in exactly that instant is refused with
/// store_busy and can simply be started again.
bool store_owned(const std::string& dir) {
  int fd = ::open((dir + "/haul.lock").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  bool owned = ::flock(fd, LOCK_SH | LOCK_NB) != 0;
  if (!owned)
    ::flock(fd, LOCK_UN);
  ::close(fd);
  return owned;
}

} // namespace

expected<store_status> read_store_status(const std::string& dir) {
  store_status out;
  out.owned = store_owned(dir);
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

std::string status_json(const store_status& s) {
  auto jobs = nlohmann::json::array();
  for (const auto& j : s.jobs) {
    jobs.push_back({
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
        {"created_ms", j.created_ms},
        {"finished_ms", j.finished_ms},
        {"last_error", j.last_error},
    });
  }
  nlohmann::json doc = {{"jobs", jobs}, {"store_in_use", s.owned}};
  return doc.dump();
}

std::string status_text(const store_status& s) {
  if (s.jobs.empty())
    return "no jobs in the store\n";
  std::string out;
  char line[512];
  std::snprintf(line, sizeof(line), "%-32s %-8s %-24s %10s %10s %8s %8s %8s\n", "JOB", "KIND",
                "STATE", "TOTAL", "DONE", "FAILED", "RUNNING", "RETRIES");
  out += line;
  for (const auto& j : s.jobs) {
    std::snprintf(line, sizeof(line), "%-32s %-8s %-24s %10llu %10llu %8llu %8llu %8llu\n",
                  j.id.c_str(), j.kind.c_str(), std::string(to_string(j.state)).c_str(),
                  static_cast<unsigned long long>(j.tasks.total),
                  static_cast<unsigned long long>(j.tasks.succeeded),
                  static_cast<unsigned long long>(j.tasks.failed),
                  static_cast<unsigned long long>(j.tasks.running),
                  static_cast<unsigned long long>(j.retries));
    out += line;
  }
  return out;
}

} // namespace haul
