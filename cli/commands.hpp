#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "haul/runtime.hpp"
#include "runtime/job_file.hpp"

namespace haul::cli {

struct run_args {
  std::string file;
  std::string store; ///< Empty: the file's [runtime] store, else ".haul".
  bool quiet = false;
};

struct status_args {
  std::string store = ".haul";
  bool json = false;
  bool watch = false;
  std::string interval = "2s"; ///< Of --watch.
};

struct retry_args {
  std::string job;
  std::string store = ".haul";
};

struct serve_args {
  std::string file;
  std::string store;  ///< Empty: the file's [runtime] store, else ".haul".
  std::string listen; ///< Empty: the file's [server] listen, else 127.0.0.1:8700.
};

/// The job file at `path` with `store` (when not empty) replacing its store; nullopt after
/// printing its problems.
std::optional<job_file> load_jobs_for(const std::string& path, const std::string& store);

struct cancel_args {
  std::string job;
  std::string store = ".haul";
};

/// POST /jobs/ID/ACTION to the process running the store (JOB an id or a name): -1 when no
/// process answers on its control socket, else an exit code (the error printed); `id` and
/// `body` get the job's id and the answer.
int job_command_through_socket(const std::string& store, const std::string& job,
                               const std::string& action, std::string& id, std::string& body);
/// The same for a job id already resolved.
int post_job_action(const std::string& store, const std::string& id, const std::string& action,
                    std::string& body);

/// For a command that changes the store itself (no process answers on its socket): the
/// runtime, logging warnings only; the error printed when it cannot be opened.
expected<runtime> open_store_directly(const std::string& store);
/// JOB as an id, or the name of a job in the store.
std::string job_id_of(const runtime& rt, const std::string& job);

struct inspect_args {
  std::string job;
  std::string store = ".haul";
  bool json = false;
  std::size_t limit = 100;
};

struct pause_args {
  std::string job; ///< Empty with --all.
  bool all = false;
  bool resume = false; ///< haul resume rather than haul pause.
  std::string store = ".haul";
};

struct validate_args {
  std::string file;
};

/// Checks every job's kind and params (the kind's own rules), printing each problem as
/// FILE:LINE:COLUMN; true when there were any.
bool report_kind_problems(const job_file& f);

int run_command(const run_args& args);
int validate_command(const validate_args& args);
int cancel_command(const cancel_args& args);
int inspect_command(const inspect_args& args);
int pause_command(const pause_args& args);
int serve_command(const serve_args& args);
int retry_command(const retry_args& args);
int status_command(const status_args& args);

} // namespace haul::cli
