#include "storage/recovery_pass.hpp"

#include <algorithm>

#include "storage/encoding.hpp"

namespace haul::storage {

namespace {

const char* const interrupted_error = "interrupted: the process stopped while the task ran";

/// Requeues every task of the job that was in flight when the last process stopped:
/// tasks below next_fresh with neither a done bit nor a record, and records left active.
expected<std::uint64_t> requeue_interrupted(store& s, store_batch& batch, job_record& job,
                                            std::int64_t now_ms, std::uint64_t& waiting) {
  auto records = s.load_task_records(job.seq);
  if (!records)
    return records.error();
  std::uint64_t interrupted = 0;
  std::vector<std::uint64_t> with_record;
  with_record.reserve(records->size());
  for (auto& [index, rec] : *records) {
    with_record.push_back(index);
    if (rec.state == task_state::waiting) {
      batch.put_due({job.seq, rec.due_ms, index}); // idempotent; heals a lost due key
      ++waiting;
    } else if (rec.state == task_state::active) {
      rec.state = task_state::waiting;
      rec.due_ms = now_ms;
      rec.last_error = interrupted_error;
      batch.put_task(job.seq, index, rec);
      batch.put_due({job.seq, now_ms, index});
      ++waiting;
      ++interrupted;
    }
  }
  // load_task_records returns indices in key order, which is numeric order.
  auto has_record = [&](std::uint64_t i) {
    return std::binary_search(with_record.begin(), with_record.end(), i);
  };
  for (std::uint64_t chunk = 0; chunk * done_chunk_bits < job.next_fresh; ++chunk) {
    auto bits = s.load_done_chunk(job.seq, chunk);
    if (!bits)
      return bits.error();
    auto first = chunk * done_chunk_bits;
    auto last = std::min(job.next_fresh, first + done_chunk_bits);
    for (auto i = first; i < last; ++i) {
      auto bit = i - first;
      if ((static_cast<unsigned char>((*bits)[bit / 8]) >> (bit % 8)) & 1u)
        continue;
      if (has_record(i))
        continue;
      batch.put_task(job.seq, i,
                     task_record{task_state::waiting, 0, now_ms, interrupted_error, {}});
      batch.put_due({job.seq, now_ms, i});
      ++waiting;
      ++interrupted;
    }
  }
  return interrupted;
}

} // namespace

expected<recovery_result> run_recovery_pass(store& s, std::int64_t now_ms,
                                            std::int64_t retention_ms) {
  recovery_result out;
  auto generation = s.generation();
  if (!generation)
    return generation.error();
  out.report.generation = *generation + 1;
  store_batch batch;
  batch.put_generation(out.report.generation);

  auto jobs = s.load_jobs();
  if (!jobs)
    return jobs.error();
  for (auto& job : *jobs) {
    if (is_finished(job.state)) {
      if (job.finished_ms + retention_ms <= now_ms) {
        batch.delete_job(job.seq, job.id);
        ++out.report.jobs_expired;
        continue;
      }
      out.jobs.push_back({std::move(job), 0});
      continue;
    }
    ++out.report.jobs_resumable;
    std::uint64_t waiting = 0;
    auto interrupted = requeue_interrupted(s, batch, job, now_ms, waiting);
    if (!interrupted)
      return interrupted.error();
    out.report.tasks_interrupted += *interrupted;
    // A pause is the user's: it outlasts the process, until resumed.
    if (job.state != job_state::paused)
      job.state = job_state::pending;
    job.running = 0;
    job.updated_ms = now_ms;
    batch.put_job(job);
    out.jobs.push_back({std::move(job), waiting});
  }
  if (auto ok = s.commit(batch, true); !ok)
    return ok.error();
  return out;
}

} // namespace haul::storage
