#pragma once

// The S3 requests an upload sends, addressed (path-style or virtual-hosted) and signed with
// SigV4: PutObject, HeadObject, and the three steps of a multipart upload. Each returns a
// transfer_request with method, URL, headers and body set; the caller adds callbacks.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/upload/sigv4.hpp"
#include "runtime/upload/transfer_engine.hpp"
#include "runtime/upload/upload_config.hpp"

namespace haul::upload {

/// A file range to send as a request body.
struct file_range {
  std::string path;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

class s3_requests {
 public:
  s3_requests(const upload_config& config, sigv4_credentials credentials);

  /// Reads the credentials from the environment variables the config names.
  static expected<sigv4_credentials> credentials_from_env(const s3_settings& s3);

  using time_point = std::chrono::system_clock::time_point;

  transfer_request put_object(std::string_view key, const file_range& body,
                              std::string_view content_type, time_point now) const;
  transfer_request head_object(std::string_view key, time_point now) const;
  transfer_request create_multipart(std::string_view key, std::string_view content_type,
                                    time_point now) const;
  transfer_request upload_part(std::string_view key, std::string_view upload_id,
                               std::uint32_t part_number, const file_range& body,
                               time_point now) const;
  transfer_request abort_multipart(std::string_view key, std::string_view upload_id,
                                   time_point now) const;
  transfer_request get_object(std::string_view key, time_point now) const;
  /// `etags`: part n's ETag at index n-1, every part present.
  transfer_request complete_multipart(std::string_view key, std::string_view upload_id,
                                      const std::vector<std::string>& etags, time_point now) const;

  /// The object's URL (without query): for messages and tests.
  std::string object_url(std::string_view key) const;

 private:
  transfer_request signed_request(std::string method, std::string_view key,
                                  std::vector<std::pair<std::string, std::string>> query,
                                  std::vector<std::pair<std::string, std::string>> headers,
                                  std::string payload_sha256, time_point now) const;
  std::string payload_hash(const file_range& body) const;

  const upload_config& config_;
  sigv4_credentials credentials_;
};

/// The text of the first <name>…</name> element in an S3 XML response, with the five XML
/// entities decoded; nullopt when there is none.
std::optional<std::string> xml_element(std::string_view xml, std::string_view name);

/// The CompleteMultipartUpload body for these ETags (part n at index n-1).
std::string complete_multipart_body(const std::vector<std::string>& etags);

} // namespace haul::upload
