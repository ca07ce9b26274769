#pragma once

// Byte-level encodings of the store: big-endian keys (so RocksDB's bytewise order is the
// numeric order) and the varint/length-prefixed writer and reader that records use.
// docs/storage-format.md describes every key and value; tests/storage_format_test.cpp pins
// the bytes. DO NOT CHANGE an encoding without bumping the store format version.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace haul::storage {

/// Tasks per done-bitmap chunk: one RocksDB value of 512 bytes marks 4096 tasks.
inline constexpr std::uint64_t done_chunk_bits = 4096;
inline constexpr std::size_t done_chunk_bytes = done_chunk_bits / 8;

void put_u32_be(std::string& out, std::uint32_t v);
void put_u64_be(std::string& out, std::uint64_t v);
std::uint32_t get_u32_be(std::string_view in); ///< REQUIRES: in.size() >= 4.
std::uint64_t get_u64_be(std::string_view in); ///< REQUIRES: in.size() >= 8.

/// Key of a job record: job sequence number, 4 bytes big-endian.
std::string job_key(std::uint32_t job);
/// Key of a task record or a done chunk: job (4 bytes) then index or chunk (8 bytes).
std::string task_key(std::uint32_t job, std::uint64_t index);
std::string done_key(std::uint32_t job, std::uint64_t chunk);
/// inputs: job id, NUL, task index (u64 BE). Keyed by id, not seq: inputs are listed before
/// the job has a seq. Ids never contain NUL (validate_job_name).
std::string input_key(std::string_view id, std::uint64_t index);
/// The first key after every input of the job id.
std::string input_key_end(std::string_view id);
/// Key in a job's due-time queue: job (4 bytes), due time in ms (8), task index (8). Per job,
/// so that paging, cancelling and deleting a job touch only its own range.
std::string due_key(std::uint32_t job, std::int64_t due_ms, std::uint64_t index);

struct task_key_parts {
  std::uint32_t job = 0;
  std::uint64_t index = 0;
};
struct due_key_parts {
  std::uint32_t job = 0;
  std::int64_t due_ms = 0;
  std::uint64_t index = 0;
};
std::optional<task_key_parts> parse_task_key(std::string_view key);
std::optional<due_key_parts> parse_due_key(std::string_view key);

/// Appends values in the record format: LEB128 varints and length-prefixed strings.
class value_writer {
 public:
  explicit value_writer(std::uint8_t version) { out_.push_back(static_cast<char>(version)); }
  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void varint(std::uint64_t v);
  void svarint(std::int64_t v); ///< Zig-zag encoded.
  void str(std::string_view s);
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

/// Reads what value_writer wrote. Every read fails (returns false) instead of reading past
/// the end, so a truncated or corrupt value is reported, never misread.
class value_reader {
 public:
  explicit value_reader(std::string_view in)
      : in_(in) {}
  bool u8(std::uint8_t& v);
  bool varint(std::uint64_t& v);
  bool svarint(std::int64_t& v);
  bool str(std::string& s);
  bool at_end() const { return in_.empty(); }

 private:
  std::string_view in_;
};

/// Lower-case hex of bytes, for keys in messages and docs.
std::string to_hex(std::string_view bytes);

} // namespace haul::storage
