#pragma once

// The control socket: every `haul run` and `haul serve` process serves the HTTP API (no
// token: the socket is mode 0600) on STORE/control.sock while it owns the store, so that
// `haul cancel` and `haul retry` reach the running process and take effect at once. With
// no process on the socket, those commands change the store directly.

#include <memory>
#include <optional>
#include <string>

#include "haul/runtime.hpp"
#include "runtime/service/api_server.hpp"

namespace haul::cli {

std::string control_socket_path(const std::string& store);

/// Serves the API on the store's control socket; nullptr (after a warning) when it cannot
/// (a path longer than a Unix socket allows): the process runs on without one.
std::unique_ptr<service::api_server> start_control_socket(runtime& rt, bool rerun_retried);

struct control_answer {
  int status = 0;
  std::string body;
};

/// A request to the process running the store; nullopt when none answers on the socket.
std::optional<control_answer> call_control(const std::string& store, const std::string& method,
                                           const std::string& path);

/// JOB as an id, or the name of a job: the id of the job of that name in `jobs_json` (the
/// body of GET /jobs), or JOB itself.
std::string job_id_in(const std::string& jobs_json, const std::string& job);

} // namespace haul::cli
