#include "runtime/upload/upload_entry.hpp"

#include "storage/encoding.hpp"

namespace haul::upload {

namespace {
constexpr std::uint8_t entry_version = 1;
}

std::string encode_entry(const upload_entry& e) {
  storage::value_writer w(entry_version);
  w.str(e.key);
  w.str(e.path);
  w.str(e.content_type);
  w.varint(e.size);
  w.svarint(e.mtime_ns);
  return w.take();
}

std::optional<upload_entry> decode_entry(std::string_view bytes) {
  storage::value_reader in(bytes);
  std::uint8_t version = 0;
  upload_entry e;
  if (!in.u8(version) || version != entry_version)
    return std::nullopt;
  if (!(in.str(e.key) && in.str(e.path) && in.str(e.content_type) && in.varint(e.size) &&
        in.svarint(e.mtime_ns) && in.at_end()))
    return std::nullopt;
  return e;
}

} // namespace haul::upload
