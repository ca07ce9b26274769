#include "cli/progress_display.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <sys/ioctl.h>
#include <unistd.h>

#include "runtime/logging.hpp"
#include "runtime/status_json.hpp"

namespace haul::cli {

namespace {

/// Block characters only where the locale says the terminal takes UTF-8.
bool utf8_locale() {
  for (const char* name : {"LC_ALL", "LC_CTYPE", "LANG"}) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0')
      continue;
    std::string_view value(v);
    return value.find("UTF-8") != std::string_view::npos ||
           value.find("utf8") != std::string_view::npos ||
           value.find("UTF8") != std::string_view::npos ||
           value.find("utf-8") != std::string_view::npos;
  }
  return false;
}

/// The terminal's width now (it may be resized while haul runs); 0 when unknown.
std::size_t terminal_columns() {
  winsize ws{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
    return ws.ws_col;
  return 0;
}

} // namespace

progress_display::progress_display(runtime& rt, std::vector<std::string> ids)
    : rt_(rt)
    , ids_(std::move(ids))
    , unicode_(utf8_locale()) {
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      draw();
      lock.lock();
      wake_.wait_for(lock, std::chrono::milliseconds(250), [this] { return stopping_; });
    }
  });
  // Once the thread runs, so that a failure to start it leaves no writer pointing here.
  log::set_line_writer([this](const std::string& line) { print_above(line); });
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
  log::set_line_writer({});
}

std::optional<partial_progress> progress_display::partial_of(const job_status& j) {
  if (j.kind != "export" || is_finished(j.state) || j.tasks.total != 1)
    return std::nullopt;
  auto text = rt_.task_checkpoint(j.id, 0);
  auto cp = text ? exporter::decode_checkpoint(*text) : std::nullopt;
  partial_progress p;
  if (!cp) {
    p.detail = "starting";
    return p;
  }
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now().time_since_epoch())
                    .count();
  p.bytes = cp->bytes();
  p.bytes_per_second = export_rates_.observe(j.id, p.bytes, now_ms);
  p.fraction = cp->progress();
  p.eta_ms = cp->eta_ms(p.bytes_per_second);
  p.detail = "tables " + std::to_string(cp->tables_done) + "/" + std::to_string(cp->tables) +
             "  rows " + std::to_string(cp->position.rows) + "  parts " +
             std::to_string(cp->parts.size());
  return p;
}

void progress_display::draw() {
  auto lines = render();
  if (lines.empty())
    return; // the runtime stopped: keep the last drawing
  std::lock_guard<std::mutex> guard(screen_mutex_);
  frame_ = std::move(lines);
  put("");
}

void progress_display::print_above(const std::string& line) {
  std::lock_guard<std::mutex> guard(screen_mutex_);
  put(line);
}

void progress_display::put(const std::string& log_line) {
  std::string out;
  // Back to the first line of the previous drawing, then overwrite line by line: the screen
  // is never cleared as a whole, so nothing flickers.
  if (drawn_lines_ > 0)
    out += "\x1b[" + std::to_string(drawn_lines_) + "F";
  // A log line takes the drawing's place (cleared to the end of the screen first, as the
  // line may be shorter) and the drawing moves down below it.
  if (!log_line.empty())
    out += "\x1b[J" + log_line + "\n";
  for (const auto& line : frame_)
    out += "\x1b[2K" + line + "\n";
  std::fputs(out.c_str(), stderr);
  std::fflush(stderr);
  drawn_lines_ = frame_.size();
}

std::vector<std::string> progress_display::render() {
  std::vector<job_status> jobs;
  for (const auto& id : ids_) {
    auto st = rt_.status(id);
    if (!st)
      return {};
    jobs.push_back(std::move(*st));
  }
  progress_style style;
  for (const auto& j : jobs)
    style.name_width = std::max(style.name_width, std::min<std::size_t>(j.name.size(), 24));
  style.unicode = unicode_;
  // A line longer than the terminal would wrap, and moving up by the line count would then
  // leave stale lines behind: cut it one column short of the edge.
  if (auto columns = terminal_columns(); columns > 1)
    style.columns = columns - 1;
  if (style.columns > 0 && style.columns < 100)
    style.bar_width = style.columns < 70 ? 0 : 12;
  std::vector<std::string> lines;
  for (const auto& j : jobs) {
    auto partial = partial_of(j);
    lines.push_back(progress_line(j, style, partial ? &*partial : nullptr));
  }
  return lines;
}

} // namespace haul::cli
