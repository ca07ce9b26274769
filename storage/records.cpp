#include "storage/records.hpp"

#include "storage/encoding.hpp"

namespace haul::storage {

namespace {

error corrupt(std::string_view what, std::string_view detail) {
  return make_error(errc::store_incompatible,
                    std::string(what) +
                        " is corrupt or of an unknown format: " + std::string(detail));
}

} // namespace

std::string encode(const job_record& r) {
  value_writer w(job_record_version);
  w.str(r.id);
  w.str(r.name);
  w.str(r.kind);
  w.varint(r.params.size());
  for (const auto& [k, v] : r.params) {
    w.str(k);
    w.str(v);
  }
  w.varint(r.total);
  w.u8(static_cast<std::uint8_t>(r.state));
  w.varint(r.next_fresh);
  w.varint(r.succeeded);
  w.varint(r.dead);
  w.varint(r.retries);
  w.varint(r.bytes);
  w.varint(r.running);
  w.varint(r.parallelism);
  w.svarint(r.created_ms);
  w.svarint(r.updated_ms);
  w.svarint(r.finished_ms);
  w.str(r.last_error);
  w.varint(r.concurrency);
  w.svarint(r.run_started_ms);
  w.varint(r.run_base_succeeded);
  w.varint(r.run_base_bytes);
  return w.take();
}

std::string encode(const task_record& r) {
  value_writer w(task_record_version);
  w.u8(static_cast<std::uint8_t>(r.state));
  w.varint(r.failures);
  w.svarint(r.due_ms);
  w.str(r.last_error);
  w.str(r.checkpoint);
  return w.take();
}

expected<job_record> decode_job_record(std::string_view bytes, std::uint32_t seq) {
  auto what = "job record " + std::to_string(seq);
  value_reader in(bytes);
  std::uint8_t version = 0;
  if (!in.u8(version))
    return corrupt(what, "empty value");
  if (version != 1 && version != job_record_version)
    return corrupt(what, "record version " + std::to_string(version) + ", expected " +
                             std::to_string(job_record_version));
  job_record r;
  r.seq = seq;
  std::uint64_t nparams = 0;
  bool ok = in.str(r.id) && in.str(r.name) && in.str(r.kind) && in.varint(nparams);
  for (std::uint64_t i = 0; ok && i < nparams; ++i) {
    std::string k, v;
    ok = in.str(k) && in.str(v);
    r.params.emplace(std::move(k), std::move(v));
  }
  std::uint8_t state = 0;
  std::uint64_t parallelism = 0;
  ok = ok && in.varint(r.total) && in.u8(state) && in.varint(r.next_fresh) &&
       in.varint(r.succeeded) && in.varint(r.dead) && in.varint(r.retries) && in.varint(r.bytes) &&
       in.varint(r.running) && in.varint(parallelism) && in.svarint(r.created_ms) &&
       in.svarint(r.updated_ms) && in.svarint(r.finished_ms) && in.str(r.last_error);
  std::uint64_t concurrency = 0;
  if (ok && version >= 2)
    ok = in.varint(concurrency) && in.svarint(r.run_started_ms) &&
         in.varint(r.run_base_succeeded) && in.varint(r.run_base_bytes);
  if (!ok)
    return corrupt(what, "truncated");
  if (!in.at_end())
    return corrupt(what, "trailing bytes");
  if (state > static_cast<std::uint8_t>(job_state::cancelled))
    return corrupt(what, "unknown job state " + std::to_string(state));
  r.state = static_cast<job_state>(state);
  r.parallelism = static_cast<std::uint32_t>(parallelism);
  r.concurrency = static_cast<std::uint32_t>(concurrency);
  return r;
}

expected<task_record> decode_task_record(std::string_view bytes) {
  value_reader in(bytes);
  std::uint8_t version = 0;
  if (!in.u8(version))
    return corrupt("task record", "empty value");
  if (version != task_record_version)
    return corrupt("task record", "record version " + std::to_string(version));
  task_record r;
  std::uint8_t state = 0;
  std::uint64_t failures = 0;
  if (!(in.u8(state) && in.varint(failures) && in.svarint(r.due_ms) && in.str(r.last_error) &&
        in.str(r.checkpoint)) ||
      !in.at_end())
    return corrupt("task record", "truncated or trailing bytes");
  if (state < 1 || state > 4)
    return corrupt("task record", "unknown task state " + std::to_string(state));
  r.state = static_cast<task_state>(state);
  r.failures = static_cast<std::uint32_t>(failures);
  return r;
}

job_status status_of(const job_record& r, std::uint64_t running) {
  job_status s;
  s.id = r.id;
  s.name = r.name;
  s.kind = r.kind;
  s.state = r.state;
  s.tasks.total = r.total;
  s.tasks.succeeded = r.succeeded;
  s.tasks.failed = r.dead;
  s.tasks.running = running;
  auto ended = r.succeeded + r.dead + running;
  auto rest = r.total > ended ? r.total - ended : 0;
  if (r.state == job_state::cancelled)
    s.tasks.cancelled = rest;
  else
    s.tasks.pending = rest;
  s.retries = r.retries;
  s.bytes = r.bytes;
  s.parallelism = r.parallelism;
  s.concurrency = r.concurrency;
  s.created_ms = r.created_ms;
  s.finished_ms = r.finished_ms;
  s.last_error = r.last_error;
  auto until = r.finished_ms != 0 ? r.finished_ms : r.updated_ms;
  auto elapsed_ms = r.run_started_ms != 0 ? until - r.run_started_ms : 0;
  if (elapsed_ms > 0 && r.succeeded >= r.run_base_succeeded) {
    auto seconds = static_cast<double>(elapsed_ms) / 1000.0;
    s.tasks_per_second = static_cast<double>(r.succeeded - r.run_base_succeeded) / seconds;
    s.bytes_per_second =
        static_cast<double>(r.bytes - std::min(r.bytes, r.run_base_bytes)) / seconds;
    auto left = r.total - std::min(r.total, r.succeeded + r.dead);
    if (!is_finished(r.state) && s.tasks_per_second > 0)
      s.eta_ms = static_cast<std::int64_t>(static_cast<double>(left) / s.tasks_per_second * 1000);
  }
  return s;
}

} // namespace haul::storage
