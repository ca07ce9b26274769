#pragma once

// haul::runtime: the durable job runtime, embedded in a program.
//
// A runtime owns a store (a RocksDB directory; one process at a time) and runs the jobs
// submitted to it on a supervisor actor, worker actors and a recovery actor. Everything a
// job has finished is in the store before its slot is reused, so a process that is killed
// and opened again resumes exactly: submitting the same job_spec continues the job.
//
//   haul::runtime_options opts;
//   opts.store = "/var/lib/app/haul";
//   auto rt = haul::runtime::open(opts);
//   if (!rt) return fail(rt.error());
//   auto ok = rt->register_kind("thumbnail", [](haul::task_context& ctx) {
//     return render(ctx.index()) ? haul::outcome::success() : haul::outcome::retry("busy");
//   });
//   if (!ok) return fail(ok.error());
//   auto id = rt->submit({.name = "thumbs", .kind = "thumbnail", .tasks = 5000});
//   auto done = rt->wait(*id);   // blocks until the job has finished
//
// Thread safety: every member function may be called from any thread.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "haul/expected.hpp"
#include "haul/job.hpp"
#include "haul/kind.hpp"
#include "haul/task.hpp"

namespace haul {

/// When the store syncs its write-ahead log.
enum class sync_mode : std::uint8_t {
  batch,  ///< One synced write per supervisor loop turn (group commit). The default.
  always, ///< One synced write per task transition: slow; a baseline for benchmarks.
  off,    ///< Never sync: survives a killed process, not a power loss.
};

struct runtime_options {
  std::string store = ".haul";    ///< The store directory; created when missing.
  std::uint32_t parallelism = 64; ///< Tasks in flight over all jobs; 0 pauses the runtime.
  sync_mode sync = sync_mode::batch;
  retry_policy retry;                                ///< Default for jobs that set none.
  std::chrono::milliseconds task_timeout{300'000};   ///< Default for jobs that set none.
  std::chrono::milliseconds retention{86'400'000};   ///< Finished jobs older than this are deleted.
  std::chrono::milliseconds report_interval{60'000}; ///< The periodic report log line.
  std::chrono::milliseconds shutdown_grace{10'000};  ///< How long stop() waits for running tasks.
  std::uint32_t scheduler_threads = 0; ///< CAF scheduler threads; 0 = one per core, at least 2.
};

/// What the start-up recovery pass found, kept for the health report.
struct recovery_report {
  std::uint64_t generation = 0;        ///< This process's incarnation of the store.
  std::uint64_t jobs_resumable = 0;    ///< Unfinished jobs found in the store.
  std::uint64_t tasks_interrupted = 0; ///< Tasks that were running when the last process died.
  std::uint64_t jobs_expired = 0;      ///< Finished jobs deleted for being older than retention.
  std::int64_t duration_ms = 0;
  std::int64_t finished_ms = 0; ///< Unix ms the pass ended, before any new work started.
};

/// How the runtime's loop is doing, for health checks.
struct loop_report {
  std::int64_t last_turn_ms = 0; ///< Unix ms of the supervisor's last turn; 0 before any.
  /// How late the supervisor's once-a-second probe arrived: how long a message waits in its
  /// mailbox now. A few ms when healthy.
  std::int64_t lag_ms = 0;
  std::int64_t last_probe_ms = 0; ///< Unix ms the latest probe arrived; 0 before any.
  bool stopped = false;           ///< The supervisor quit: stop() was called, or the store failed.
  bool store_failed = false;      ///< It quit on a store failure (the error log line says which).
  /// Task functions of blocking and inline kinds running now (asynchronous kinds are not
  /// counted: their stop hooks end them). After stop(), the ones that ignored the stop
  /// request past shutdown_grace: the runtime's destructor waits for them to return, so a
  /// program that must exit now can call _exit() instead, as `haul run` does.
  std::int64_t task_functions = 0;

  /// The lag as of `now_ms`: a probe that is overdue counts as lag too, so a supervisor that
  /// hangs or has quit shows a lag that grows instead of its last reading.
  std::int64_t lag_at(std::int64_t now_ms) const {
    constexpr std::int64_t probe_interval_ms = 1000;
    if (last_probe_ms == 0)
      return lag_ms;
    auto overdue = now_ms - last_probe_ms - probe_interval_ms;
    return overdue > lag_ms ? overdue : lag_ms;
  }
};

class runtime {
 public:
  /// Opens (or creates) the store, runs the recovery pass, and starts the actors.
  /// Fails with store_busy when another process owns the store, store_incompatible when the
  /// directory holds something else, store_io when RocksDB cannot open it.
  static expected<runtime> open(runtime_options options);

  runtime(runtime&&) noexcept;
  runtime& operator=(runtime&&) noexcept;
  /// Stops as stop() does, then releases the store.
  ~runtime();

  /// Makes a job kind available. REQUIRES: called before submitting a job of that kind.
  /// Fails with invalid_argument when the name is taken or empty.
  expected<void> register_kind(std::string name, task_function run);
  /// The same for a kind with more than a blocking task function (haul/kind.hpp).
  expected<void> register_kind(job_kind kind);

  /// Starts the job, or resumes it when the store already knows it. Returns its id.
  /// For a kind that lists inputs, a new job's inputs are listed into the store first, on
  /// the calling thread. Fails with not_found for an unregistered kind, invalid_argument for
  /// a bad spec, and with the list function's error when listing fails.
  expected<std::string> submit(job_spec spec);

  /// Runs a job the store already knows, with the name, kind, params and tasks stored with
  /// it, as if its spec were submitted again; parallelism, retry, task_timeout and
  /// on_complete come from `settings` (the rest of it is ignored), else runtime_options.
  /// For a job submitted by an earlier process through an API, whose spec lives nowhere
  /// else, or one to run again after retry() without listing its inputs anew. Fails with
  /// not_found for an unknown id or kind.
  expected<job_status> resubmit(std::string_view id, job_spec settings = {});

  /// Blocks until the job has finished; returns its final status.
  expected<job_status> wait(std::string_view id);

  expected<job_status> status(std::string_view id) const;
  std::vector<job_status> jobs() const; ///< Every job in the store.

  /// The params the job was created with (its kind-specific keys). Fails with not_found.
  expected<job_params> params(std::string_view id) const;

  /// The task's checkpoint as last stored: empty when it has none. For a succeeded task,
  /// only kinds with keep_final_checkpoint keep it. Reads the store (progress of the last
  /// few hundred milliseconds may not be there yet). Fails with not_found for an unknown id.
  expected<std::string> task_checkpoint(std::string_view id, std::uint64_t index) const;

  /// Cancels the job: pending tasks never start, running ones are asked to stop.
  expected<void> cancel(std::string_view id);
  /// Up to `limit` tasks of the job's dead letter, in task order.
  expected<std::vector<dead_task>> dead_letter(std::string_view id, std::size_t limit = 100) const;
  /// Queues the job's dead-letter tasks again with fresh attempts (`haul retry`). A job
  /// still running runs them now; a finished one at its next submit. Returns how many.
  /// Fails with not_found, or failed_precondition for a cancelled job.
  expected<std::uint64_t> retry(std::string_view id);
  /// Pauses the job: nothing new starts, running tasks finish. The pause is stored and
  /// outlasts restarts (a resubmitted job stays paused) until resume(). Fails with
  /// not_found, or failed_precondition for a finished job.
  expected<void> pause(std::string_view id);
  /// Undoes pause(): the job runs again with the parallelism it had before, else the
  /// runtime's. Resuming a job that is not paused changes nothing.
  expected<void> resume(std::string_view id);
  /// Changes a job's parallelism while it runs; 0 pauses it, as pause() does: the pause is
  /// stored and outlasts a restart until resume().
  expected<void> set_parallelism(std::string_view id, std::uint32_t parallelism);
  /// Changes the runtime's parallelism; 0 pauses every job.
  void set_parallelism(std::uint32_t parallelism);

  /// Graceful stop: starts no new task, gives running ones shutdown_grace to finish or
  /// checkpoint, persists, and returns. Unfinished jobs resume at the next open().
  void stop();

  const recovery_report& recovery() const;
  loop_report loop() const;
  const runtime_options& options() const;

  class impl;

 private:
  explicit runtime(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace haul
