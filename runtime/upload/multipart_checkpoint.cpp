#include "runtime/upload/multipart_checkpoint.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace haul::upload {

std::uint32_t multipart_checkpoint::parts_done() const {
  return static_cast<std::uint32_t>(
      std::count_if(etags.begin(), etags.end(), [](const auto& e) { return !e.empty(); }));
}

multipart_checkpoint plan_multipart(std::uint64_t size, std::uint64_t part_size) {
  multipart_checkpoint c;
  c.size = size;
  c.part_size = part_size;
  c.etags.resize(std::max<std::uint64_t>(1, (size + part_size - 1) / part_size));
  return c;
}

std::string encode_checkpoint(const multipart_checkpoint& c) {
  nlohmann::json j;
  j["upload_id"] = c.upload_id;
  j["size"] = c.size;
  j["part_size"] = c.part_size;
  j["etags"] = c.etags;
  return j.dump();
}

std::optional<multipart_checkpoint> decode_checkpoint(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("upload_id"))
    return std::nullopt;
  try {
    multipart_checkpoint c;
    c.upload_id = j.at("upload_id").get<std::string>();
    c.size = j.at("size").get<std::uint64_t>();
    c.part_size = j.at("part_size").get<std::uint64_t>();
    c.etags = j.at("etags").get<std::vector<std::string>>();
    if (c.part_size == 0 || c.etags.size() != plan_multipart(c.size, c.part_size).etags.size())
      return std::nullopt;
    return c;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

} // namespace haul::upload
