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
    ok = in.varint(concurrency);
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
  if (state < 1 || state > 3)
    return corrupt("task record", "unknown task state " + std::to_string(state));
  r.state = static_cast<task_state>(state);
  r.failures = static_cast<std::uint32_t>(failures);
  return r;
}

} // namespace haul::storage
