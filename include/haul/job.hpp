#pragma once

// Jobs as an embedder submits and observes them.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "haul/task.hpp"

namespace haul {

/// How a failed task is retried. Backoff after the n-th failure is
/// min(max_backoff, initial_backoff * backoff_base^(n-1)) times a jitter factor drawn from
/// [0.5, 1.5); a server's Retry-After replaces the computed delay.
struct retry_policy {
  std::uint32_t max_attempts = 5; ///< Runs before a task goes to the dead letter (>= 1).
  std::chrono::milliseconds initial_backoff{250};
  double backoff_base = 2.0; ///< >= 1.
  std::chrono::milliseconds max_backoff{30'000};
};

/// DO NOT CHANGE the numbers: they are stored on disk. The names are part of the CLI contract.
enum class job_state : std::uint8_t {
  pending = 0,                 ///< Known, not started in this process yet.
  running = 1,                 ///< Tasks are being dispatched.
  paused = 2,                  ///< Parallelism 0: nothing new starts.
  succeeded = 3,               ///< Every task succeeded.
  completed_with_failures = 4, ///< Every task ended; some are in the dead letter.
  failed = 5,                  ///< Every task ended in the dead letter, or the job could not run.
  cancelled = 6,               ///< Cancelled; unfinished tasks will not run.
};

std::string_view to_string(job_state state);
/// True for the states a job never leaves by itself (succeeded, completed_with_failures,
/// failed, cancelled).
bool is_finished(job_state state);

struct task_counts {
  std::uint64_t total = 0;
  std::uint64_t succeeded = 0;
  std::uint64_t failed = 0;  ///< In the dead letter.
  std::uint64_t pending = 0; ///< Not started yet, or waiting on a retry backoff.
  std::uint64_t running = 0;
  std::uint64_t cancelled = 0;
};

struct job_status {
  std::string id; ///< Stable: name + fingerprint of the job's inputs.
  std::string name;
  std::string kind;
  job_state state = job_state::pending;
  task_counts tasks;
  std::uint64_t retries = 0; ///< Failed attempts that were retried.
  std::uint64_t bytes = 0;   ///< Sum of outcome::bytes of succeeded tasks.
  std::uint32_t parallelism = 0;
  /// Jobs with adaptive concurrency: the tasks allowed in flight now (<= parallelism);
  /// 0 for other jobs.
  std::uint32_t concurrency = 0;
  std::int64_t created_ms = 0;  ///< Unix time in milliseconds.
  std::int64_t finished_ms = 0; ///< 0 while unfinished.
  std::string last_error;       ///< The most recent task error, if any.
  /// Over the job's current run (since this process started it): succeeded tasks and their
  /// bytes per second, and the time left at that rate (-1 when unknown or finished).
  double tasks_per_second = 0;
  double bytes_per_second = 0;
  std::int64_t eta_ms = -1;
};

/// A task in the dead letter.
struct dead_task {
  std::uint64_t index = 0;
  std::uint32_t attempts = 0;
  std::string error;
  std::string label; ///< What the task is about (an upload's key); "task N" for kinds without.
};

/// What to run. The id of the job is derived from name, kind, params, tasks and fingerprint:
/// submitting the same spec again resumes the job; a changed one is a new job, and a stored
/// job of the same name with another id is deleted (never mixed with the new one).
struct job_spec {
  std::string name{};
  std::string kind{};
  job_params params{};
  std::uint64_t tasks = 0;
  /// Replaces the fingerprint computed from kind, params and tasks (e.g. a build id).
  std::optional<std::string> fingerprint{};
  /// Per-job limit on tasks in flight; 0 pauses the job. Default: the runtime's parallelism.
  std::optional<std::uint32_t> parallelism{};
  std::optional<retry_policy> retry{}; ///< Default: the runtime's policy.
  /// A task with no heartbeat or completion for this long is declared lost and retried.
  std::optional<std::chrono::milliseconds> task_timeout{};
  /// Called once when the job finishes (any finished state), on the supervisor's thread:
  /// keep it short, and do not call the runtime from it (that would wait on itself).
  /// Capture whatever user context it needs.
  std::function<void(const job_status&)> on_complete{};
};

} // namespace haul
