#pragma once

// Real HTTP servers for upload tests: a private nginx (WebDAV PUT, flaky, deny and stall
// locations) or s3rver, started by scripts/test-servers/*.sh on a free 127.0.0.1 port and
// stopped when the fixture is destroyed. Every request the server answered is one line of
// RUNDIR/access.log, which the counting functions read. scripts/test-servers/README.md lists
// the locations and files.
//
// Declare the server after the temporary directory that holds its RUNDIR, so that the server
// stops before the directory is removed.

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace haul::test {

/// One line of RUNDIR/access.log: "METHOD URI STATUS LENGTH".
struct logged_request {
  std::string method;
  std::string uri;        ///< as the client sent it, query included
  int status = 0;         ///< 499 when the client gave up before an answer
  std::size_t length = 0; ///< request line, headers and body, as nginx's $request_length
};

class test_server {
 public:
  /// nginx on RUNDIR: uploads under RUNDIR/root/{put,flaky,deny}/. flaky_percent of the
  /// requests to /flaky/ are answered 503 (with Retry-After: 1) or 502, about 2:1.
  static test_server start_nginx(const std::filesystem::path& rundir, int flaky_percent = 15);
  /// s3rver on RUNDIR with the given buckets; objects under RUNDIR/data/BUCKET/.
  static test_server start_s3rver(const std::filesystem::path& rundir,
                                  std::vector<std::string> buckets = {"haul-test"});

  test_server(test_server&& other) noexcept;
  test_server& operator=(test_server&& other) noexcept;
  test_server(const test_server&) = delete;
  test_server& operator=(const test_server&) = delete;
  /// Stops the server; a failure to stop is reported on stderr, never thrown.
  ~test_server();

  /// Stops the server now (for a test of an unreachable server); throws std::runtime_error
  /// with the script's stderr when it fails. Idempotent.
  void stop();

  int port() const { return port_; }
  int pid() const { return pid_; }
  /// http://127.0.0.1:PORT
  std::string base_url() const;
  std::filesystem::path rundir() const { return rundir_; }

  /// Every complete line of RUNDIR/access.log, oldest first.
  std::vector<logged_request> requests() const;
  /// Requests with this method (empty: any) whose URI starts with uri_prefix and, unless
  /// status is 0, that were answered with status.
  std::size_t count_requests(std::string_view method, std::string_view uri_prefix,
                             int status = 0) const;
  /// count_requests once it reaches at least expected, or at the timeout. A server writes a
  /// request's line just after the client may already have the answer (nginx logs after
  /// sending), so a test that counts right after its last request should wait for the count.
  std::size_t wait_for_requests(std::string_view method, std::string_view uri_prefix, int status,
                                std::size_t expected,
                                std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;

 private:
  test_server(std::string script, std::filesystem::path rundir, int port, int pid);
  void stop_quietly() noexcept;
  static test_server launch(const std::string& script, const std::filesystem::path& rundir,
                            const std::vector<std::string>& extra_args);

  std::string script_; // nginx.sh or s3rver.sh
  std::filesystem::path rundir_;
  int port_ = 0;
  int pid_ = 0;
  bool running_ = false;
};

} // namespace haul::test
