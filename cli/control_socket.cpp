#include "cli/control_socket.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "runtime/logging.hpp"

namespace haul::cli {

std::string control_socket_path(const std::string& store) {
  return store + "/control.sock";
}

std::unique_ptr<service::api_server> start_control_socket(runtime& rt, bool rerun_retried) {
  auto path = control_socket_path(rt.options().store);
  if (path.size() >= sizeof(sockaddr_un::sun_path)) {
    log::warn("no control socket: the store's path is too long for a Unix socket; haul "
              "cancel, retry, pause and resume fail (exit 5) until this process ends",
              {log::str("path", path)});
    return nullptr;
  }
  service::api_options o;
  o.unix_socket = path;
  o.rerun_retried = rerun_retried;
  auto server = std::make_unique<service::api_server>(rt, std::move(o));
  if (auto ok = server->start(); !ok) {
    log::warn("no control socket", {log::str("why", ok.error().message)});
    return nullptr;
  }
  return server;
}

std::optional<control_answer> call_control(const std::string& store, const std::string& method,
                                           const std::string& path) {
  auto socket = control_socket_path(store);
  if (socket.size() >= sizeof(sockaddr_un::sun_path))
    return std::nullopt;
  httplib::Client c(socket);
  c.set_address_family(AF_UNIX);
  c.set_connection_timeout(std::chrono::seconds(2));
  c.set_read_timeout(std::chrono::seconds(30));
  auto r = method == "GET" ? c.Get(path) : c.Post(path, "", "application/json");
  if (!r)
    return std::nullopt; // no socket, or a stale one of a process that is gone
  return control_answer{r->status, r->body};
}

std::string job_id_in(const std::string& jobs_json, const std::string& job) {
  auto doc = nlohmann::json::parse(jobs_json, nullptr, false);
  if (doc.is_object() && doc.contains("jobs") && doc["jobs"].is_array())
    for (const auto& j : doc["jobs"])
      if (j.value("name", "") == job)
        return j.value("id", job);
  return job;
}

} // namespace haul::cli
