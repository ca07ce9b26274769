#pragma once

// The built-in `export` kind: a SQLite database dumped as SQL text (optionally gzip or
// zstd), into a file or an S3 multipart upload, in parts of part_size. A job has one task,
// which checkpoints after every part: the dump position where the part ends and the part's
// ETag, together. A run after a kill continues at the next part of the same output, and
// the result is byte-identical to an export that never stopped (of the same data).
// docs/architecture.md ("Exports") tells how; docs/job-file.md lists the keys.

#include <chrono>
#include <functional>

#include "runtime/kind_registry.hpp"

namespace haul {

struct export_kind_options {
  std::function<std::chrono::system_clock::time_point()> now = [] {
    return std::chrono::system_clock::now();
  };
};

kind_entry make_export_kind(export_kind_options options = {});

} // namespace haul
