#pragma once

// haul's exit codes: part of the CLI contract (docs/operations.md). DO NOT CHANGE numbers.

#include <vector>

#include "haul/expected.hpp"
#include "haul/job.hpp"

namespace haul::cli {

enum exit_code : int {
  exit_ok = 0,                      ///< Every job succeeded.
  exit_error = 1,                   ///< A runtime or store error stopped haul.
  exit_usage = 2,                   ///< Bad command line or invalid job file.
  exit_completed_with_failures = 3, ///< Every job ended; some tasks are in the dead letter.
  exit_failed = 4,                  ///< A job failed or was cancelled.
  exit_store_busy = 5,              ///< Another process owns the store, or its format is unknown.
  exit_sigint = 130,
  exit_sigterm = 143,
};

/// The exit code for a run that ended with these job states.
int exit_code_for(const std::vector<job_status>& finished);
/// The exit code for a failure to start.
int exit_code_for(const error& e);

} // namespace haul::cli
