#include "haul/job.hpp"

namespace haul {

std::string_view to_string(job_state state) {
  switch (state) {
  case job_state::pending:
    return "pending";
  case job_state::running:
    return "running";
  case job_state::paused:
    return "paused";
  case job_state::succeeded:
    return "succeeded";
  case job_state::completed_with_failures:
    return "completed_with_failures";
  case job_state::failed:
    return "failed";
  case job_state::cancelled:
    return "cancelled";
  }
  return "unknown";
}

bool is_finished(job_state state) {
  return state == job_state::succeeded || state == job_state::completed_with_failures ||
         state == job_state::failed || state == job_state::cancelled;
}

} // namespace haul
