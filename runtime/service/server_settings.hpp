#pragma once

// The [server] table of a job file: where `haul serve` listens, which local paths the export
// API may read and write, and the bearer token it requires off loopback.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "haul/expected.hpp"
#include "haul/task.hpp"

namespace haul::service {

struct listen_address {
  std::string host; ///< Without the brackets of an IPv6 literal.
  std::uint16_t port = 0;
  bool operator==(const listen_address&) const = default;
};

struct server_settings {
  std::string listen = "127.0.0.1:8700";
  /// POSTed export sources and file:// targets must lie inside one of these (absolute;
  /// relative ones in the job file are relative to it).
  std::vector<std::string> export_roots;
  /// The environment variable holding the bearer token; required off loopback.
  std::string token_env;
  /// [server.s3]: the S3 settings of POSTed exports to s3:// targets, as job params
  /// ("s3.endpoint", ...): the same keys as an export job's [job.s3].
  job_params s3;
};

/// "HOST:PORT", "[V6]:PORT". Fails with invalid_argument naming what is wrong.
expected<listen_address> parse_listen(std::string_view text);
/// True for localhost, 127.0.0.0/8 and ::1: addresses other machines cannot reach.
bool is_loopback(std::string_view host);
/// The host name of an HTTP Host header ("127.0.0.1:8700", "[::1]:8700", "localhost"),
/// without its port or brackets.
std::string_view host_name_of(std::string_view host_header);

} // namespace haul::service
