// haul retry JOB: queue a job's dead-letter tasks again with fresh attempts. The next
// `haul run` of the job file sends them. Changes the store directly, so it needs the store
// to itself: while another haul process runs the store it fails with exit code 5.

#include <iostream>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "haul/runtime.hpp"
#include "runtime/logging.hpp"

namespace haul::cli {

int retry_command(const retry_args& args) {
  log::configure(log::level::warn, log::format::text);
  runtime_options opts;
  opts.store = args.store;
  auto rt = runtime::open(opts);
  if (!rt) {
    std::cerr << "haul: " << rt.error().message << "\n";
    return exit_code_for(rt.error());
  }
  // JOB is an id, or the name of the one job of that name in the store.
  auto id = args.job;
  for (const auto& j : rt->jobs())
    if (j.name == args.job)
      id = j.id;
  auto n = rt->retry(id);
  rt->stop();
  if (!n) {
    std::cerr << "haul: " << n.error().message << "\n";
    return n.error().code == errc::not_found ? exit_usage : exit_error;
  }
  if (*n == 0)
    std::cout << id << ": the dead letter is empty; nothing to retry\n";
  else
    std::cout << id << ": " << *n << " task" << (*n == 1 ? "" : "s")
              << " queued again; run the job file again to send them\n";
  return exit_ok;
}

} // namespace haul::cli
