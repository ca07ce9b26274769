#pragma once

// The HTTP API of `haul serve` (cpp-httplib, on its own threads): the export endpoints,
// cancelling a job, and health. Every answer is JSON; an error is {"error": "what and
// where"} with a status that says whose fault it is (400 the request's, 404 no such id,
// 409 the job's state, 503 the runtime's). docs/operations.md lists the endpoints.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "haul/expected.hpp"
#include "haul/runtime.hpp"
#include "runtime/service/export_request.hpp"
#include "runtime/service/server_settings.hpp"

namespace haul::service {

struct api_options {
  listen_address listen;
  /// Required as "Authorization: Bearer TOKEN" on every request when not empty.
  std::string token;
  export_api_settings exports;
  std::function<std::int64_t()> now_ms; ///< Unix milliseconds; the system clock when empty.
  /// Listen on this Unix socket instead of `listen` (the control socket in the store
  /// directory): created mode 0600, replacing a stale one, removed by stop().
  std::string unix_socket;
  /// POST /jobs/{id}/retry of a finished job runs it again at once (haul serve); when false
  /// the requeued tasks wait for the job's next submit (haul run, which is finishing).
  bool rerun_retried = true;
};

class api_server {
 public:
  /// `rt` must outlive the server.
  api_server(runtime& rt, api_options options);
  ~api_server(); ///< stop()s.
  api_server(const api_server&) = delete;
  api_server& operator=(const api_server&) = delete;

  /// Binds (port 0 picks a free one) and serves on a thread of its own. Returns the port.
  expected<std::uint16_t> start();
  /// From now on /health answers 503: the process is stopping.
  void draining();
  /// Stops accepting and waits for requests in progress (a download ends cut short).
  void stop();

  /// A job this process runs that POST /exports {"job": NAME} or a repeated POST should
  /// find rather than submit again.
  void adopt(const job_spec& spec, const std::string& id);

  class impl;

 private:
  std::unique_ptr<impl> impl_;
};

} // namespace haul::service
