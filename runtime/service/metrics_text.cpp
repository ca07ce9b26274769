#include "runtime/service/metrics_text.hpp"

#include <algorithm>
#include <cstdio>
#include <functional>

namespace haul::service {

namespace {

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

std::string number(std::uint64_t v) {
  return std::to_string(v);
}

class exposition {
 public:
  /// Starts a metric family: its HELP and TYPE lines.
  void family(const char* name, const char* type, const char* help) {
    out_ += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  }
  void sample(const char* name, const std::string& labels, const std::string& value) {
    out_ += name;
    if (!labels.empty())
      out_ += "{" + labels + "}";
    out_ += " " + value + "\n";
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

std::string job_labels(const job_status& j) {
  return "job=\"" + escape_label(j.id) + "\",name=\"" + escape_label(j.name) + "\",kind=\"" +
         escape_label(j.kind) + "\"";
}

} // namespace

std::string escape_label(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string metrics_text(const std::vector<job_status>& jobs, const recovery_report& recovery,
                         const loop_report& loop, std::int64_t now_ms) {
  exposition e;
  e.family("haul_job_tasks", "gauge", "Tasks of a job by state.");
  for (const auto& j : jobs) {
    auto l = job_labels(j);
    const std::pair<const char*, std::uint64_t> states[] = {{"succeeded", j.tasks.succeeded},
                                                            {"failed", j.tasks.failed},
                                                            {"pending", j.tasks.pending},
                                                            {"running", j.tasks.running},
                                                            {"cancelled", j.tasks.cancelled}};
    for (const auto& [state, n] : states)
      e.sample("haul_job_tasks", l + ",state=\"" + state + "\"", number(n));
  }
  auto per_job = [&](const char* name, const char* type, const char* help,
                     const std::function<std::string(const job_status&)>& value) {
    e.family(name, type, help);
    for (const auto& j : jobs)
      e.sample(name, job_labels(j), value(j));
  };
  per_job("haul_job_tasks_total", "gauge", "Tasks of a job.",
          [](const job_status& j) { return number(j.tasks.total); });
  per_job("haul_job_in_flight", "gauge", "Tasks of a job running now.",
          [](const job_status& j) { return number(j.tasks.running); });
  per_job("haul_job_retries_total", "counter",
          "Failed attempts of a job's tasks that were retried.",
          [](const job_status& j) { return number(j.retries); });
  per_job("haul_job_bytes_total", "counter", "Bytes moved by a job's succeeded tasks.",
          [](const job_status& j) { return number(j.bytes); });
  per_job("haul_job_tasks_per_second", "gauge",
          "Succeeded tasks per second over the job's current run.",
          [](const job_status& j) { return number(j.tasks_per_second); });
  per_job("haul_job_bytes_per_second", "gauge", "Bytes per second over the job's current run.",
          [](const job_status& j) { return number(j.bytes_per_second); });
  per_job("haul_job_concurrency", "gauge",
          "Tasks an adaptive job allows in flight now (0 for other jobs).",
          [](const job_status& j) { return number(std::uint64_t{j.concurrency}); });
  e.family("haul_job_state", "gauge", "1 for the state the job is in.");
  for (const auto& j : jobs)
    e.sample("haul_job_state", job_labels(j) + ",state=\"" + std::string(to_string(j.state)) + "\"",
             "1");
  e.family("haul_loop_lag_seconds", "gauge",
           "How long a message waits in the supervisor's mailbox (its latest probe, or how "
           "overdue the next one is).");
  e.sample("haul_loop_lag_seconds", "", number(static_cast<double>(loop.lag_at(now_ms)) / 1000.0));
  e.family("haul_last_turn_age_seconds", "gauge",
           "Seconds since the supervisor's last turn (it turns only when there is work).");
  e.sample("haul_last_turn_age_seconds", "",
           number(loop.last_turn_ms > 0
                      ? static_cast<double>(std::max<std::int64_t>(0, now_ms - loop.last_turn_ms)) /
                            1000.0
                      : 0.0));
  e.family("haul_store_generation", "gauge", "The process incarnation of the store.");
  e.sample("haul_store_generation", "", number(recovery.generation));
  e.family("haul_recovery_tasks_interrupted", "gauge",
           "Tasks the start-up recovery pass found interrupted.");
  e.sample("haul_recovery_tasks_interrupted", "", number(recovery.tasks_interrupted));
  e.family("haul_recovery_jobs_resumable", "gauge",
           "Unfinished jobs the start-up recovery pass found.");
  e.sample("haul_recovery_jobs_resumable", "", number(recovery.jobs_resumable));
  return e.take();
}

} // namespace haul::service
