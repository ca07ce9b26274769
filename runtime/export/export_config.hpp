#pragma once

// The settings of an export job, parsed and checked from its params. docs/job-file.md is
// the reference.

#include <chrono>
#include <cstdint>
#include <string>

#include "haul/expected.hpp"
#include "haul/task.hpp"
#include "runtime/export/part_encoder.hpp"
#include "runtime/upload/upload_config.hpp"

namespace haul::exporter {

struct export_config {
  enum class target_type : std::uint8_t { file, s3 };

  std::string source; ///< The SQLite database file.
  target_type target = target_type::file;
  std::string file_path; ///< file:// target: where the finished dump goes.
  std::string s3_key;    ///< s3:// target: the object key (the bucket is in upload.s3).
  /// The S3 settings and transfer timeouts, in the shape the upload kind's requests take.
  upload::upload_config upload;
  compression codec = compression::none;
  int level = 0; ///< 0: the compressor's default.
  std::uint64_t part_size = 16ull << 20;
  std::uint32_t part_attempts = 3; ///< Tries of one part within one attempt of the task.
};

/// Fails with invalid_argument naming the key.
expected<export_config> parse_export_config(const job_params& params);

/// The file the dump is written to before it is complete: the target's name with
/// ".haul-partial" appended, in the same directory (so the final rename is atomic).
std::string partial_path(const export_config& c);

} // namespace haul::exporter
