#pragma once

// The scheduling brain of the supervisor: a plain class with no actor, no RocksDB and no
// clock inside. The supervisor feeds it events (completions, checkpoints, lost tasks,
// cancel, parallelism changes) and asks it for a turn; the turn answers with decisions:
// the store_batch to commit, the tasks to dispatch once that batch is durable, the workers
// to stop, and when to wake up next. Tests drive it event by event with a fake clock.
//
// Invariant that makes resume exact: a completion frees its slot in the turn that records
// it, and the supervisor sends that turn's dispatches only after committing its batch. So a
// slot is reused only once the completion that freed it is durable, and a kill repeats at
// most the tasks in flight, never more than the parallelism.
//
// Tasks of a job are numbered 0..total-1. Tasks [next_fresh, total) never ran and need no
// state at all; a task gets a record in the store only when it has something to say (a
// failure, a backoff, a checkpoint). Tasks waiting on a backoff live in the due queue,
// which the brain pages in through a due_source, never holding more than a window of it.

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "haul/expected.hpp"
#include "haul/job.hpp"
#include "haul/task.hpp"
#include "runtime/concurrency_window.hpp"
#include "storage/records.hpp"
#include "storage/store.hpp"

namespace haul::sched {

struct task_id {
  std::uint32_t job = 0;
  std::uint64_t index = 0;
  bool operator==(const task_id&) const = default;
};

struct task_id_hash {
  std::size_t operator()(const task_id& t) const noexcept {
    return std::hash<std::uint64_t>()(t.index * 0x9e3779b97f4a7c15ULL ^ t.job);
  }
};

/// Settings of a job that may change from one submit to the next without changing its id.
struct job_config {
  retry_policy retry;
  std::uint32_t parallelism = 64; ///< 0 pauses the job.
  /// Adapt the tasks in flight to overloads, up to `parallelism` (concurrency_window).
  bool adaptive = false;
  /// A succeeded task's last checkpoint stays in its record (task_state::done).
  bool keep_final_checkpoint = false;
};

/// A task to start. run_id is unique within this process and stamps everything about
/// this run, so that anything a replaced run sends later is recognised as stale.
struct dispatch {
  task_id task;
  std::uint64_t run_id = 0;
  std::uint32_t attempt = 1;
  std::string checkpoint;
};

/// What a worker reports about one run.
struct completion {
  task_id task;
  std::uint64_t run_id = 0;
  std::uint64_t generation = 0;
  outcome_kind kind = outcome_kind::ok;
  std::string error;
  std::optional<std::string> checkpoint; ///< Replaces the task's checkpoint when set.
  std::int64_t retry_after_ms = -1;      ///< A server's Retry-After; -1 when none.
  std::uint64_t bytes = 0;
  bool overloaded = false; ///< outcome::overloaded.
};

struct stop_request {
  task_id task;
  std::uint64_t run_id = 0;
  bool cancel = false; ///< The job was cancelled: the run may drop its partial work.
};

/// One step of one task, for the debug log; collected only while tracing is on.
struct task_event {
  enum class step : std::uint8_t {
    started,     ///< Handed to a worker; `ms` is the start lag: how long it waited since due.
    succeeded,   ///< Ended well.
    requeued,    ///< Failed (or retried from the dead letter) and waits again; `ms`: due in.
    dead,        ///< Failed for good: in the dead letter.
    stopped,     ///< Ended by its job's cancel.
    interrupted, ///< Stopped by a shutdown or a replaced run: waits again, due at once,
                 ///< with its checkpoint; not a failure.
  };
  task_id task;
  step what = step::started;
  std::uint32_t attempt = 0; ///< Of the run that started or ended; 0: requeued by a retry.
  std::int64_t ms = 0;
  std::string error;
};

struct turn_result {
  storage::store_batch batch;       ///< Commit first...
  std::vector<dispatch> dispatches; ///< ...then send these.
  std::vector<stop_request> stops;
  std::vector<std::uint32_t> finished_jobs; ///< Jobs that reached a finished state this turn.
  std::optional<std::int64_t> wake_at_ms;   ///< Ask for a turn at this time at the latest.
  /// With tracing on: every task step since the last turn (completions included).
  std::vector<task_event> events;
};

/// Where the brain pages a job's due queue in from: the store, or a test's own table.
class due_source {
 public:
  virtual ~due_source() = default;
  virtual expected<std::vector<storage::due_entry>>
  load_due(std::uint32_t job, const std::optional<storage::due_entry>& after,
           std::size_t limit) = 0;
  virtual expected<std::optional<storage::task_record>> load_task(task_id task) = 0;
};

/// Lifetime counters of this process, for the periodic report.
struct scheduler_counters {
  std::uint64_t completed = 0; ///< Every applied completion.
  std::uint64_t succeeded = 0;
  std::uint64_t failed = 0; ///< Went to the dead letter.
  std::uint64_t retries = 0;
  std::uint64_t cancelled = 0;
  std::uint64_t stale = 0; ///< Completions ignored as stale (old generation or run).
  std::uint64_t dispatched = 0;
  /// Start lag: how long dispatched tasks waited since they were due (a fresh task since its
  /// job started running here, so a backlog shows too). Sum over every dispatch, and the
  /// largest since the last take_start_lag_max().
  std::uint64_t start_lag_sum_ms = 0;
  std::uint64_t start_lag_max_ms = 0;
};

class scheduler {
 public:
  struct options {
    std::uint32_t parallelism = 64;        ///< Over all jobs; 0 pauses everything.
    std::int64_t cancel_grace_ms = 10'000; ///< How long cancelled runs may take to stop.
    std::size_t due_window = 16'384;       ///< Most due entries held in memory per job.
    std::uint64_t seed = 0;                ///< Seeds the jitter draws.
  };

  scheduler(options opts, std::uint64_t generation, due_source& source);

  // --- jobs -------------------------------------------------------------------------------

  /// Takes over a job from the store. `waiting` is how many of its tasks sit in the due queue
  /// (the recovery pass counts them). A job runs only once activated; until then, and when
  /// it is finished, it is kept for status only.
  void add_job(storage::job_record record, std::uint64_t waiting);
  /// Starts (or resumes) running an added job with this configuration.
  void activate_job(std::uint32_t job, job_config config, std::int64_t now_ms);
  /// Forgets a job (its store state is deleted by the caller in the same batch).
  void remove_job(std::uint32_t job);
  bool has_job(std::uint32_t job) const { return jobs_.count(job) != 0; }
  const storage::job_record* job(std::uint32_t job) const;
  std::optional<job_status> status(std::uint32_t job) const;
  std::vector<job_status> statuses() const;

  // --- events -----------------------------------------------------------------------------

  /// Applies a worker's report. Returns false when it is stale and was ignored.
  bool on_completion(const completion& c, std::int64_t now_ms);
  /// Records a running task's checkpoint. Ignored when stale.
  void on_checkpoint(task_id task, std::uint64_t run_id, std::string checkpoint);
  /// The recovery actor declared the run lost: it counts as a retryable failure.
  void on_lost(task_id task, std::uint64_t run_id, std::string why, std::int64_t now_ms);
  void cancel(std::uint32_t job, std::int64_t now_ms);
  /// Queues the job's dead-letter tasks again (`haul retry`): each is due now with its
  /// attempts reset and its checkpoint kept. `records` are the job's stored task records;
  /// only the dead ones count. A finished job becomes pending (inactive): its next submit
  /// runs them; a job still running runs them now.
  /// Fails with failed_precondition for a cancelled job. Returns how many were queued.
  expected<std::uint64_t>
  retry_dead(std::uint32_t job,
             const std::vector<std::pair<std::uint64_t, storage::task_record>>& records,
             std::int64_t now_ms);
  /// The job's tasks in flight at most from now on. 0 pauses it as pause() does; more than
  /// 0 on a paused job resumes it at that parallelism.
  void set_job_parallelism(std::uint32_t job, std::uint32_t parallelism);
  /// Nothing new of the job starts (running tasks finish); the stored state `paused`
  /// outlasts restarts until resume(). A job not active in this process is paused for when
  /// it is submitted. False for a finished job.
  bool pause(std::uint32_t job);
  /// Undoes pause(): the job runs with the parallelism it had before it was paused in this
  /// process, else `parallelism`. False for a finished job.
  bool resume(std::uint32_t job, std::uint32_t parallelism);
  void set_parallelism(std::uint32_t parallelism);
  /// Starts nothing more and asks every running task to stop within grace_ms.
  void begin_shutdown(std::int64_t now_ms, std::int64_t grace_ms);

  // --- turns ------------------------------------------------------------------------------

  /// Decides this turn. The caller commits result.batch, then calls committed(), then sends
  /// result.dispatches and result.stops. Fails only when paging the due queue fails.
  expected<turn_result> turn(std::int64_t now_ms);
  /// The last turn's batch is durable.
  void committed();

  /// The batch of the turn in progress, for the supervisor's own changes (new job ids,
  /// deleted stale jobs) to be committed with it.
  storage::store_batch& pending_batch() { return batch_; }
  std::uint64_t generation() const { return generation_; }
  std::size_t running() const { return running_.size(); }
  /// Tasks waiting or never started, over unfinished jobs.
  std::uint64_t backlog() const;
  bool shutting_down() const { return shutdown_deadline_ms_.has_value(); }
  /// True when shutting down and no task is running any more (or the grace has passed).
  bool shutdown_complete(std::int64_t now_ms) const;
  /// True when no unfinished job has anything left to do.
  bool all_finished() const;
  const scheduler_counters& counters() const { return counters_; }
  /// Collects a task_event per step into turn_result::events (for the debug log); off by
  /// default, since a busy runtime takes hundreds of thousands of steps a second.
  void set_tracing(bool on) { tracing_ = on; }
  /// The largest start lag since the last call (for a periodic report), reset to 0.
  std::uint64_t take_start_lag_max() { return std::exchange(counters_.start_lag_max_ms, 0); }
  std::size_t due_in_memory() const;

 private:
  using due_pos = std::pair<std::int64_t, std::uint64_t>; ///< (due ms, task index)
  struct waiting_entry {
    std::uint32_t failures = 0;
    std::string checkpoint;
  };
  /// The part of a job's due queue held in memory: every stored entry up to `boundary`
  /// (all of them when `complete`); later ones are paged in when it runs low.
  struct due_window {
    std::map<due_pos, waiting_entry> entries;
    std::optional<due_pos> boundary;
    bool complete = false;
    bool loaded = false;
    /// Entries beyond the boundary staged in the uncommitted batch: page_in cannot read
    /// them from the store yet.
    std::vector<std::pair<due_pos, waiting_entry>> spilled;
  };
  struct job_entry {
    storage::job_record record;
    job_config config;
    bool active = false;
    std::uint64_t running = 0;
    std::uint64_t waiting = 0;
    bool cancelling = false;
    bool stops_sent = false;
    std::int64_t cancel_deadline_ms = 0;
    bool dirty = false;
    due_window due;
    std::optional<concurrency_window> window; ///< Adaptive jobs only.
    std::uint32_t resume_parallelism = 0;     ///< Its parallelism before a pause; 0: none.
  };
  struct running_entry {
    std::uint64_t run_id = 0;
    std::uint32_t attempt = 1;
    std::string checkpoint;
    bool has_record = false; ///< The store holds a task record for it.
  };

  bool dispatchable(const job_entry& j) const;
  /// Tasks of the job that may be in flight now.
  static std::uint64_t limit_of(const job_entry& j);
  /// Sets an active job's parallelism and the state that goes with it (0: paused).
  static void apply_parallelism(job_entry& j, std::uint32_t parallelism);
  void finish_run(task_id task, job_entry& j, const running_entry& run, const completion& c,
                  std::int64_t now_ms);
  void requeue(task_id task, job_entry& j, std::uint32_t failures, std::int64_t due_ms,
               std::string error, std::string checkpoint);
  void bury(task_id task, job_entry& j, std::uint32_t failures, std::string error,
            std::string checkpoint);
  void enqueue_due(job_entry& j, due_pos pos, waiting_entry w);
  void shrink_to_window(due_window& d);
  expected<void> page_in(job_entry& j);
  void dispatch_waiting(job_entry& j, std::int64_t now_ms, std::uint64_t& free, turn_result& out);
  void dispatch_fresh(std::int64_t now_ms, std::uint64_t& free, turn_result& out);
  void count_start(task_id task, std::uint32_t attempt, std::int64_t lag_ms) {
    auto lag = static_cast<std::uint64_t>(lag_ms > 0 ? lag_ms : 0);
    counters_.start_lag_sum_ms += lag;
    counters_.start_lag_max_ms = std::max(counters_.start_lag_max_ms, lag);
    trace(task, task_event::step::started, attempt, lag_ms);
  }
  void trace(task_id task, task_event::step what, std::uint32_t attempt, std::int64_t ms,
             const std::string& error = {}) {
    if (tracing_)
      events_.push_back({task, what, attempt, ms, error});
  }
  void expire_cancelled_runs(std::int64_t now_ms);
  void finish_jobs(std::int64_t now_ms, turn_result& out);
  double draw_jitter();

  options opts_;
  std::uint64_t generation_;
  due_source& source_;
  std::mt19937_64 rng_;
  std::map<std::uint32_t, job_entry> jobs_;
  std::unordered_map<task_id, running_entry, task_id_hash> running_;
  std::uint64_t next_run_id_ = 1;
  storage::store_batch batch_;
  std::uint32_t rr_cursor_ = 0; ///< Round-robin start among jobs for fresh tasks.
  std::optional<std::int64_t> shutdown_deadline_ms_;
  bool shutdown_stops_sent_ = false;
  scheduler_counters counters_;
  bool tracing_ = false;
  std::vector<task_event> events_;
};

} // namespace haul::sched
