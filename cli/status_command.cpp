// haul status: reads the store as a RocksDB secondary, so it works while another haul
// process runs it. With --watch it reads it again every interval until every job has ended
// and no process runs the store, or until SIGINT/SIGTERM.

#include <csignal>
#include <ctime>
#include <iostream>
#include <unistd.h>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/signals.hpp"
#include "runtime/duration.hpp"
#include "runtime/status_json.hpp"

namespace haul::cli {

namespace {

std::string clock_text() {
  std::time_t now = std::time(nullptr);
  std::tm local{};
  ::localtime_r(&now, &local);
  char out[16];
  std::strftime(out, sizeof(out), "%H:%M:%S", &local);
  return out;
}

/// Every job has ended and nobody runs the store: nothing will change until someone runs it.
bool settled(const store_status& st) {
  if (st.owned)
    return false;
  for (const auto& j : st.jobs)
    if (!is_finished(j.state))
      return false;
  return true;
}

/// Overwrites the previous drawing in place: home, each line cleared to its end, then
/// everything below cleared. Clearing the whole screen first would flicker.
void redraw(const std::string& text) {
  std::string out = "\x1b[H";
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos)
      end = text.size();
    out.append(text, start, end - start);
    out += "\x1b[K\n";
    start = end + 1;
  }
  out += "\x1b[J";
  std::cout << out << std::flush;
}

int watch(const status_args& args, std::int64_t interval_ms) {
  auto signals = block_stop_signals();
  bool terminal = !args.json && ::isatty(STDOUT_FILENO) == 1;
  if (terminal)
    std::cout << "\x1b[2J" << std::flush;
  const timespec wait{static_cast<time_t>(interval_ms / 1000),
                      static_cast<long>(interval_ms % 1000) * 1'000'000};
  for (;;) {
    auto st = read_store_status(args.store);
    if (!st) {
      std::cerr << "haul: " << st.error().message << "\n";
      return st.error().code == errc::not_found ? exit_usage : exit_code_for(st.error());
    }
    if (args.json) {
      std::cout << status_json(*st) << std::endl; // one document a line
    } else {
      auto header = "haul status  " + args.store + "  " + clock_text() + "  (" +
                    (st->owned ? "a haul process runs it" : "no haul process runs it") +
                    "; every " + human_duration(interval_ms) + ", Ctrl-C stops)\n\n";
      if (terminal)
        redraw(header + status_text(*st));
      else
        std::cout << header << status_text(*st) << "\n" << std::flush;
    }
    if (settled(*st))
      return exit_code_for(st->jobs);
    int sig = sigtimedwait(&signals, nullptr, &wait);
    if (sig == SIGINT || sig == SIGTERM)
      return sig == SIGINT ? exit_sigint : exit_sigterm;
  }
}

} // namespace

int status_command(const status_args& args) {
  if (args.watch) {
    auto ms = parse_duration_ms(args.interval);
    if (!ms || *ms < 100) {
      std::cerr << "haul: --interval must be a duration of at least 100ms such as \"2s\", found '"
                << args.interval << "'\n";
      return exit_usage;
    }
    return watch(args, *ms);
  }
  auto st = read_store_status(args.store);
  if (!st) {
    std::cerr << "haul: " << st.error().message << "\n";
    return st.error().code == errc::not_found ? exit_usage : exit_code_for(st.error());
  }
  if (args.json)
    std::cout << status_json(*st) << "\n";
  else
    std::cout << status_text(*st);
  return exit_ok;
}

} // namespace haul::cli
