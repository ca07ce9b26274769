#include "runtime/service/export_status.hpp"

#include <nlohmann/json.hpp>

namespace haul::service {

double rate_meter::observe(const std::string& id, std::uint64_t bytes, std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  std::erase_if(windows_, [&](const auto& e) { return now_ms - e.second.last_ms > forget_ms; });
  auto [it, fresh] = windows_.try_emplace(id, window{now_ms, bytes, now_ms, bytes});
  auto& w = it->second;
  if (fresh || bytes < w.last_bytes) { // a restarted export starts a new window
    w = window{now_ms, bytes, now_ms, bytes};
    return 0;
  }
  if (now_ms - w.start_ms > window_ms && w.last_ms > w.start_ms) {
    w.start_ms = w.last_ms;
    w.start_bytes = w.last_bytes;
  }
  w.last_ms = now_ms;
  w.last_bytes = bytes;
  if (w.last_ms <= w.start_ms)
    return 0;
  return static_cast<double>(w.last_bytes - w.start_bytes) * 1000.0 /
         static_cast<double>(w.last_ms - w.start_ms);
}

std::size_t rate_meter::tracked() {
  std::lock_guard lock(mutex_);
  return windows_.size();
}

std::string export_status_json(const job_status& job,
                               const std::optional<exporter::export_checkpoint>& cp,
                               double bytes_per_second) {
  nlohmann::json out;
  out["id"] = job.id;
  out["name"] = job.name;
  out["state"] = std::string(to_string(job.state));
  std::uint64_t bytes = cp ? cp->bytes() : 0;
  if (job.state == job_state::succeeded)
    bytes = std::max(bytes, job.bytes);
  out["tables"] = {{"done", cp ? cp->tables_done : 0},
                   {"total", cp ? nlohmann::json(cp->tables) : nlohmann::json(nullptr)}};
  out["rows"] = cp ? cp->position.rows : 0;
  out["rows_estimate"] =
      cp && cp->rows_estimate > 0 ? nlohmann::json(cp->rows_estimate) : nlohmann::json(nullptr);
  out["progress"] = job.state == job_state::succeeded ? 1.0 : cp ? cp->progress() : 0.0;
  out["bytes"] = bytes;
  out["dump_bytes"] = cp ? cp->text_bytes : 0;
  out["parts"] = cp ? cp->parts.size() : 0;
  if (is_finished(job.state)) {
    auto span = job.finished_ms - job.created_ms;
    bytes_per_second =
        span > 0 ? static_cast<double>(bytes) * 1000.0 / static_cast<double>(span) : 0.0;
  }
  out["bytes_per_second"] = bytes_per_second;
  out["eta_ms"] = !is_finished(job.state) && cp ? cp->eta_ms(bytes_per_second) : -1;
  out["error"] = job.last_error.empty() || job.state == job_state::succeeded
                     ? nlohmann::json(nullptr)
                     : nlohmann::json(job.last_error);
  out["created_ms"] = job.created_ms;
  out["finished_ms"] = job.finished_ms > 0 ? nlohmann::json(job.finished_ms) : nullptr;
  out["download_url"] = job.state == job_state::succeeded
                            ? nlohmann::json("/exports/" + job.id + "/download")
                            : nlohmann::json(nullptr);
  return out.dump();
}

} // namespace haul::service
