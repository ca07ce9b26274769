#include "runtime/service/web_assets.hpp"

namespace haul::service {

namespace {

std::string_view content_type_for(std::string_view name) {
  auto ends_with = [&](std::string_view ext) { return name.ends_with(ext); };
  if (ends_with(".html"))
    return "text/html; charset=utf-8";
  if (ends_with(".js"))
    return "text/javascript; charset=utf-8";
  if (ends_with(".css"))
    return "text/css; charset=utf-8";
  if (ends_with(".svg"))
    return "image/svg+xml";
  if (ends_with(".png"))
    return "image/png";
  return "application/octet-stream";
}

} // namespace

std::optional<web_asset> find_web_asset(std::string_view name) {
  for (const auto& f : embedded_web_files())
    if (f.name == name)
      return web_asset{f.bytes, content_type_for(name)};
  return std::nullopt;
}

} // namespace haul::service
