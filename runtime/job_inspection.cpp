#include "runtime/job_inspection.hpp"

#include <sstream>

#include <nlohmann/json.hpp>

#include "runtime/status_json.hpp"
#include "storage/store.hpp"

namespace haul {

namespace {

const char* state_name(storage::task_state s) {
  switch (s) {
  case storage::task_state::waiting:
    return "waiting";
  case storage::task_state::active:
    return "active";
  case storage::task_state::dead:
    return "dead";
  case storage::task_state::done:
    return "done";
  }
  return "unknown";
}

std::string clipped(const std::string& text, std::size_t max) {
  return text.size() <= max ? text
                            : text.substr(0, max) + "… (" + std::to_string(text.size()) + " bytes)";
}

} // namespace

expected<job_inspection> inspect_job(const std::string& store_dir, const std::string& job,
                                     std::size_t limit) {
  auto st = read_store_status(store_dir);
  if (!st)
    return st.error();
  job_inspection out;
  bool found = false;
  for (const auto& j : st->jobs)
    if (j.id == job || (!found && j.name == job)) {
      out.status = j;
      found = true;
    }
  if (!found)
    return make_error(errc::not_found, "no job " + job + " in the store at " + store_dir);
  auto s = storage::store::open_reader(store_dir);
  if (!s)
    return s.error();
  auto jobs = (*s)->load_jobs();
  if (!jobs)
    return jobs.error();
  for (auto& r : *jobs) {
    if (r.id != out.status.id)
      continue;
    out.params = std::move(r.params);
    auto records = (*s)->load_task_records(r.seq);
    if (!records)
      return records.error();
    out.tasks_with_record = records->size();
    for (auto& [index, rec] : *records) {
      if (out.tasks.size() >= limit)
        break;
      out.tasks.push_back({index, state_name(rec.state), rec.failures, rec.due_ms,
                           std::move(rec.last_error), std::move(rec.checkpoint)});
    }
  }
  return out;
}

std::string inspection_json(const job_inspection& i) {
  auto tasks = nlohmann::json::array();
  for (const auto& t : i.tasks)
    tasks.push_back({{"index", t.index},
                     {"state", t.state},
                     {"failures", t.failures},
                     {"due_ms", t.due_ms},
                     {"error", t.error},
                     {"checkpoint", t.checkpoint}});
  nlohmann::json doc = {{"job", nlohmann::json::parse(job_json(i.status))},
                        {"params", i.params},
                        {"tasks", tasks},
                        {"tasks_with_record", i.tasks_with_record}};
  return doc.dump();
}

std::string inspection_text(const job_inspection& i, std::int64_t now_ms) {
  const auto& s = i.status;
  std::ostringstream out;
  out << s.id << "  " << s.kind << "  " << to_string(s.state) << "\n"
      << "tasks: " << s.tasks.total << " total, " << s.tasks.succeeded << " succeeded, "
      << s.tasks.failed << " failed, " << s.tasks.pending << " pending, " << s.tasks.running
      << " running, " << s.tasks.cancelled << " cancelled; " << s.retries << " retries; "
      << human_bytes(static_cast<double>(s.bytes)) << "\n";
  if (!s.last_error.empty())
    out << "last error: " << s.last_error << "\n";
  out << "params:\n";
  for (const auto& [k, v] : i.params)
    out << "  " << k << " = " << v << "\n";
  if (i.tasks_with_record == 0) {
    out << "no task has a retry, a checkpoint or a failure on record\n";
    return out.str();
  }
  out << "tasks on record: " << i.tasks_with_record;
  if (i.tasks.size() < i.tasks_with_record)
    out << " (the first " << i.tasks.size() << " shown)";
  out << "\n";
  for (const auto& t : i.tasks) {
    out << "  task " << t.index << "  " << t.state << "  failures " << t.failures;
    if (t.state == "waiting")
      out << "  due " << (t.due_ms <= now_ms ? "now" : "in " + human_duration(t.due_ms - now_ms));
    out << "\n";
    if (!t.error.empty())
      out << "    error: " << clipped(t.error, 300) << "\n";
    if (!t.checkpoint.empty())
      out << "    checkpoint: " << clipped(t.checkpoint, 300) << "\n";
  }
  return out.str();
}

} // namespace haul
