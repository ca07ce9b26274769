#pragma once

// POST /exports: a JSON body turned into the export job to submit. Either
//   {"source": "/abs/app.db", "target": "s3://b/k" | "file:///abs/out.sql", "compression"?}
// whose paths must lie inside the server's export roots (after resolving ".." and
// symlinks), or {"job": "NAME"}, an export job of the job file.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "haul/expected.hpp"
#include "haul/job.hpp"

namespace haul::service {

struct export_api_settings {
  /// Canonical directories (absolute, no symlinks). Empty: only {"job": ...} is accepted.
  std::vector<std::filesystem::path> roots;
  job_params s3;                   ///< [server.s3], for s3:// targets.
  std::vector<job_spec> file_jobs; ///< The job file's jobs, for {"job": NAME}.
};

/// Fails with invalid_argument (answer 400) or not_found (404: no such job in the file); the
/// message says which field is wrong and how.
expected<job_spec> export_job_from_request(std::string_view body, const export_api_settings& s);

/// The canonical form of an export root; fails when it is not an existing directory, with a
/// message that completes "server.export_roots[N]: ".
expected<std::filesystem::path> canonical_root(const std::string& dir);

/// The name of the job a POST exporting to `target` gets: one per target, so that a second
/// export to a target that is still being written is refused, not interleaved.
std::string api_job_name(std::string_view target);

} // namespace haul::service
