#include "cli/exit_codes.hpp"

#include <cstdio>
#include <iostream>
#include <unistd.h>

#include "haul/runtime.hpp"
#include "runtime/logging.hpp"

namespace haul::cli {

int exit_code_for(const std::vector<job_status>& finished) {
  int code = exit_ok;
  for (const auto& s : finished) {
    switch (s.state) {
    case job_state::succeeded:
      break;
    case job_state::completed_with_failures:
      if (code == exit_ok)
        code = exit_completed_with_failures;
      break;
    default:
      code = exit_failed;
    }
  }
  return code;
}

int exit_code_for(const error& e) {
  switch (e.code) {
  case errc::invalid_argument:
  case errc::not_found:
    return exit_usage;
  case errc::store_busy:
  case errc::store_incompatible:
    return exit_store_busy;
  default:
    return exit_error;
  }
}

int code_after_stop(runtime& rt, int code) {
  auto left = rt.loop().task_functions;
  if (left <= 0)
    return code;
  log::warn("tasks still running after the stop: exiting without waiting for them; they run "
            "again next time",
            {log::num("tasks", static_cast<std::uint64_t>(left))});
  std::cout.flush();
  std::fflush(nullptr);
  ::_exit(code);
}

} // namespace haul::cli
