#include "cli/server_options.hpp"

#include <cstdlib>

#include "runtime/export/export_config.hpp"
#include "runtime/param_values.hpp"
#include "runtime/upload/upload_config.hpp"

namespace haul::cli {

namespace {

/// Where a problem that parse_export_config reports about [server.s3] belongs: the key it
/// starts with, else the table (a default such as AWS_ACCESS_KEY_ID that is not set).
file_place s3_place(const server_places& at, const std::string& problem) {
  auto colon = problem.find(": ");
  if (colon != std::string::npos)
    if (auto it = at.s3_keys.find(problem.substr(0, colon)); it != at.s3_keys.end())
      return it->second;
  return at.s3;
}

/// The [server.s3] problems, one a line. The keys are checked here, not by the export kind,
/// whose message would list the keys of a whole export job.
void check_s3(const job_file& f, const job_params& s3, std::vector<std::string>& out) {
  const auto& at = f.server_at;
  std::vector<std::string_view> known = upload::known_s3_keys();
  for (auto& k : known)
    k.remove_prefix(3);
  bool unknown = false;
  for (const auto& [key, value] : s3)
    if (!upload::is_s3_key(key)) {
      auto name = key.substr(3);
      out.push_back(place_text(f.path, s3_place(at, key + ": ")) + "server.s3: unknown key '" +
                    name + "'" + did_you_mean(name, known) +
                    " (expected endpoint, region, access_key_env, secret_key_env, "
                    "session_token_env, path_style, sign_payload)");
      unknown = true;
    }
  if (unknown)
    return;
  // Checked now, with a stand-in source and target, rather than at the first POST.
  auto probe = s3;
  probe["source"] = "-";
  probe["target"] = "s3://bucket/key";
  auto c = exporter::parse_export_config(probe);
  if (c)
    return;
  const auto& why = c.error().message;
  for (std::size_t start = 0; start < why.size();) {
    auto end = why.find('\n', start);
    if (end == std::string::npos)
      end = why.size();
    auto problem = why.substr(start, end - start);
    out.push_back(place_text(f.path, s3_place(at, problem)) + "server." + problem);
    start = end + 1;
  }
}

} // namespace

expected<service::api_options> api_options_of(const job_file& f, const std::string& listen) {
  service::server_settings server = f.server.value_or(service::server_settings{});
  const auto& at = f.server_at;
  std::vector<std::string> problems;
  service::api_options o;
  // --listen is checked by itself; the file's listen was checked when the file was read.
  auto address = service::parse_listen(listen.empty() ? server.listen : listen);
  if (!address)
    return make_error(errc::invalid_argument, "--listen: " + address.error().message);
  o.listen = *address;
  if (!server.token_env.empty()) {
    const char* token = std::getenv(server.token_env.c_str());
    if (token == nullptr || *token == '\0')
      problems.push_back(place_text(f.path, at.token_env) +
                         "server.token_env: environment variable " + server.token_env +
                         " is not set");
    else
      o.token = token;
  } else if (!service::is_loopback(o.listen.host)) {
    auto why = "listening on " + o.listen.host +
               ", which other machines can reach, needs a bearer token: set token_env in "
               "[server] to the name of an environment variable holding it";
    if (listen.empty())
      problems.push_back(place_text(f.path, at.listen) + "server.listen: " + why);
    else
      problems.push_back(place_text(f.path, at.table) + "--listen: " + why);
  }
  for (std::size_t i = 0; i < server.export_roots.size(); ++i) {
    auto root = service::canonical_root(server.export_roots[i]);
    if (!root) {
      auto place = i < at.export_roots.size() ? at.export_roots[i] : at.table;
      problems.push_back(place_text(f.path, place) + "server.export_roots[" + std::to_string(i) +
                         "]: " + root.error().message);
    } else {
      o.exports.roots.push_back(std::move(*root));
    }
  }
  if (!server.s3.empty())
    check_s3(f, server.s3, problems);
  if (!problems.empty()) {
    std::string text;
    for (const auto& p : problems)
      text += (text.empty() ? "" : "\n") + p;
    return make_error(errc::invalid_argument, std::move(text));
  }
  o.exports.s3 = server.s3;
  o.exports.file_jobs = f.jobs;
  return o;
}

} // namespace haul::cli
