// haul retry JOB: queue a job's dead-letter tasks again with fresh attempts. With a haul
// process running the store, through its control socket: `haul serve` runs a finished job
// again at once, `haul run` sends them at the job's next run. With none, the store is changed
// directly and the next `haul run` of the job file sends them.

#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "haul/runtime.hpp"
#include "runtime/logging.hpp"

namespace haul::cli {

int retry_command(const retry_args& args) {
  std::string sid, body;
  if (int code = job_command_through_socket(args.store, args.job, "retry", sid, body); code >= 0) {
    if (code == exit_ok) {
      auto n = nlohmann::json::parse(body).value("requeued", std::uint64_t{0});
      if (n == 0)
        std::cout << sid << ": the dead letter is empty; nothing to retry\n";
      else
        std::cout << sid << ": " << n << " task" << (n == 1 ? "" : "s")
                  << " queued again in the running haul process\n";
    }
    return code;
  }
  auto rt = open_store_directly(args.store);
  if (!rt)
    return exit_code_for(rt.error());
  auto id = job_id_of(*rt, args.job);
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
