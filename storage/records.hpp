#pragma once

// The values the store holds: a job record per job, a task record per task that has
// something to say (a failure, a backoff, a checkpoint). Plain structs: the scheduler builds
// them, the store encodes them. Encodings are versioned (first byte) and pinned by tests.

#include <cstdint>
#include <string>
#include <string_view>

#include "haul/expected.hpp"
#include "haul/job.hpp"
#include "haul/task.hpp"

namespace haul::storage {

/// Version 2 added `concurrency` and the run_* fields; version 1 records are still read.
inline constexpr std::uint8_t job_record_version = 2;
inline constexpr std::uint8_t task_record_version = 1;

struct job_record {
  std::uint32_t seq = 0; ///< The key; not part of the value.
  std::string id;
  std::string name;
  std::string kind;
  job_params params;
  std::uint64_t total = 0;
  job_state state = job_state::pending;
  /// Tasks [0, next_fresh) have been dispatched at least once; the rest never ran.
  std::uint64_t next_fresh = 0;
  std::uint64_t succeeded = 0;
  std::uint64_t dead = 0;
  std::uint64_t retries = 0;
  std::uint64_t bytes = 0;
  std::uint64_t running = 0; ///< Tasks in flight when the record was written (for status).
  std::uint32_t parallelism = 0;
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
  std::int64_t finished_ms = 0;
  std::string last_error;
  /// Adaptive jobs: tasks allowed in flight when the record was written (for status).
  std::uint32_t concurrency = 0;
  /// When this process started running the job, and its counts then: status computes rates
  /// (and an ETA) over this run only, not over the time the job sat stopped.
  std::int64_t run_started_ms = 0;
  std::uint64_t run_base_succeeded = 0;
  std::uint64_t run_base_bytes = 0;

  bool operator==(const job_record&) const = default;
};

/// DO NOT CHANGE the numbers: on-disk.
enum class task_state : std::uint8_t {
  waiting = 1, ///< Due at due_ms (a backoff, or re-queued after an interruption).
  active = 2,  ///< Was running with a checkpoint; recovery turns it into waiting.
  dead = 3,    ///< Exhausted its attempts or failed permanently: the dead letter.
  /// Succeeded (its done bit is set), kept for its last checkpoint: only for kinds with
  /// keep_final_checkpoint. Recovery and dispatch ignore it.
  done = 4,
};

struct task_record {
  task_state state = task_state::waiting;
  std::uint32_t failures = 0; ///< Failed attempts so far.
  std::int64_t due_ms = 0;
  std::string last_error;
  std::string checkpoint; ///< Empty: none.

  bool operator==(const task_record&) const = default;
};

std::string encode(const job_record& r);
std::string encode(const task_record& r);
/// Fail with store_incompatible naming `where` when the bytes are not a valid record.
expected<job_record> decode_job_record(std::string_view bytes, std::uint32_t seq);
expected<task_record> decode_task_record(std::string_view bytes);

/// The status a record says, with `running` tasks in flight; rates and ETA over the run
/// that started at run_started_ms, as of updated_ms.
job_status status_of(const job_record& r, std::uint64_t running);

} // namespace haul::storage
