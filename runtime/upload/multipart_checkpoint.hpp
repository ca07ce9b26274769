#pragma once

// What a multipart upload persists as its task's checkpoint: the upload id and the ETag of
// every part sent, so that the next attempt (after a failure or a kill) continues the same
// multipart upload at the first missing part. JSON text, so `haul inspect` can show it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace haul::upload {

struct multipart_checkpoint {
  std::string upload_id;  ///< Empty: no upload created yet.
  std::uint64_t size = 0; ///< Of the file when the upload was created.
  std::uint64_t part_size = 0;
  std::vector<std::string> etags; ///< Part n at n-1; empty while not sent.

  std::uint32_t parts() const { return static_cast<std::uint32_t>(etags.size()); }
  std::uint32_t parts_done() const;
  bool operator==(const multipart_checkpoint&) const = default;
};

/// A fresh checkpoint for a file of `size` bytes in parts of `part_size`.
multipart_checkpoint plan_multipart(std::uint64_t size, std::uint64_t part_size);

std::string encode_checkpoint(const multipart_checkpoint& c);
/// nullopt for text that is not a checkpoint (for example the reset marker "{}").
std::optional<multipart_checkpoint> decode_checkpoint(std::string_view text);

/// The checkpoint that tells the next attempt to start a new multipart upload.
inline constexpr std::string_view reset_checkpoint = "{}";

} // namespace haul::upload
