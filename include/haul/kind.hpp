#pragma once

// A job kind: what a job of that kind does with each of its tasks.
//
// The simplest kind is a blocking task function (runtime::register_kind(name, run)). A
// job_kind can also:
// - run tasks asynchronously (`start`): many tasks in flight on the kind's own event loop,
//   completed from any thread (the upload kind drives libcurl's multi interface this way);
// - list its inputs (`list`): one input per task, streamed into the store when the job is
//   created, handed back to each task as task_context::input(). The job's id then covers a
//   digest of the inputs, so changed inputs make a new job. The list runs once more on
//   every submit to compute that digest, unless the job_spec sets a fingerprint;
// - check params before anything runs (`validate`), and adapt the tasks in flight to the
//   far side's load (`adaptive_concurrency`).
//
//   haul::job_kind k;
//   k.name = "resize";
//   k.list = [](const haul::job_params& p, haul::input_sink& out) -> haul::expected<void> {
//     for (auto& f : files_in(p.at("dir")))
//       if (auto ok = out.add(f); !ok) return ok;
//     return {};
//   };
//   k.run = [](haul::task_context& ctx) { return resize(ctx.input()); };
//   if (auto ok = rt->register_kind(std::move(k)); !ok) return fail(ok.error());

#include <functional>
#include <string>
#include <string_view>

#include "haul/expected.hpp"
#include "haul/task.hpp"

namespace haul {

/// Receives a job's inputs in task order: the n-th add() is task n's input.
class input_sink {
 public:
  virtual ~input_sink() = default;
  /// Fails when the input cannot be stored; the list function should return that error.
  virtual expected<void> add(std::string_view input) = 0;
};

/// Streams a job's inputs into the sink, one per task, in task order.
using list_function = std::function<expected<void>(const job_params&, input_sink&)>;

struct job_kind {
  std::string name;
  /// Exactly one of run and start.
  task_function run;
  async_task_function start;
  /// Empty when the params are valid; else what is wrong, one problem a line, each starting
  /// with the key it is about ("part_size: ..."), so `haul validate` can point at it.
  std::function<std::string(const job_params&)> validate;
  /// Optional: streams the job's inputs (which also sets its number of tasks).
  list_function list;
  /// Optional: a short label for a task's input in messages (an upload's key).
  std::function<std::string(std::string_view input)> describe;
  /// Start with few tasks in flight and adapt to outcome::overloaded (AIMD).
  bool adaptive_concurrency = false;
  /// Keep a succeeded task's last checkpoint in the store (runtime::task_checkpoint), as
  /// the record of what it produced. For kinds with few tasks, such as an export's one:
  /// a job of a million tasks would keep a million records.
  bool keep_final_checkpoint = false;
  /// Optional: drops what an unfinished task keeps outside haul (a partial file, an open
  /// multipart upload) when its job is cancelled while the task is not running (waiting on a
  /// backoff, or in a job this process never started); a running task sees
  /// cancel_requested() instead. Called once per task with a checkpoint, one task after the
  /// other on a background thread (one per cancel), before the stop hook. Best effort.
  std::function<void(const job_params&, const std::string& checkpoint)> discard;
  /// Optional: called once when the runtime stops, after its last task ended; an
  /// asynchronous kind stops its event loop here and drops the runs it still holds.
  std::function<void()> stop;
};

} // namespace haul
