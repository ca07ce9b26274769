#pragma once

// Where an export's parts go: a local file or an S3 multipart upload. A part's bytes are
// appended as they are encoded, then the part is sealed; the export's checkpoint records
// sealed parts, and a target opened with a checkpoint continues after its last part.
// Memory: neither target holds a part. A file target writes bytes to the file at once
// (sealing syncs it); an S3 target spools the part being built and the one being sent to
// two unnamed files in TMPDIR (2 × part_size of disk, in the page cache while it is hot).
//
// - file: parts are appended to TARGET.haul-partial and synced; finish() renames it to the
//   target (atomically, in the same directory) and syncs the directory. Opening with a
//   checkpoint cuts the partial file back to the checkpoint's length, dropping a part that
//   was written but not recorded.
// - s3: parts go to one multipart upload, whose id is in the checkpoint; a part sent again
//   after a kill overwrites itself with the same bytes. finish() completes the upload.
//
// Every call blocks; failures come back as an outcome (retryable or permanent). append()
// and seal_part() are called from one thread; the sealing may run on another while the
// next part is appended (one sealing at a time).

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "haul/task.hpp"
#include "runtime/export/export_checkpoint.hpp"
#include "runtime/export/export_config.hpp"

namespace haul::upload {
class transfer_engine;
}

namespace haul::exporter {

struct part_receipt {
  std::optional<outcome> failure; ///< Set when the part was not written.
  std::string etag;
};

class export_target {
 public:
  virtual ~export_target() = default;
  /// Gets ready to write the part after the checkpoint's last (a new output when it has
  /// none). May set the checkpoint's upload_id, or start it over (restart()) when the output
  /// it records cannot be continued; the caller persists it.
  virtual std::optional<outcome> open(export_checkpoint& cp) = 0;
  /// Adds bytes to the part being built. A failure here ends the run.
  virtual std::optional<outcome> append(std::string_view bytes) = 0;
  /// Bytes appended to the part being built.
  virtual std::uint64_t part_bytes() const = 0;
  /// Starts writing out the part built so far as part `number` (1-based); the returned
  /// function completes it (blocking) and may run on another thread. The next part starts
  /// empty.
  virtual std::function<part_receipt()> seal_part(std::uint32_t number) = 0;
  /// Makes the output whole and visible at the target.
  /// May start the checkpoint over (restart()) when the output it records turns out to be
  /// gone; it fails then, and the caller persists the checkpoint for the next attempt.
  virtual std::optional<outcome> finish(export_checkpoint& cp) = 0;
  /// Drops what the checkpoint's output holds so far (a cancelled or restarted export):
  /// removes the partial file, or aborts the multipart upload (tolerating servers that do
  /// not support that). Best effort: returns what went wrong, if anything.
  virtual std::string discard(const export_checkpoint& cp) = 0;
};

struct target_services {
  upload::transfer_engine* engine = nullptr; ///< For S3 targets.
  std::function<std::chrono::system_clock::time_point()> now;
  std::function<bool()> cancelled; ///< Polled while a transfer runs; true aborts it.
};

expected<std::unique_ptr<export_target>> make_export_target(const export_config& config,
                                                            target_services services);

} // namespace haul::exporter
