#pragma once

// GET /exports/{id}/download: the finished object, streamed from the file or from S3 in
// pieces of at most 256 KiB, never whole in memory. The S3 side is a blocking libcurl GET on
// the calling (HTTP server) thread, which the client's reading paces: a slow client slows
// the GET through TCP, not by buffering.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "haul/expected.hpp"
#include "haul/task.hpp"

namespace haul::service {

class object_download {
 public:
  /// Receives the next piece; returns false when the client has gone (the download stops).
  using sink = std::function<bool(const char* data, std::size_t size)>;

  virtual ~object_download() = default;
  virtual std::uint64_t size() const = 0;
  /// A file name for Content-Disposition (the target's last path segment).
  virtual std::string file_name() const = 0;
  /// Streams bytes [offset, offset + length) of the object into `out` (a Range request
  /// asks for less than the whole). Fails when they cannot be read to the end (the response
  /// is then cut short: its Content-Length tells the client).
  virtual expected<void> stream(std::uint64_t offset, std::uint64_t length, const sink& out) = 0;
};

/// Opens the output of an export job with these params: the file of a file:// target, or
/// the S3 object (HEAD now, GET when streamed). not_found when the object is not there.
expected<std::unique_ptr<object_download>> open_export_output(const job_params& params);

} // namespace haul::service
