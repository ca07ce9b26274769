#pragma once

// Every message the actors exchange, in one place. Include only from .cpp files: it pulls
// in CAF. All types are local to one process (they carry shared pointers and functions), so
// they are whitelisted as unsafe message types instead of being made serializable.
//
//   runtime API ──control──▶ supervisor ──run_order──▶ worker(s) ──start──▶ async kind
//                               ▲   │                     │                   │
//              inbox (async) ───┼───┼─────────────────────┼───────────────────┘
//                 completions ──┘   │ watch/unwatch       │ beat (heartbeat)
//                               │   ▼                     ▼
//                               └── recovery ◀────────────┘
//                      lost_runs ◀─┘  (declares runs lost when their deadline passes)

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "haul/job.hpp"
#include "haul/runtime.hpp"
#include "haul/task.hpp"
#include "runtime/liveness.hpp"
#include "runtime/scheduler.hpp"
#include "storage/recovery_pass.hpp"
#include "storage/store.hpp"

namespace haul::actors {

// Atoms: at most 10 characters; none may shadow CAF's predefined ones.
using run_atom = caf::atom_constant<caf::atom("h_run")>;
using completed_atom = caf::atom_constant<caf::atom("h_done")>;
using checkpoint_atom = caf::atom_constant<caf::atom("h_ckpt")>;
using beat_atom = caf::atom_constant<caf::atom("h_beat")>;
using watch_atom = caf::atom_constant<caf::atom("h_watch")>;
using lost_atom = caf::atom_constant<caf::atom("h_lost")>;
using turn_atom = caf::atom_constant<caf::atom("h_turn")>;
using wake_atom = caf::atom_constant<caf::atom("h_wake")>;
using report_atom = caf::atom_constant<caf::atom("h_report")>;
using control_atom = caf::atom_constant<caf::atom("h_control")>;
using recover_atom = caf::atom_constant<caf::atom("h_recover")>;
using sweep_atom = caf::atom_constant<caf::atom("h_sweep")>;
using shutdown_atom = caf::atom_constant<caf::atom("h_shutdown")>;
using inbox_atom = caf::atom_constant<caf::atom("h_inbox")>;
using probe_atom = caf::atom_constant<caf::atom("h_probe")>;

/// Completions of asynchronous runs, which finish on a kind's own threads. The first push
/// into an empty inbox rings the supervisor (one inbox_atom message); the supervisor takes
/// everything queued by then. So a burst of completions costs one message, not one each.
class completion_inbox {
 public:
  /// True when the inbox was empty: the caller sends the supervisor an inbox_atom.
  bool push(sched::completion c) {
    std::lock_guard<std::mutex> guard(mutex_);
    items_.push_back(std::move(c));
    return items_.size() == 1;
  }
  std::vector<sched::completion> take() {
    std::lock_guard<std::mutex> guard(mutex_);
    return std::exchange(items_, {});
  }

 private:
  std::mutex mutex_;
  std::vector<sched::completion> items_;
};

/// What a worker needs to run a job's tasks; shared by all its runs.
struct job_context {
  std::uint32_t seq = 0;
  std::string id;
  job_params params;
  task_function run;                       ///< Blocking and inline kinds...
  async_task_function start;               ///< ...or asynchronous ones.
  const storage::store* inputs = nullptr;  ///< Set when the kind lists inputs.
  std::shared_ptr<completion_inbox> inbox; ///< Asynchronous kinds.
  std::uint64_t generation = 0;
  /// Heartbeats are forwarded at most this often: a quarter of the task timeout, so that a
  /// task that calls heartbeat() in a tight loop costs little and is never declared lost.
  std::chrono::milliseconds beat_interval{200};
  caf::actor supervisor;
  caf::actor recovery;
  /// Counts the task functions running; outlives every worker (the runtime owns it).
  std::atomic<std::int64_t>* task_functions = nullptr;
};

/// What the supervisor asks of a run: 0 go on, stop_run (shutdown, lost), cancel_run.
using stop_flag = std::atomic<std::uint8_t>;
inline constexpr std::uint8_t stop_run = 1;
inline constexpr std::uint8_t cancel_run = 2;

/// Raises a run's stop request, never lowers it: a cancelled run that a shutdown or a lost
/// deadline stops later must still see the cancel, or it would keep work the cancel drops.
inline void raise_stop(stop_flag& flag, std::uint8_t to) {
  auto now = flag.load();
  while (now < to && !flag.compare_exchange_weak(now, to)) {
  }
}

struct run_item {
  std::uint64_t index = 0;
  std::uint64_t run_id = 0;
  std::uint32_t attempt = 1;
  std::string checkpoint;
  std::shared_ptr<stop_flag> stop; ///< Set by the supervisor to ask the run to stop.
};

/// supervisor -> worker: run these tasks of one job.
struct run_order {
  std::shared_ptr<const job_context> job;
  std::vector<run_item> items;
};

/// worker -> supervisor: what became of runs.
using completion_list = std::vector<sched::completion>;

/// supervisor -> recovery: runs started (with their timeout) and runs ended in a turn.
struct watch_list {
  struct started {
    sched::task_id task;
    std::uint64_t run_id = 0;
    std::int64_t timeout_ms = 0;
  };
  std::vector<started> started_runs;
  std::vector<sched::stop_request> ended_runs;
};

/// recovery -> supervisor: runs whose deadline passed.
using lost_list = std::vector<lost_run>;

/// runtime API -> supervisor: one request; the reply is a control_reply.
struct control_request {
  enum class op : std::uint8_t {
    submit,
    status,
    list,
    wait,
    cancel,
    job_parallelism,
    parallelism,
    retry,
    stop,
    pause,
    resume,
  } what = op::status;
  job_spec spec;
  std::string id;
  std::uint32_t parallelism = 0;
};

struct control_reply {
  std::optional<error> failure;
  std::string id;
  std::vector<job_status> jobs;
  std::uint64_t count = 0; ///< retry: tasks queued again.
};

} // namespace haul::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(haul::actors::run_order)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(haul::actors::completion_list)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(haul::actors::watch_list)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(haul::actors::lost_list)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(haul::actors::control_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(haul::actors::control_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(haul::storage::recovery_result)
