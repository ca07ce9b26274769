#include "cli/server_options.hpp"

#include <cstdlib>

#include "runtime/export/export_config.hpp"

namespace haul::cli {

expected<service::api_options> api_options_of(const job_file& f, const std::string& listen) {
  service::server_settings server = f.server.value_or(service::server_settings{});
  auto fail = [&](const std::string& why) {
    return make_error(errc::invalid_argument, f.path + ": " + why);
  };
  service::api_options o;
  auto address = service::parse_listen(listen.empty() ? server.listen : listen);
  if (!address)
    return fail(address.error().message);
  o.listen = *address;
  if (!server.token_env.empty()) {
    const char* token = std::getenv(server.token_env.c_str());
    if (token == nullptr || *token == '\0')
      return fail("server.token_env names " + server.token_env + ", which is not set");
    o.token = token;
  } else if (!service::is_loopback(o.listen.host)) {
    return fail("listening on " + o.listen.host +
                ", which other machines can reach, needs a bearer token: set [server] "
                "token_env to the name of an environment variable holding it");
  }
  for (const auto& dir : server.export_roots) {
    auto root = service::canonical_root(dir);
    if (!root)
      return fail("server.export_roots: " + root.error().message);
    o.exports.roots.push_back(std::move(*root));
  }
  if (!server.s3.empty()) {
    // Checked now, with a stand-in target, rather than at the first POST.
    auto probe = server.s3;
    probe["source"] = "-";
    probe["target"] = "s3://bucket/key";
    if (auto c = exporter::parse_export_config(probe); !c)
      return fail("server.s3: " + c.error().message);
  }
  o.exports.s3 = server.s3;
  o.exports.file_jobs = f.jobs;
  return o;
}

} // namespace haul::cli
