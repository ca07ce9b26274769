#include "actors/async_run.hpp"

#include <atomic>
#include <chrono>
#include <exception>

#include "actors/messages.hpp"

namespace haul::actors {

namespace {

class async_run final : public task_run {
 public:
  async_run(std::shared_ptr<const job_context> job, run_item item, std::string input)
      : job_(std::move(job))
      , item_(std::move(item))
      , input_(std::move(input)) {}

  std::string_view job_id() const override { return job_->id; }
  std::uint64_t index() const override { return item_.index; }
  std::uint32_t attempt() const override { return item_.attempt; }
  std::uint64_t generation() const override { return job_->generation; }
  const std::string& checkpoint() const override { return item_.checkpoint; }
  const job_params& params() const override { return job_->params; }
  const std::string& input() const override { return input_; }
  bool stop_requested() const override { return item_.stop && item_.stop->load() != 0; }
  bool cancel_requested() const override { return item_.stop && item_.stop->load() == cancel_run; }

  void heartbeat(std::string checkpoint) override {
    sched::task_id task{job_->seq, item_.index};
    // A changed checkpoint goes out at once: asynchronous kinds checkpoint rarely (a
    // multipart upload, once per part), and each one saves a part from being sent again.
    if (!checkpoint.empty() && checkpoint != sent_checkpoint_) {
      sent_checkpoint_ = checkpoint;
      caf::anon_send(job_->supervisor, checkpoint_atom::value, task.job, task.index, item_.run_id,
                     std::move(checkpoint));
    }
    auto now = std::chrono::steady_clock::now();
    if (now - last_beat_ < job_->beat_interval)
      return;
    last_beat_ = now;
    caf::anon_send(job_->recovery, beat_atom::value, task.job, task.index, item_.run_id);
  }

  void complete(outcome result) override {
    if (completed_.exchange(true))
      return;
    sched::completion c;
    c.task = {job_->seq, item_.index};
    c.run_id = item_.run_id;
    c.generation = job_->generation;
    c.kind = result.kind;
    c.error = std::move(result.error);
    if (!sent_checkpoint_.empty())
      c.checkpoint = sent_checkpoint_;
    c.retry_after_ms = result.retry_after ? result.retry_after->count() : -1;
    c.bytes = result.bytes;
    c.overloaded = result.overloaded;
    if (job_->inbox->push(std::move(c)))
      caf::anon_send(job_->supervisor, inbox_atom::value);
  }

 private:
  std::shared_ptr<const job_context> job_;
  run_item item_;
  std::string input_;
  std::string sent_checkpoint_;
  std::chrono::steady_clock::time_point last_beat_{};
  std::atomic<bool> completed_{false};
};

} // namespace

void start_async_run(const std::shared_ptr<const job_context>& job, run_item item) {
  std::string input;
  if (job->inputs) {
    auto loaded = job->inputs->load_input(job->id, item.index);
    if (!loaded) {
      auto run = std::make_shared<async_run>(job, std::move(item), std::string());
      run->complete(outcome::fail(loaded.error().message));
      return;
    }
    input = std::move(*loaded);
  }
  auto run = std::make_shared<async_run>(job, std::move(item), std::move(input));
  try {
    job->start(run);
  } catch (const std::exception& e) {
    run->complete(outcome::retry(std::string("start function threw: ") + e.what()));
  } catch (...) {
    run->complete(outcome::retry("start function threw an unknown exception"));
  }
}

} // namespace haul::actors
