#include "runtime/service/export_request.hpp"

#include <algorithm>
#include <system_error>

#include <nlohmann/json.hpp>

#include "runtime/export/export_config.hpp"
#include "runtime/job_identity.hpp"

namespace haul::service {

namespace fs = std::filesystem;

namespace {

error bad(std::string message) {
  return error{errc::invalid_argument, std::move(message)};
}

bool inside(const fs::path& p, const std::vector<fs::path>& roots) {
  return std::any_of(roots.begin(), roots.end(), [&](const fs::path& root) {
    auto rel = p.lexically_relative(root);
    return !rel.empty() && *rel.begin() != ".." && rel != ".";
  });
}

std::string roots_text(const std::vector<fs::path>& roots) {
  std::string out;
  for (const auto& r : roots)
    out += (out.empty() ? "" : ", ") + r.string();
  return out;
}

/// A file:// URL for an absolute path: everything but unreserved characters and '/' escaped.
std::string file_url(const std::string& path) {
  static constexpr const char* hex = "0123456789ABCDEF";
  std::string out = "file://";
  for (unsigned char c : path) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_' || c == '.' || c == '~' || c == '/';
    if (plain) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

expected<std::string> confined_source(const std::string& source, const export_api_settings& s) {
  if (!fs::path(source).is_absolute())
    return bad("source: expected an absolute path, found \"" + source + "\"");
  std::error_code ec;
  auto real = fs::canonical(source, ec);
  if (ec)
    return bad("source \"" + source + "\": " + ec.message());
  if (!fs::is_regular_file(real, ec))
    return bad("source \"" + source + "\": not a regular file");
  if (!inside(real, s.roots))
    return bad("source \"" + source + "\" (" + real.string() +
               ") is outside the export roots: " + roots_text(s.roots));
  return real.string();
}

expected<std::string> confined_target(const std::string& path, const export_api_settings& s) {
  std::error_code ec;
  // weakly_canonical resolves every existing component, symlinks included, so a link in
  // the directory (or the file itself) cannot point outside the roots.
  auto real = fs::weakly_canonical(path, ec);
  if (ec)
    return bad("target \"" + path + "\": " + ec.message());
  if (!fs::is_directory(real.parent_path(), ec))
    return bad("target \"" + path + "\": its directory does not exist");
  if (fs::is_directory(real, ec))
    return bad("target \"" + path + "\" is a directory");
  if (!inside(real, s.roots))
    return bad("target \"" + path + "\" (" + real.string() +
               ") is outside the export roots: " + roots_text(s.roots));
  return real.string();
}

expected<job_spec> from_file_job(const nlohmann::json& body, const export_api_settings& s) {
  if (body.size() != 1)
    return bad("field 'job' names an export of the job file and takes no other field");
  const auto& name = body["job"];
  if (!name.is_string())
    return bad("field 'job': expected a string, found " + std::string(name.type_name()));
  auto text = name.get<std::string>();
  for (const auto& spec : s.file_jobs) {
    if (spec.name != text)
      continue;
    if (spec.kind != "export")
      return bad("job '" + text + "' is of kind '" + spec.kind + "', not an export");
    return spec;
  }
  return make_error(errc::not_found, "no job named '" + text + "' in the job file");
}

} // namespace

expected<job_spec> export_job_from_request(std::string_view text, const export_api_settings& s) {
  nlohmann::json body;
  try {
    body = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    std::string what = e.what();
    // "[json.exception.parse_error.101] parse error at line 1, ...": the bracket is noise.
    if (auto close = what.find("] "); close != std::string::npos)
      what = what.substr(close + 2);
    return bad("request body: malformed JSON: " + what);
  }
  if (!body.is_object())
    return bad("request body: expected a JSON object, found " + std::string(body.type_name()));
  for (const auto& [key, value] : body.items()) {
    if (key != "source" && key != "target" && key != "compression" && key != "job")
      return bad("unknown field '" + key +
                 "': an export takes 'source', 'target' and 'compression', or 'job'");
    if (!value.is_string())
      return bad("field '" + key + "': expected a string, found " + std::string(value.type_name()));
  }
  if (body.contains("job"))
    return from_file_job(body, s);
  for (const char* required : {"source", "target"})
    if (!body.contains(required))
      return bad(std::string("missing field '") + required + "'");
  if (s.roots.empty())
    return bad("this server exports only the jobs of its job file ({\"job\": NAME}): "
               "[server] export_roots is empty");

  auto source = confined_source(body["source"].get<std::string>(), s);
  if (!source)
    return source.error();
  job_spec spec;
  spec.kind = "export";
  spec.params["source"] = *source;
  auto target = body["target"].get<std::string>();
  spec.params["target"] = target;
  if (body.contains("compression"))
    spec.params["compression"] = body["compression"].get<std::string>();
  if (target.starts_with("s3://")) {
    if (s.s3.empty())
      return bad("target \"" + target +
                 "\": s3:// targets need a [server.s3] table in the "
                 "job file");
    spec.params.insert(s.s3.begin(), s.s3.end());
  }
  auto config = exporter::parse_export_config(spec.params);
  if (!config)
    return bad(config.error().message);
  if (config->target == exporter::export_config::target_type::file) {
    auto path = confined_target(config->file_path, s);
    if (!path)
      return path.error();
    if (*path == *source)
      return bad("target \"" + target + "\" is the source itself");
    // The checked path, not the one asked for: a symlink swapped in later changes nothing.
    spec.params["target"] = file_url(*path);
  }
  spec.name = api_job_name(spec.params["target"]);
  return spec;
}

expected<fs::path> canonical_root(const std::string& dir) {
  std::error_code ec;
  auto real = fs::canonical(dir, ec);
  if (ec)
    return make_error(errc::invalid_argument,
                      "expected an existing directory, found \"" + dir + "\": " + ec.message());
  if (!fs::is_directory(real, ec))
    return make_error(errc::invalid_argument,
                      "expected a directory, found \"" + dir + "\", which is not one");
  return real;
}

std::string api_job_name(std::string_view target) {
  input_digest d;
  d.add(target);
  return "export-" + d.hex().substr(0, 12);
}

} // namespace haul::service
