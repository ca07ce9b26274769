#include "runtime/upload/s3_requests.hpp"

#include <cstdlib>
#include <fstream>

namespace haul::upload {

namespace {

std::string xml_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    case '\'':
      out += "&apos;";
      break;
    default:
      out.push_back(c);
    }
  }
  return out;
}

std::string xml_unescape(std::string_view s) {
  static const std::pair<std::string_view, char> entities[] = {
      {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    bool matched = false;
    if (s[i] == '&')
      for (const auto& [name, c] : entities)
        if (s.substr(i, name.size()) == name) {
          out.push_back(c);
          i += name.size();
          matched = true;
          break;
        }
    if (!matched)
      out.push_back(s[i++]);
  }
  return out;
}

std::string env_or_empty(const std::string& name) {
  if (name.empty())
    return {};
  const char* v = std::getenv(name.c_str());
  return v ? v : "";
}

} // namespace

s3_requests::s3_requests(const upload_config& config, sigv4_credentials credentials)
    : config_(config)
    , credentials_(std::move(credentials)) {}

expected<sigv4_credentials> s3_requests::credentials_from_env(const s3_settings& s3) {
  sigv4_credentials c;
  c.access_key = env_or_empty(s3.access_key_env);
  c.secret_key = env_or_empty(s3.secret_key_env);
  c.session_token = env_or_empty(s3.session_token_env);
  if (c.access_key.empty() || c.secret_key.empty())
    return make_error(errc::invalid_argument,
                      "S3 credentials: environment variable " +
                          (c.access_key.empty() ? s3.access_key_env : s3.secret_key_env) +
                          " is not set");
  return c;
}

std::string s3_requests::object_url(std::string_view key) const {
  const auto& s3 = config_.s3;
  auto path = "/" + uri_encode(s3.prefix + std::string(key), false);
  if (s3.path_style)
    return s3.scheme + "://" + s3.host + "/" + uri_encode(s3.bucket, true) + path;
  return s3.scheme + "://" + s3.bucket + "." + s3.host + path;
}

transfer_request
s3_requests::signed_request(std::string method, std::string_view key,
                            std::vector<std::pair<std::string, std::string>> query,
                            std::vector<std::pair<std::string, std::string>> headers,
                            std::string payload_sha256, time_point now) const {
  const auto& s3 = config_.s3;
  sigv4_request sr;
  sr.method = method;
  sr.host = s3.path_style ? s3.host : s3.bucket + "." + s3.host;
  auto object_path = "/" + uri_encode(s3.prefix + std::string(key), false);
  sr.path = s3.path_style ? "/" + uri_encode(s3.bucket, true) + object_path : object_path;
  sr.query = std::move(query);
  sr.headers = std::move(headers);
  sr.payload_sha256 = std::move(payload_sha256);
  auto s = sign_sigv4(sr, credentials_, s3.region, "s3", amz_date(now));

  transfer_request r;
  r.method = std::move(method);
  r.url = s3.scheme + "://" + sr.host + sr.path;
  if (!s.query_string.empty())
    r.url += "?" + s.query_string;
  for (const auto& [name, value] : sr.headers)
    r.headers.push_back(name + ": " + value);
  for (const auto& [name, value] : s.headers_to_send)
    r.headers.push_back(name + ": " + value);
  r.timeouts = config_.timeouts;
  return r;
}

std::string s3_requests::payload_hash(const file_range& body) const {
  if (!config_.s3.sign_payload)
    return std::string(unsigned_payload);
  // Hashing reads the range once more before it is sent: the price of a signed payload.
  sha256_stream h;
  std::ifstream in(body.path, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(body.offset));
  std::vector<char> buf(1 << 16);
  auto left = body.length;
  while (left > 0 && in) {
    in.read(buf.data(), static_cast<std::streamsize>(std::min<std::uint64_t>(left, buf.size())));
    auto got = static_cast<std::uint64_t>(in.gcount());
    h.update(buf.data(), got);
    left -= got;
  }
  // A short read leaves a wrong hash: S3 then rejects the body, which is what should happen
  // to a file that changed while it was being sent.
  return h.hex();
}

transfer_request s3_requests::put_object(std::string_view key, const file_range& body,
                                         std::string_view content_type, time_point now) const {
  auto headers = config_.headers;
  if (!content_type.empty())
    headers.emplace_back("Content-Type", std::string(content_type));
  auto r = signed_request("PUT", key, {}, std::move(headers), payload_hash(body), now);
  r.body_path = body.path;
  r.body_offset = body.offset;
  r.body_length = body.length;
  return r;
}

transfer_request s3_requests::head_object(std::string_view key, time_point now) const {
  return signed_request("HEAD", key, {}, {}, std::string(empty_payload_sha256), now);
}

transfer_request s3_requests::create_multipart(std::string_view key, std::string_view content_type,
                                               time_point now) const {
  auto headers = config_.headers;
  if (!content_type.empty())
    headers.emplace_back("Content-Type", std::string(content_type));
  return signed_request("POST", key, {{"uploads", ""}}, std::move(headers),
                        std::string(empty_payload_sha256), now);
}

transfer_request s3_requests::upload_part(std::string_view key, std::string_view upload_id,
                                          std::uint32_t part_number, const file_range& body,
                                          time_point now) const {
  auto r = signed_request(
      "PUT", key,
      {{"partNumber", std::to_string(part_number)}, {"uploadId", std::string(upload_id)}}, {},
      payload_hash(body), now);
  r.body_path = body.path;
  r.body_offset = body.offset;
  r.body_length = body.length;
  return r;
}

transfer_request s3_requests::abort_multipart(std::string_view key, std::string_view upload_id,
                                              time_point now) const {
  return signed_request("DELETE", key, {{"uploadId", std::string(upload_id)}}, {},
                        std::string(empty_payload_sha256), now);
}

transfer_request s3_requests::get_object(std::string_view key, time_point now) const {
  return signed_request("GET", key, {}, {}, std::string(empty_payload_sha256), now);
}

transfer_request s3_requests::complete_multipart(std::string_view key, std::string_view upload_id,
                                                 const std::vector<std::string>& etags,
                                                 time_point now) const {
  auto body = complete_multipart_body(etags);
  auto r = signed_request("POST", key, {{"uploadId", std::string(upload_id)}},
                          {{"Content-Type", "application/xml"}}, sha256_hex(body), now);
  r.body_data = std::move(body);
  r.body_length = r.body_data.size();
  return r;
}

std::optional<std::string> xml_element(std::string_view xml, std::string_view name) {
  auto open = "<" + std::string(name) + ">";
  auto close = "</" + std::string(name) + ">";
  auto a = xml.find(open);
  if (a == std::string_view::npos)
    return std::nullopt;
  a += open.size();
  auto b = xml.find(close, a);
  if (b == std::string_view::npos)
    return std::nullopt;
  return xml_unescape(xml.substr(a, b - a));
}

std::string complete_multipart_body(const std::vector<std::string>& etags) {
  std::string out = "<CompleteMultipartUpload>";
  for (std::size_t i = 0; i < etags.size(); ++i)
    out += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" +
           xml_escape(etags[i]) + "</ETag></Part>";
  out += "</CompleteMultipartUpload>";
  return out;
}

} // namespace haul::upload
