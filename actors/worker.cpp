#include "actors/worker.hpp"

#include <algorithm>
#include <chrono>
#include <exception>

#include "actors/async_run.hpp"
#include "actors/messages.hpp"

namespace haul::actors {

namespace {

class worker_task_context final : public task_context {
 public:
  worker_task_context(const job_context& job, const run_item& item, std::string input)
      : job_(job)
      , item_(item)
      , input_(std::move(input)) {}

  std::string_view job_id() const override { return job_.id; }
  std::uint64_t index() const override { return item_.index; }
  std::uint32_t attempt() const override { return item_.attempt; }
  std::uint64_t generation() const override { return job_.generation; }
  const std::string& checkpoint() const override { return item_.checkpoint; }
  const job_params& params() const override { return job_.params; }
  const std::string& input() const override { return input_; }
  bool stop_requested() const override { return item_.stop && item_.stop->load() != 0; }
  bool cancel_requested() const override { return item_.stop && item_.stop->load() == cancel_run; }

  void heartbeat(std::string checkpoint) override {
    auto now = std::chrono::steady_clock::now();
    if (!checkpoint.empty())
      latest_checkpoint_ = std::move(checkpoint);
    sched::task_id task{job_.seq, item_.index};
    // A changed checkpoint goes out soon (each one may save redoing a part of the work), but
    // at most every checkpoint_interval, so that a task checkpointing per item does not
    // flood the supervisor.
    if (!latest_checkpoint_.empty() && latest_checkpoint_ != sent_checkpoint_ &&
        now - last_checkpoint_ >= std::min(checkpoint_interval, job_.beat_interval)) {
      last_checkpoint_ = now;
      sent_checkpoint_ = latest_checkpoint_;
      caf::anon_send(job_.supervisor, checkpoint_atom::value, task.job, task.index, item_.run_id,
                     sent_checkpoint_);
    }
    if (now - last_beat_ < job_.beat_interval)
      return;
    last_beat_ = now;
    caf::anon_send(job_.recovery, beat_atom::value, task.job, task.index, item_.run_id);
  }

  /// The newest checkpoint, sent with the completion so that none is lost to throttling.
  std::optional<std::string> final_checkpoint() const {
    if (latest_checkpoint_.empty())
      return std::nullopt;
    return latest_checkpoint_;
  }

 private:
  const job_context& job_;
  const run_item& item_;
  std::string input_;
  static constexpr std::chrono::milliseconds checkpoint_interval{50};
  std::chrono::steady_clock::time_point last_beat_{};
  std::chrono::steady_clock::time_point last_checkpoint_{};
  std::string latest_checkpoint_;
  std::string sent_checkpoint_;
};

/// Counts task functions running for the runtime (a stopped runtime does not wait for
/// those left: cli::code_after_stop), an order's tasks until the last of them has returned.
class in_task_functions {
 public:
  in_task_functions(std::atomic<std::int64_t>* counter, std::size_t n)
      : counter_(counter)
      , n_(static_cast<std::int64_t>(n)) {
    if (counter_)
      *counter_ += n_;
  }
  ~in_task_functions() {
    if (counter_)
      *counter_ -= n_;
  }
  in_task_functions(const in_task_functions&) = delete;
  in_task_functions& operator=(const in_task_functions&) = delete;

 private:
  std::atomic<std::int64_t>* counter_;
  std::int64_t n_;
};

sched::completion execute(const job_context& job, const run_item& item) {
  std::string input;
  std::optional<outcome> early;
  if (job.inputs) {
    auto loaded = job.inputs->load_input(job.id, item.index);
    if (loaded)
      input = std::move(*loaded);
    else
      early = outcome::fail(loaded.error().message);
  }
  worker_task_context ctx(job, item, std::move(input));
  outcome result;
  try {
    result = early ? std::move(*early) : job.run(ctx);
  } catch (const std::exception& e) {
    result = outcome::retry(std::string("task function threw: ") + e.what());
  } catch (...) {
    result = outcome::retry("task function threw an unknown exception");
  }
  sched::completion c;
  c.task = {job.seq, item.index};
  c.run_id = item.run_id;
  c.generation = job.generation;
  c.kind = result.kind;
  c.error = std::move(result.error);
  c.checkpoint = ctx.final_checkpoint();
  c.retry_after_ms = result.retry_after ? result.retry_after->count() : -1;
  c.bytes = result.bytes;
  c.overloaded = result.overloaded;
  return c;
}

// `blocking` only names the worker's flavour; it also keeps CAF 0.17 from spawning a
// function actor with an empty argument tuple, whose factory dereferences a null
// shared_ptr (reported by UBSan inside CAF's init_fun_factory).
caf::behavior worker(caf::event_based_actor*, bool /*blocking*/) {
  return {
      [](run_atom, run_order& order) {
        if (order.job->start) {
          for (auto& item : order.items)
            start_async_run(order.job, std::move(item));
          return;
        }
        completion_list done;
        done.reserve(order.items.size());
        {
          // Counted once an order, not once a task: an inline order holds many quick tasks.
          in_task_functions counted(order.job->task_functions, order.items.size());
          for (const auto& item : order.items)
            done.push_back(execute(*order.job, item));
        }
        caf::anon_send(order.job->supervisor, completed_atom::value, std::move(done));
      },
  };
}

} // namespace

caf::actor spawn_inline_worker(caf::actor_system& sys) {
  return sys.spawn(worker, false);
}

caf::actor spawn_blocking_worker(caf::actor_system& sys) {
  return sys.spawn<caf::detached>(worker, true);
}

} // namespace haul::actors
