#pragma once

// One entry of an upload job: the input of one task, as the listing stored it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace haul::upload {

struct upload_entry {
  std::string key;           ///< Destination key, '/'-separated, not percent-encoded.
  std::string path;          ///< The local file to send.
  std::string content_type;  ///< Empty: guessed from the key's extension at send time.
  std::uint64_t size = 0;    ///< At listing time; the file is re-checked when it is sent.
  std::int64_t mtime_ns = 0; ///< At listing time; 0 when unknown (manifest entries).

  bool operator==(const upload_entry&) const = default;
};

/// DO NOT CHANGE the encoding without a new version byte: entries are stored.
std::string encode_entry(const upload_entry& e);
/// nullopt when the bytes are not an entry of a known version.
std::optional<upload_entry> decode_entry(std::string_view bytes);

} // namespace haul::upload
