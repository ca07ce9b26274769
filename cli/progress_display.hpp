#pragma once

// `haul run`'s progress bars: on a terminal, one line per job redrawn in place a few times a
// second (done/total, bytes, rate, ETA, retries, failures, in flight). Off a terminal, the
// runtime's periodic progress log lines say the same, so nothing is drawn.

#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "haul/runtime.hpp"
#include "runtime/service/export_status.hpp"
#include "runtime/status_json.hpp"

namespace haul::cli {

class progress_display {
 public:
  /// Draws on stderr until stop(). REQUIRES: rt outlives the display.
  progress_display(runtime& rt, std::vector<std::string> ids);
  ~progress_display();
  progress_display(const progress_display&) = delete;
  progress_display& operator=(const progress_display&) = delete;

  /// Draws once more (the final numbers) and stops. Idempotent.
  void stop();

 private:
  void draw();
  /// An export's progress inside its one task, from its checkpoint; nullopt for other kinds.
  std::optional<partial_progress> partial_of(const job_status& j);

  runtime& rt_;
  std::vector<std::string> ids_;
  std::size_t drawn_lines_ = 0;
  bool unicode_;
  service::rate_meter export_rates_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

} // namespace haul::cli
