#pragma once

// What an export persists as its task's checkpoint after every part: the parts written
// (with their S3 ETags), the dump position where the last of them ends, and what the export
// started from (the source's fingerprint and schema digest, the compression and part size),
// so that the next run either continues the same output exactly or knows it must not.
// JSON text, so `haul inspect` can show it and the export API can report progress from it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/export/dump_reader.hpp"

namespace haul::exporter {

struct export_part {
  std::string etag;        ///< S3's ETag of the part; empty for a file target.
  std::uint64_t bytes = 0; ///< Of output (after compression).
  bool operator==(const export_part&) const = default;
};

struct export_checkpoint {
  std::string fingerprint;   ///< Of the source the export reads (source_snapshot).
  std::string schema_digest; ///< Of its schema (dump_plan).
  std::string settings;      ///< Compression, level and part size: output-shaping settings.
  std::string upload_id;     ///< S3: the multipart upload; empty for a file target.
  std::vector<export_part> parts;
  dump_position position;        ///< Where the last part ends in the dump.
  std::uint64_t text_bytes = 0;  ///< Dump text in the parts (before compression).
  std::uint32_t tables = 0;      ///< Tables in the dump.
  std::uint32_t tables_done = 0; ///< Tables wholly inside the parts.
  bool complete = false;         ///< Every part is written: only the final step is left.
  /// The rows the dump will have, estimated when the export started (estimate_rows); 0:
  /// unknown. Progress only: nothing about the output depends on it.
  std::uint64_t rows_estimate = 0;

  std::uint64_t bytes() const;
  /// Back to the start of the dump: no parts, nothing written. What the export reads and
  /// how it writes (fingerprint, schema, settings, tables, the estimate, the upload) stay.
  void restart();
  /// How far the export is, 0..1: by rows against the estimate (never 1 before the end,
  /// as the estimate may be high), else by whole tables; 1 once complete.
  double progress() const;
  /// How long the rest takes at `bytes_per_second` of output: the output so far over the
  /// share of the dump it holds gives the whole output's size. -1 without a row estimate,
  /// a rate or any progress.
  std::int64_t eta_ms(double bytes_per_second) const;
  bool operator==(const export_checkpoint&) const = default;
};

std::string encode_checkpoint(const export_checkpoint& c);
/// nullopt when the text is empty or not an export checkpoint.
std::optional<export_checkpoint> decode_checkpoint(std::string_view text);

} // namespace haul::exporter
