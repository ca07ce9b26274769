#include "runtime/export/export_checkpoint.hpp"

#include <algorithm>

#include <bit>
#include <charconv>

#include <nlohmann/json.hpp>

namespace haul::exporter {

namespace {

constexpr const char* hex_digits = "0123456789abcdef";

std::string to_hex(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += hex_digits[c >> 4];
    out += hex_digits[c & 15];
  }
  return out;
}

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0)
    return std::nullopt;
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    unsigned v = 0;
    auto r = std::from_chars(hex.data() + i, hex.data() + i + 2, v, 16);
    if (r.ec != std::errc() || r.ptr != hex.data() + i + 2)
      return std::nullopt;
    out += static_cast<char>(v);
  }
  return out;
}

// A key value as [type, text]: "i" decimal, "r" the double's bits in hex (exact), "t"/"b"
// hex bytes (text may hold any byte).
nlohmann::json encode_key(const key_value& k) {
  switch (k.type) {
  case SQLITE_INTEGER:
    return {"i", std::to_string(k.integer)};
  case SQLITE_FLOAT:
    return {"r", std::to_string(std::bit_cast<std::uint64_t>(k.real))};
  case SQLITE_TEXT:
    return {"t", to_hex(k.bytes)};
  case SQLITE_BLOB:
    return {"b", to_hex(k.bytes)};
  default:
    return {"n", ""};
  }
}

std::optional<key_value> decode_key(const nlohmann::json& j) {
  if (!j.is_array() || j.size() != 2 || !j[0].is_string() || !j[1].is_string())
    return std::nullopt;
  auto type = j[0].get<std::string>();
  auto text = j[1].get<std::string>();
  key_value k;
  if (type == "i" || type == "r") {
    std::int64_t i = 0;
    std::uint64_t u = 0;
    auto* end = text.data() + text.size();
    auto r =
        type == "i" ? std::from_chars(text.data(), end, i) : std::from_chars(text.data(), end, u);
    if (r.ec != std::errc() || r.ptr != end)
      return std::nullopt;
    k.type = type == "i" ? SQLITE_INTEGER : SQLITE_FLOAT;
    k.integer = i;
    k.real = std::bit_cast<double>(u);
    return k;
  }
  if (type == "t" || type == "b") {
    auto bytes = from_hex(text);
    if (!bytes)
      return std::nullopt;
    k.type = type == "t" ? SQLITE_TEXT : SQLITE_BLOB;
    k.bytes = std::move(*bytes);
    return k;
  }
  if (type == "n")
    return k;
  return std::nullopt;
}

} // namespace

std::uint64_t export_checkpoint::bytes() const {
  std::uint64_t n = 0;
  for (const auto& p : parts)
    n += p.bytes;
  return n;
}

void export_checkpoint::restart() {
  parts.clear();
  position = {};
  text_bytes = 0;
  tables_done = 0;
  complete = false;
}

double export_checkpoint::progress() const {
  if (complete)
    return 1.0;
  if (rows_estimate > 0)
    return std::min(0.999, static_cast<double>(position.rows) / static_cast<double>(rows_estimate));
  return tables == 0 ? 0.0 : static_cast<double>(tables_done) / static_cast<double>(tables);
}

std::int64_t export_checkpoint::eta_ms(double bytes_per_second) const {
  auto done = progress();
  if (complete)
    return 0;
  if (rows_estimate == 0 || done <= 0 || bytes_per_second <= 0)
    return -1;
  auto left = static_cast<double>(bytes()) * (1 - done) / done;
  return static_cast<std::int64_t>(left / bytes_per_second * 1000.0);
}

std::string encode_checkpoint(const export_checkpoint& c) {
  auto parts = nlohmann::json::array();
  for (const auto& p : c.parts)
    parts.push_back({{"etag", p.etag}, {"bytes", p.bytes}});
  auto after = nlohmann::json::array();
  for (const auto& k : c.position.after)
    after.push_back(encode_key(k));
  nlohmann::json j = {
      {"export", 1},
      {"fingerprint", c.fingerprint},
      {"schema", c.schema_digest},
      {"settings", c.settings},
      {"upload_id", c.upload_id},
      {"parts", parts},
      {"position",
       {{"item", c.position.item},
        {"in_rows", c.position.in_rows},
        {"after", after},
        {"rows", c.position.rows}}},
      {"text_bytes", c.text_bytes},
      {"tables", c.tables},
      {"tables_done", c.tables_done},
      {"complete", c.complete},
      {"rows_estimate", c.rows_estimate},
  };
  return j.dump();
}

std::optional<export_checkpoint> decode_checkpoint(std::string_view text) {
  if (text.empty())
    return std::nullopt;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("export", 0) != 1)
    return std::nullopt;
  try {
    export_checkpoint c;
    c.fingerprint = j.at("fingerprint").get<std::string>();
    c.schema_digest = j.at("schema").get<std::string>();
    c.settings = j.at("settings").get<std::string>();
    c.upload_id = j.at("upload_id").get<std::string>();
    for (const auto& p : j.at("parts"))
      c.parts.push_back({p.at("etag").get<std::string>(), p.at("bytes").get<std::uint64_t>()});
    const auto& pos = j.at("position");
    c.position.item = pos.at("item").get<std::uint32_t>();
    c.position.in_rows = pos.at("in_rows").get<bool>();
    c.position.rows = pos.at("rows").get<std::uint64_t>();
    for (const auto& k : pos.at("after")) {
      auto key = decode_key(k);
      if (!key)
        return std::nullopt;
      c.position.after.push_back(std::move(*key));
    }
    c.text_bytes = j.at("text_bytes").get<std::uint64_t>();
    c.tables = j.at("tables").get<std::uint32_t>();
    c.tables_done = j.at("tables_done").get<std::uint32_t>();
    c.complete = j.at("complete").get<bool>();
    c.rows_estimate = j.value("rows_estimate", std::uint64_t{0}); // absent before it existed
    return c;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

} // namespace haul::exporter
