#pragma once

// GET /metrics: the jobs and the recovery pass in the Prometheus text exposition format
// (version 0.0.4): per job, tasks by state, tasks in flight, retries, bytes moved, rates and
// a state gauge; for the process, the store's generation and what recovery found.

#include <string>
#include <vector>

#include "haul/job.hpp"
#include "haul/runtime.hpp"

namespace haul::service {

/// `now_ms`: Unix ms, for the age of the last turn.
std::string metrics_text(const std::vector<job_status>& jobs, const recovery_report& recovery,
                         const loop_report& loop, std::int64_t now_ms);

/// A label value with backslash, double quote and line feed escaped, as the format wants.
std::string escape_label(std::string_view value);

} // namespace haul::service
