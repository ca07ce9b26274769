#include "runtime/service/server_settings.hpp"

#include <arpa/inet.h>
#include <charconv>

namespace haul::service {

expected<listen_address> parse_listen(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return make_error(errc::invalid_argument, "listen address \"" + std::string(text) +
                                                  "\": " + why +
                                                  " (expected HOST:PORT, such as "
                                                  "127.0.0.1:8700 or [::1]:8700)");
  };
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos)
    return bad("no port");
  listen_address out;
  auto host = text.substr(0, colon);
  auto port = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  else if (host.find(':') != std::string_view::npos)
    return bad("an IPv6 address goes in brackets");
  if (host.empty())
    return bad("no host");
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535)
    return bad("the port must be a number from 0 to 65535");
  out.host = std::string(host);
  out.port = static_cast<std::uint16_t>(value);
  return out;
}

std::string_view host_name_of(std::string_view h) {
  if (h.starts_with("[")) {
    auto close = h.find(']');
    return close == std::string_view::npos ? h : h.substr(1, close - 1);
  }
  auto colon = h.find(':');
  if (colon != std::string_view::npos && h.find(':', colon + 1) == std::string_view::npos)
    return h.substr(0, colon);
  return h;
}

bool is_loopback(std::string_view host) {
  if (host == "localhost")
    return true;
  std::string h(host);
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1)
    return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1)
    return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

} // namespace haul::service
