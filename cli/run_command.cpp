// haul run FILE: submit every job of the file, wait for all of them, exit with a code that
// says how they ended. SIGINT/SIGTERM stop gracefully (shutdown_grace); a second one exits
// at once, which is safe because every write to the store is atomic.

#include <algorithm>
#include <atomic>
#include <csignal>
#include <iostream>
#include <optional>
#include <pthread.h>
#include <thread>
#include <unistd.h>

#include "cli/commands.hpp"
#include "cli/control_socket.hpp"
#include "cli/exit_codes.hpp"
#include "cli/progress_display.hpp"
#include "cli/signals.hpp"
#include "haul/runtime.hpp"
#include "runtime/job_file.hpp"
#include "runtime/logging.hpp"

namespace haul::cli {

std::optional<job_file> load_jobs_for(const std::string& path, const std::string& store) {
  auto file = load_job_file(path);
  if (!file) {
    std::cerr << file.error().message << "\n";
    return std::nullopt;
  }
  if (!store.empty())
    file->runtime.store = store;
  return std::move(*file);
}

int run_command(const run_args& args) {
  auto file = load_jobs_for(args.file, args.store);
  if (!file)
    return exit_usage;
  auto& f = *file;
  if (f.jobs.empty()) {
    std::cerr << f.path << ": no [[job]] entries: nothing to run ([server] is for haul serve)\n";
    return exit_usage;
  }
  if (report_kind_problems(f))
    return exit_usage;
  // On a terminal the bars say what the info lines would, so only warnings and errors are
  // logged (above the bars) unless the file asks for a level; elsewhere (a file, a
  // journal) the log lines are the progress.
  bool bars = !args.quiet && ::isatty(STDERR_FILENO) == 1;
  bool terse = args.quiet || (bars && !f.log_level_set);
  log::configure(terse ? std::max(f.log_level, log::level::warn) : f.log_level, f.log_format);

  // SIGUSR1 is how the main thread tells the signal thread that the run is over.
  auto signals = block_stop_signals(SIGUSR1);
  auto rt = runtime::open(f.runtime);
  if (!rt) {
    std::cerr << "haul: " << rt.error().message << "\n";
    return exit_code_for(rt.error());
  }

  // `haul cancel` and `haul retry` reach this process here while it runs.
  auto control = start_control_socket(*rt, false);

  std::atomic<int> received{0};
  std::thread stopper;
  std::thread signal_thread([&] {
    int sig = 0;
    while (sigwait(&signals, &sig) == 0) {
      if (sig == SIGUSR1)
        return;
      if (received.exchange(sig) != 0) {
        // Second signal: leave now. The store is consistent after any committed write.
        ::_exit(sig == SIGINT ? exit_sigint : exit_sigterm);
      }
      log::warn("signal received: stopping; running tasks get shutdown_grace to finish, a "
                "second signal exits at once",
                {log::str("signal", sig == SIGINT ? "SIGINT" : "SIGTERM")});
      stopper = std::thread([&] { rt->stop(); });
    }
  });

  std::vector<std::string> ids;
  int code = exit_ok;
  for (auto& spec : f.jobs) {
    auto copy = spec;
    auto id = rt->submit(std::move(spec));
    if (id && control)
      control->adopt(copy, *id);
    if (!id) {
      std::cerr << "haul: " << id.error().message << "\n";
      code = exit_code_for(id.error());
      break;
    }
    ids.push_back(*id);
  }
  std::optional<progress_display> display;
  if (bars && code == exit_ok)
    display.emplace(*rt, ids);
  std::vector<job_status> finished;
  if (code == exit_ok) {
    for (const auto& id : ids) {
      auto st = rt->wait(id);
      if (!st)
        break; // stopped by a signal or a store failure
      finished.push_back(*st);
    }
  }
  if (display)
    display->stop();
  pthread_kill(signal_thread.native_handle(), SIGUSR1);
  signal_thread.join();
  if (stopper.joinable())
    stopper.join();
  rt->stop();
  control.reset();
  int result = [&]() -> int {
    if (int sig = received.load(); sig == SIGINT || sig == SIGTERM)
      return sig == SIGINT ? exit_sigint : exit_sigterm;
    if (code != exit_ok)
      return code;
    if (finished.size() != ids.size()) {
      std::cerr << "haul: the runtime stopped before every job finished\n";
      return exit_error;
    }
    for (const auto& s : finished) {
      std::cout << s.id << " " << to_string(s.state) << " succeeded=" << s.tasks.succeeded
                << " failed=" << s.tasks.failed << " total=" << s.tasks.total
                << " retries=" << s.retries << "\n";
      if (s.tasks.failed == 0)
        continue;
      // The dead letter, so that nobody has to dig for what failed.
      constexpr std::size_t shown = 20;
      if (auto dead = rt->dead_letter(s.id, shown)) {
        for (const auto& d : *dead)
          std::cout << "  failed: " << d.label << " (" << d.attempts << " attempts): " << d.error
                    << "\n";
        if (s.tasks.failed > dead->size())
          std::cout << "  ... and " << s.tasks.failed - dead->size() << " more\n";
        std::cout << "  'haul retry " << s.id << "' queues them again\n";
      }
    }
    return exit_code_for(finished);
  }();
  return code_after_stop(*rt, result);
}

} // namespace haul::cli
