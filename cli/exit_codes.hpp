#pragma once

// haul's exit codes: part of the CLI contract (docs/operations.md). DO NOT CHANGE numbers.

#include <vector>

#include "haul/expected.hpp"
#include "haul/job.hpp"

namespace haul {
class runtime;
}

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

/// Returns `code`, after a stopped runtime; or, when task functions are still running (they
/// ignored their stop request past shutdown_grace, or were declared lost and are stuck),
/// logs how many and exits the process with `code` at once: the runtime's destructor would
/// wait for them, perhaps for hours. Every finished task is stored, and these run again
/// next time, as after a crash.
int code_after_stop(runtime& rt, int code);

} // namespace haul::cli
