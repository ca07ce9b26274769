#include "cli/exit_codes.hpp"

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

} // namespace haul::cli
