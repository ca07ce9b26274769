#pragma once

// AWS Signature Version 4 for S3 requests sent with the Authorization header, computed by us
// over OpenSSL rather than by curl's CURLOPT_AWS_SIGV4: curl 7.88's signer signs valueless
// and unsorted query parameters wrongly and leaves out x-amz-content-sha256.
// Pure functions: the caller supplies the time, so a signature is reproducible in tests.
//
//   sigv4_request req{.method = "PUT", .host = "bucket.s3.amazonaws.com",
//                     .path = "/" + uri_encode(key, false), .payload_sha256 = hash_of_body};
//   auto s = sign_sigv4(req, credentials, "us-east-1", "s3", amz_date(clock_now));
//   // URL: scheme://host + req.path + ("?" + s.query_string when not empty)
//   // send: req.headers, then s.headers_to_send (its last entry is Authorization)
//
// The OpenSSL-backed calls (sha256_hex, sha256_stream, sign_sigv4) throw std::bad_alloc when
// OpenSSL cannot allocate: with OpenSSL's default provider that is the only way they fail.

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace haul::upload {

/// Hex SHA-256 of an empty body: the payload hash of a GET, HEAD or DELETE.
inline constexpr std::string_view empty_payload_sha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// Payload hash that tells S3 the body is not part of the signature.
inline constexpr std::string_view unsigned_payload = "UNSIGNED-PAYLOAD";

struct sigv4_credentials {
  std::string access_key;
  std::string secret_key;
  /// Temporary (STS) credentials only; when set it is sent and signed as x-amz-security-token.
  std::string session_token;
};

struct sigv4_request {
  std::string method; ///< "GET", "PUT", ... exactly as sent.
  /// As the Host header will carry it: with ":port" when the port is not the scheme's default,
  /// e.g. "127.0.0.1:4568". curl derives Host from the URL, so the URL must agree with this.
  std::string host;
  /// Absolute path, already percent-encoded (see uri_encode), used verbatim: S3 does not
  /// encode it a second time. Empty means "/".
  std::string path;
  /// Unencoded names and values; the signer encodes and sorts them. A valueless parameter such
  /// as ?uploads is {"uploads", ""} and is written "uploads=".
  std::vector<std::pair<std::string, std::string>> query;
  /// Further headers to sign (content-type, range, x-amz-storage-class, ...), names in any case.
  /// The caller sends them with these exact values. Each x-amz-* header sent must be here: S3
  /// rejects an unsigned one. Repeated names are signed as one comma-joined value. Entries
  /// named host, x-amz-date, x-amz-content-sha256 or x-amz-security-token are ignored: the
  /// signer owns those.
  std::vector<std::pair<std::string, std::string>> headers;
  /// Lowercase hex SHA-256 of the body, or unsigned_payload.
  std::string payload_sha256 = std::string(empty_payload_sha256);
  /// S3 requires x-amz-content-sha256 on every request; AWS's generic SigV4 test suite does
  /// not use it, hence the switch.
  bool add_content_sha256_header = true;
};

struct sigv4_signed {
  std::string canonical_request; ///< For tests and for debugging a SignatureDoesNotMatch.
  std::string string_to_sign;
  std::string signature;     ///< 64 lowercase hex digits.
  std::string authorization; ///< The whole Authorization header value.
  /// Headers the caller adds to the request besides its own sigv4_request::headers, in this
  /// order: x-amz-date, x-amz-content-sha256 (unless switched off), x-amz-security-token (with
  /// a session token), Authorization. Host is not among them: the URL supplies it.
  std::vector<std::pair<std::string, std::string>> headers_to_send;
  /// The encoded, sorted query to write after '?' (empty when there is none); it is exactly
  /// the query that was signed.
  std::string query_string;
};

/// Signs `request` for `region` and `service` ("s3") at `amz_date`, a time in the form
/// yyyymmddThhmmssZ (see amz_date()). REQUIRES: amz_date has that form.
sigv4_signed sign_sigv4(const sigv4_request& request, const sigv4_credentials& credentials,
                        std::string_view region, std::string_view service,
                        std::string_view amz_date);

/// RFC 3986 percent-encoding as SigV4 wants it: A-Z a-z 0-9 - . _ ~ stay, every other byte
/// becomes %XX with uppercase hex (UTF-8 text byte by byte), and '/' stays unless
/// encode_slash. Object keys in a path: encode_slash = false; query names and values: true.
std::string uri_encode(std::string_view s, bool encode_slash);

/// Lowercase hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

/// SHA-256 fed piece by piece, so a file part can be hashed without holding it in memory.
/// A moved-from stream may only be assigned to or destroyed.
class sha256_stream {
 public:
  sha256_stream();
  ~sha256_stream();
  sha256_stream(sha256_stream&&) noexcept;
  sha256_stream& operator=(sha256_stream&&) noexcept;
  sha256_stream(const sha256_stream&) = delete;
  sha256_stream& operator=(const sha256_stream&) = delete;

  void update(const void* data, std::size_t size);
  void update(std::string_view data) { update(data.data(), data.size()); }
  /// Lowercase hex SHA-256 of everything fed so far; the stream can be fed further after it.
  std::string hex() const;

 private:
  struct context;
  std::unique_ptr<context> context_;
};

/// `time` in UTC as yyyymmddThhmmssZ, the form of x-amz-date; sub-second parts are dropped.
std::string amz_date(std::chrono::system_clock::time_point time);

} // namespace haul::upload
