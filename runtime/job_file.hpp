#pragma once

// The job file (TOML): a [runtime] table and [[job]] entries. docs/job-file.md is the
// reference. Loading reports every problem at once, each as FILE:LINE:COLUMN: what.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "haul/expected.hpp"
#include "haul/job.hpp"
#include "haul/runtime.hpp"
#include "runtime/logging.hpp"
#include "runtime/service/server_settings.hpp"

namespace haul {

/// Where something is in the job file (1-based).
struct file_place {
  std::uint32_t line = 0;
  std::uint32_t column = 0;
};

/// Where a [[job]] table, its kind and each of its params are, for the kind's own checks.
struct job_places {
  file_place table;
  file_place kind;
  std::map<std::string, file_place, std::less<>> params;
};

/// Where the [server] table and its keys are (0:0 for an absent key), for the checks that
/// `haul serve` and `haul validate` make after parsing (an unset token_env variable, ...).
struct server_places {
  file_place table;
  file_place listen;
  file_place token_env;
  std::vector<file_place> export_roots; ///< One per server_settings::export_roots entry.
  file_place s3;                        ///< The [server.s3] table.
  std::map<std::string, file_place, std::less<>> s3_keys; ///< By param: "s3.endpoint".
};

struct job_file {
  std::string path;
  runtime_options runtime;
  bool store_set = false; ///< [runtime] store was given (else the default applies).
  log::level log_level = log::level::info;
  bool log_level_set = false; ///< The file says log_level (else it is the default).
  log::format log_format = log::format::text;
  std::vector<job_spec> jobs;
  std::vector<job_places> places; ///< One per job, in the same order.
  /// The [server] table (haul serve); a file with one may have no [[job]].
  std::optional<service::server_settings> server;
  server_places server_at;
};

/// "FILE:LINE:COLUMN: ", or "FILE: " for a place that is not known (0:0).
std::string place_text(const std::string& path, file_place at);

/// Fails with invalid_argument; the message holds one line per problem.
expected<job_file> load_job_file(const std::string& path);
/// The same, from text already in memory; `path` only names it in messages.
expected<job_file> parse_job_file(const std::string& text, const std::string& path);

} // namespace haul
