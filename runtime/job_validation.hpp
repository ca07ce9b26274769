#pragma once

// The checks of a job file that need its kinds: each job's kind exists and accepts its
// params. A kind's message names the key it is about ("target: expected ..."), which is
// placed at that key's line and column, so that `haul validate` and `haul run` report
// kind problems as FILE:LINE:COLUMN like every other problem of the file.

#include <string>
#include <vector>

#include "runtime/job_file.hpp"
#include "runtime/kind_registry.hpp"

namespace haul {

/// Every problem, one per entry, as "FILE:LINE:COLUMN: job NAME: what"; empty when none.
std::vector<std::string> check_job_kinds(const job_file& file, const kind_registry& kinds);

/// Where in the file a kind's message about job `index` belongs: the key it starts with or
/// quotes, else the job's table.
file_place place_for(const job_places& places, const std::string& message);

/// The kinds every runtime has: noop, upload, export.
void add_builtin_kinds(kind_registry& kinds);

} // namespace haul
