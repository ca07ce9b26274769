#include "storage/encoding.hpp"

namespace haul::storage {

void put_u32_be(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}

void put_u64_be(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}

std::uint32_t get_u32_be(std::string_view in) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v = (v << 8) | static_cast<std::uint8_t>(in[i]);
  return v;
}

std::uint64_t get_u64_be(std::string_view in) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v = (v << 8) | static_cast<std::uint8_t>(in[i]);
  return v;
}

std::string job_key(std::uint32_t job) {
  std::string k;
  put_u32_be(k, job);
  return k;
}

std::string task_key(std::uint32_t job, std::uint64_t index) {
  std::string k;
  k.reserve(12);
  put_u32_be(k, job);
  put_u64_be(k, index);
  return k;
}

std::string done_key(std::uint32_t job, std::uint64_t chunk) {
  return task_key(job, chunk);
}

std::string input_key(std::string_view id, std::uint64_t index) {
  std::string k(id);
  k.push_back('\0');
  put_u64_be(k, index);
  return k;
}

std::string input_key_end(std::string_view id) {
  std::string k(id);
  k.push_back('\1');
  return k;
}

std::string due_key(std::uint32_t job, std::int64_t due_ms, std::uint64_t index) {
  std::string k;
  k.reserve(20);
  put_u32_be(k, job);
  // Due times before the epoch never occur; clamping keeps the order total anyway.
  put_u64_be(k, due_ms < 0 ? 0 : static_cast<std::uint64_t>(due_ms));
  put_u64_be(k, index);
  return k;
}

std::optional<task_key_parts> parse_task_key(std::string_view key) {
  if (key.size() != 12)
    return std::nullopt;
  return task_key_parts{get_u32_be(key), get_u64_be(key.substr(4))};
}

std::optional<due_key_parts> parse_due_key(std::string_view key) {
  if (key.size() != 20)
    return std::nullopt;
  return due_key_parts{get_u32_be(key), static_cast<std::int64_t>(get_u64_be(key.substr(4))),
                       get_u64_be(key.substr(12))};
}

void value_writer::varint(std::uint64_t v) {
  while (v >= 0x80) {
    out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out_.push_back(static_cast<char>(v));
}

void value_writer::svarint(std::int64_t v) {
  varint((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
}

void value_writer::str(std::string_view s) {
  varint(s.size());
  out_.append(s);
}

bool value_reader::u8(std::uint8_t& v) {
  if (in_.empty())
    return false;
  v = static_cast<std::uint8_t>(in_.front());
  in_.remove_prefix(1);
  return true;
}

bool value_reader::varint(std::uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in_.empty())
      return false;
    auto byte = static_cast<std::uint8_t>(in_.front());
    in_.remove_prefix(1);
    v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0)
      return true;
  }
  return false;
}

bool value_reader::svarint(std::int64_t& v) {
  std::uint64_t u = 0;
  if (!varint(u))
    return false;
  v = static_cast<std::int64_t>((u >> 1) ^ (~(u & 1) + 1));
  return true;
}

bool value_reader::str(std::string& s) {
  std::uint64_t n = 0;
  if (!varint(n) || n > in_.size())
    return false;
  s.assign(in_.substr(0, n));
  in_.remove_prefix(n);
  return true;
}

std::string to_hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 0xf]);
  }
  return out;
}

} // namespace haul::storage
