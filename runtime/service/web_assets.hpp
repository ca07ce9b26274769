#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace haul::service {

/// A file of the status page (runtime/service/web/), compiled into haul.
struct embedded_file {
  std::string_view name; ///< Relative to the web directory: "index.html", "app.js".
  std::string_view bytes;
};

/// Every embedded file; generated at build time by cmake/EmbedFiles.cmake.
std::span<const embedded_file> embedded_web_files();

struct web_asset {
  std::string_view bytes;
  std::string_view content_type;
};

/// The file called `name`, with the content type its extension says; nullopt when there is
/// no such file.
std::optional<web_asset> find_web_asset(std::string_view name);

} // namespace haul::service
