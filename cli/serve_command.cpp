// haul serve FILE: run the file's jobs as `haul run` does, resume the exports an earlier
// process accepted through the API, and serve the HTTP API until SIGINT/SIGTERM. A second
// signal exits at once, which is safe because every write to the store is atomic.

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <pthread.h>
#include <set>
#include <thread>
#include <unistd.h>

#include "cli/commands.hpp"
#include "cli/control_socket.hpp"
#include "cli/exit_codes.hpp"
#include "cli/server_options.hpp"
#include "cli/signals.hpp"
#include "haul/runtime.hpp"
#include "runtime/job_file.hpp"
#include "runtime/logging.hpp"
#include "runtime/service/api_server.hpp"

namespace haul::cli {

int serve_command(const serve_args& args) {
  auto file = load_jobs_for(args.file, args.store);
  if (!file)
    return exit_usage;
  auto& f = *file;
  if (report_kind_problems(f))
    return exit_usage;
  log::configure(f.log_level, f.log_format);
  auto options = api_options_of(f, args.listen);
  if (!options) {
    std::cerr << options.error().message << "\n";
    return exit_usage;
  }

  auto signals = block_stop_signals();
  auto rt = runtime::open(f.runtime);
  if (!rt) {
    std::cerr << "haul: " << rt.error().message << "\n";
    return exit_code_for(rt.error());
  }
  auto host = options->listen.host;
  if (host.find(':') != std::string::npos)
    host = "[" + host + "]";
  service::api_server api(*rt, std::move(*options));
  auto control = start_control_socket(*rt, true);

  std::set<std::string> file_names;
  for (auto& spec : f.jobs) {
    file_names.insert(spec.name);
    auto copy = spec; // the API keeps the spec: POST {"job": NAME} finds this run
    auto id = rt->submit(std::move(spec));
    if (!id) {
      std::cerr << "haul: " << id.error().message << "\n";
      return exit_code_for(id.error());
    }
    api.adopt(copy, *id);
    if (control)
      control->adopt(copy, *id);
  }
  // Exports accepted through the API by an earlier process: their spec is in the store only.
  for (const auto& st : rt->jobs()) {
    if (st.kind != "export" || is_finished(st.state) || file_names.count(st.name) != 0)
      continue;
    auto params = rt->params(st.id);
    if (auto resumed = rt->resubmit(st.id); resumed && params) {
      job_spec spec;
      spec.name = st.name;
      spec.kind = st.kind;
      spec.params = std::move(*params);
      api.adopt(spec, st.id);
      if (control)
        control->adopt(spec, st.id);
      log::info("export resumed", {log::str("job", st.id)});
    } else {
      log::warn("could not resume an export",
                {log::str("job", st.id),
                 log::str("why", resumed ? params.error().message : resumed.error().message)});
    }
  }

  auto port = api.start();
  if (!port) {
    std::cerr << "haul: " << port.error().message << "\n";
    rt->stop();
    return exit_error;
  }
  // The line scripts and tests wait for; with --listen HOST:0 it tells the port chosen.
  // One write, so that a reader never sees half a port number.
  std::cerr << ("haul serve: listening on http://" + host + ":" + std::to_string(*port) + "\n")
            << std::flush;

  // Until a signal, or until the runtime quits on its own (a store failure): then there is
  // nothing left to serve, and exit code 1 lets a supervisor (systemd, say) restart haul.
  int sig = 0;
  const timespec tick{1, 0};
  while (sig <= 0) {
    sig = sigtimedwait(&signals, nullptr, &tick);
    if (sig <= 0 && rt->loop().stopped) {
      log::error(rt->loop().store_failed
                     ? "the runtime stopped on a store failure: haul serve exits"
                     : "the runtime stopped: haul serve exits");
      api.draining();
      api.stop();
      control.reset();
      // Not through the runtime's destructor: it would wait for task functions that may
      // not return for hours, with SIGTERM blocked. Every stored write is complete.
      std::fflush(nullptr);
      ::_exit(exit_error);
    }
  }
  log::warn("signal received: stopping; running tasks get shutdown_grace to finish, a second "
            "signal exits at once",
            {log::str("signal", sig == SIGINT ? "SIGINT" : "SIGTERM")});
  std::thread second([&signals] {
    int again = 0;
    if (sigwait(&signals, &again) == 0)
      ::_exit(again == SIGINT ? exit_sigint : exit_sigterm);
  });
  second.detach();
  api.draining(); // /health answers 503 while running tasks wind down
  rt->stop();
  api.stop();
  control.reset();
  return code_after_stop(*rt, sig == SIGINT ? exit_sigint : exit_sigterm);
}

} // namespace haul::cli
