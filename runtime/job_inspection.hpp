#pragma once

// `haul inspect JOB`: one job in detail, read from a store that another process may be
// running: its status and params, and its tasks that have something to say (waiting on a
// retry, running with a checkpoint, in the dead letter, or succeeded with a kept final
// checkpoint), with attempts, last error and checkpoint.

#include <cstdint>
#include <string>
#include <vector>

#include "haul/expected.hpp"
#include "haul/job.hpp"

namespace haul {

struct task_detail {
  std::uint64_t index = 0;
  std::string state; ///< "waiting", "active" (ran with a checkpoint), "dead", "done".
  std::uint32_t failures = 0;
  std::int64_t due_ms = 0; ///< For a waiting task.
  std::string error;
  std::string checkpoint;
};

struct job_inspection {
  job_status status;
  job_params params;
  std::vector<task_detail> tasks;      ///< Up to the limit, in task order.
  std::uint64_t tasks_with_record = 0; ///< All of them, beyond the limit too.
};

/// `job`: an id, or the name of a job in the store. not_found when there is none.
expected<job_inspection> inspect_job(const std::string& store_dir, const std::string& job,
                                     std::size_t limit);

std::string inspection_json(const job_inspection& i);
/// For a terminal; `now_ms` for "due in".
std::string inspection_text(const job_inspection& i, std::int64_t now_ms);

} // namespace haul
