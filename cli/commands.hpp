#pragma once

#include <optional>
#include <string>

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

struct validate_args {
  std::string file;
};

/// Checks every job's kind and params (the kind's own rules), printing each problem as
/// FILE:LINE:COLUMN; true when there were any.
bool report_kind_problems(const job_file& f);

int run_command(const run_args& args);
int validate_command(const validate_args& args);
int serve_command(const serve_args& args);
int retry_command(const retry_args& args);
int status_command(const status_args& args);

} // namespace haul::cli
