#pragma once

// The job kinds a runtime knows, by name. Thread-safe: kinds may be registered from any
// thread while the supervisor looks them up.

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "haul/expected.hpp"
#include "haul/kind.hpp"
#include "haul/task.hpp"

namespace haul {

struct kind_entry {
  std::string name;
  task_function run;                                           ///< A blocking or inline kind...
  async_task_function start;                                   ///< ...or an asynchronous one.
  list_function list;                                          ///< Optional.
  std::function<std::string(std::string_view input)> describe; ///< Optional.
  bool adaptive_concurrency = false;
  bool keep_final_checkpoint = false;
  std::function<void(const job_params&, const std::string& checkpoint)> discard; ///< Optional.
  std::function<void()> stop;                                                    ///< Optional.
  /// True when a job of these params runs quick, non-blocking tasks that may execute
  /// directly on CAF's scheduler threads, many per message. False (the default for
  /// registered kinds): each task gets a dedicated worker thread and may block.
  std::function<bool(const job_params&)> runs_inline = [](const job_params&) { return false; };
  /// Empty when the params are valid for the kind; else what is wrong.
  std::function<std::string(const job_params&)> validate = [](const job_params&) {
    return std::string();
  };
};

kind_entry entry_of(job_kind kind);

class kind_registry {
 public:
  expected<void> add(kind_entry entry);
  std::shared_ptr<const kind_entry> find(const std::string& name) const;
  /// Calls every kind's stop hook once, after the background work has ended. The runtime
  /// calls it after its last task ended.
  void stop_all();
  /// Runs `work` on a thread of its own (a kind's discard hook), which stop_all() waits for
  /// before any stop hook runs, so the work may use the kind's event loop. Dropped once
  /// stop_all() has begun.
  void run_in_background(std::function<void()> work);

 private:
  mutable std::mutex mutex_;
  std::condition_variable background_done_;
  std::size_t background_ = 0; ///< Background work running now (its threads are detached).
  bool stopping_ = false;
  std::map<std::string, std::shared_ptr<const kind_entry>, std::less<>> kinds_;
};

} // namespace haul
