#include "cli/progress_display.hpp"

#include <chrono>
#include <cstdio>

#include "runtime/status_json.hpp"

namespace haul::cli {

progress_display::progress_display(runtime& rt, std::vector<std::string> ids)
    : rt_(rt)
    , ids_(std::move(ids)) {
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      draw();
      lock.lock();
      wake_.wait_for(lock, std::chrono::milliseconds(250), [this] { return stopping_; });
    }
  });
}

progress_display::~progress_display() {
  stop();
}

void progress_display::stop() {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    if (stopping_)
      return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable())
    thread_.join();
  draw();
}

void progress_display::draw() {
  std::string out;
  // Back to the first line of the previous drawing, then overwrite line by line.
  if (drawn_lines_ > 0)
    out += "\x1b[" + std::to_string(drawn_lines_) + "F";
  std::size_t lines = 0;
  for (const auto& id : ids_) {
    auto st = rt_.status(id);
    if (!st)
      continue; // the runtime stopped: keep the last drawing
    out += "\x1b[2K" + progress_line(*st) + "\n";
    ++lines;
  }
  if (lines == 0)
    return;
  std::fputs(out.c_str(), stderr);
  std::fflush(stderr);
  drawn_lines_ = lines;
}

} // namespace haul::cli
