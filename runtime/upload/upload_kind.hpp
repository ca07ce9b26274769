#pragma once

// The built-in `upload` kind: one task per file of a directory tree or a JSONL manifest,
// sent with HTTP PUT or to S3 (single PUT, or a multipart upload for big files that resumes
// at the first missing part). Tasks run asynchronously on one libcurl multi event loop,
// started on the first upload task. docs/job-file.md lists its keys.

#include <chrono>
#include <functional>

#include "runtime/kind_registry.hpp"

namespace haul {

struct upload_kind_options {
  /// Wall clock for request signing and HTTP-date Retry-After values.
  std::function<std::chrono::system_clock::time_point()> now = [] {
    return std::chrono::system_clock::now();
  };
};

kind_entry make_upload_kind(upload_kind_options options = {});

} // namespace haul
