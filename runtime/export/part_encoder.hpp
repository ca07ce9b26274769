#pragma once

// Turns the dump's text into the bytes of one part of the output. Each part is complete on
// its own: with compression, a part is one gzip member or one zstd frame, and both formats
// decompress a concatenation of them as one stream (gzip -d, zstd -d, zcat). That is what
// lets an export resume at a part boundary without the compressor's state: the next part
// starts a fresh member, exactly as it would have in an export that never stopped.
//
// Output is deterministic: the same text fed in the same pieces gives the same bytes (the
// gzip header carries no time or name).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "haul/expected.hpp"

namespace haul::exporter {

enum class compression : std::uint8_t { none, gzip, zstd };

std::string_view to_string(compression c);
/// The file name suffix users expect for the compression ("" for none).
std::string_view suffix_of(compression c);

class part_encoder {
 public:
  virtual ~part_encoder() = default;
  /// Encodes `text` into the current part, appending output to `out`.
  virtual expected<void> write(std::string_view text, std::string& out) = 0;
  /// Ends the current part (member or frame) into `out`; the next write starts a new one.
  virtual expected<void> finish(std::string& out) = 0;
};

/// `level`: the compressor's level; 0 picks the tool's default (gzip 6, zstd 3).
expected<std::unique_ptr<part_encoder>> make_part_encoder(compression c, int level);

} // namespace haul::exporter
