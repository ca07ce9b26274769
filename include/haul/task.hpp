#pragma once

// What a job kind's task function sees and returns.
//
// A task function runs on a worker thread of its own (blocking work is fine there) and
// returns an outcome. Long tasks call heartbeat() at least once per task_timeout; a task
// that stops sending them is declared lost and run again. A heartbeat may carry a
// checkpoint: the next attempt of the task (after a retry or a crash) starts from it.
//
//   haul::outcome copy_one(haul::task_context& ctx) {
//     auto offset = parse(ctx.checkpoint());
//     while (offset < size) {
//       if (ctx.stop_requested()) return haul::outcome::cancelled();
//       offset += copy_some(offset);
//       ctx.heartbeat(std::to_string(offset));
//     }
//     return haul::outcome::success(size);
//   }

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace haul {

/// DO NOT CHANGE the numbers: they are stored on disk and sent between actors.
enum class outcome_kind : std::uint8_t {
  ok = 0,        ///< The task is done; it never runs again.
  retryable = 1, ///< Try again after a backoff, until the job's max_attempts.
  permanent = 2, ///< Give up at once: the task goes to the dead letter.
  cancelled = 3, ///< The task stopped because it was asked to; it did not fail.
};

struct outcome {
  outcome_kind kind = outcome_kind::ok;
  std::string error;                                    ///< Why it failed; empty on success.
  std::optional<std::chrono::milliseconds> retry_after; ///< A server's Retry-After, if any.
  std::uint64_t bytes = 0;                              ///< Bytes moved, for status and rates.
  /// The far side said it is overloaded (HTTP 429, 503): jobs with adaptive concurrency
  /// lower the number of tasks in flight.
  bool overloaded = false;

  static outcome success(std::uint64_t bytes = 0) {
    return {outcome_kind::ok, {}, {}, bytes, false};
  }
  static outcome retry(std::string why,
                       std::optional<std::chrono::milliseconds> after = std::nullopt) {
    return {outcome_kind::retryable, std::move(why), after, 0, false};
  }
  /// A retryable failure because the far side is overloaded.
  static outcome overload(std::string why,
                          std::optional<std::chrono::milliseconds> after = std::nullopt) {
    return {outcome_kind::retryable, std::move(why), after, 0, true};
  }
  static outcome fail(std::string why) {
    return {outcome_kind::permanent, std::move(why), {}, 0, false};
  }
  static outcome cancelled() { return {outcome_kind::cancelled, "cancelled", {}, 0, false}; }
};

/// Parameters of a job: the kind-specific keys of its [[job]] table, as strings.
using job_params = std::map<std::string, std::string, std::less<>>;

/// The view a task function has of its task. Valid only during the call; not copyable.
/// Thread context: the worker thread that runs the task.
class task_context {
 public:
  virtual ~task_context() = default;

  virtual std::string_view job_id() const = 0;
  virtual std::uint64_t index() const = 0;      ///< 0..tasks-1, dense, in listing order.
  virtual std::uint32_t attempt() const = 0;    ///< 1 for the first run, 2 after one failure...
  virtual std::uint64_t generation() const = 0; ///< The process incarnation running the task.
  virtual const std::string& checkpoint() const = 0; ///< Empty when the task starts fresh.
  virtual const job_params& params() const = 0;
  /// The task's input, as the kind's list function produced it; empty for kinds without one.
  virtual const std::string& input() const = 0;

  /// Tells haul the task is alive; with a non-empty checkpoint, also records progress that
  /// the next attempt resumes from. Cheap: call it as often as progress is made.
  virtual void heartbeat(std::string checkpoint = {}) = 0;

  /// True once haul asked the task to stop (job cancelled, shutdown, or task declared lost):
  /// return outcome::cancelled() soon after.
  virtual bool stop_requested() const = 0;
  /// True when the stop is because the job was cancelled: the task will not run again, so
  /// it may drop partial work it keeps outside haul (temporary files, open uploads).
  virtual bool cancel_requested() const { return false; }

 protected:
  task_context() = default;
  task_context(const task_context&) = delete;
  task_context& operator=(const task_context&) = delete;
};

/// A job kind's work: runs one task, blocking as long as it needs, and reports its outcome.
/// Called concurrently from several threads for different tasks of the same job.
using task_function = std::function<outcome(task_context&)>;

/// A task run handed to an asynchronous kind, which keeps it until it calls complete().
/// Any thread may use it, one at a time: typically the kind's own event loop.
class task_run : public task_context {
 public:
  /// Reports the run's outcome. Call exactly once; later calls are ignored.
  virtual void complete(outcome result) = 0;
};

/// An asynchronous kind's work: starts the task without blocking (for example by handing it
/// to an event loop) and completes the run later, from any thread.
using async_task_function = std::function<void(std::shared_ptr<task_run>)>;

} // namespace haul
