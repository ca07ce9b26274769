#pragma once

// `haul run`'s progress bars: on a terminal, one line per job redrawn in place a few times a
// second (done/total, bytes, rate, ETA, retries, failures, in flight). Log lines printed
// meanwhile go above the bars, which are drawn again below them. Off a terminal, the
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
  /// One line per job, not yet drawn; empty once the runtime has stopped.
  std::vector<std::string> render();
  /// A log line above the drawing, which is drawn again below it.
  void print_above(const std::string& line);
  /// Writes `log_line` (when not empty) and frame_ over the last drawing.
  /// REQUIRES: screen_mutex_ held.
  void put(const std::string& log_line);
  /// An export's progress inside its one task, from its checkpoint; nullopt for other kinds.
  std::optional<partial_progress> partial_of(const job_status& j);

  runtime& rt_;
  std::vector<std::string> ids_;
  std::mutex screen_mutex_;        ///< Guards frame_, drawn_lines_ and writing to stderr.
  std::vector<std::string> frame_; ///< The latest drawing, a line per job.
  std::size_t drawn_lines_ = 0;    ///< Lines of it on the screen now.
  bool unicode_;
  service::rate_meter export_rates_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

} // namespace haul::cli
