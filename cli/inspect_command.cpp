// haul inspect JOB: one job in detail (status, params, and the tasks on record with their
// attempts, errors and checkpoints), read from the store as a RocksDB secondary, so it works
// while another haul process runs it.

#include <chrono>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "runtime/job_inspection.hpp"

namespace haul::cli {

int inspect_command(const inspect_args& args) {
  auto i = inspect_job(args.store, args.job, args.limit);
  if (!i) {
    std::cerr << "haul: " << i.error().message << "\n";
    return i.error().code == errc::not_found ? exit_usage : exit_code_for(i.error());
  }
  if (args.json) {
    std::cout << inspection_json(*i) << "\n";
  } else {
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    std::cout << inspection_text(*i, now);
  }
  return exit_ok;
}

} // namespace haul::cli
