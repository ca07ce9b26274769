#include "runtime/upload/sigv4.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <new>

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace haul::upload {

namespace {

constexpr std::string_view algorithm = "AWS4-HMAC-SHA256";

using digest = std::array<unsigned char, 32>;

std::string to_hex(const unsigned char* bytes, std::size_t size) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(digits[bytes[i] >> 4]);
    out.push_back(digits[bytes[i] & 0x0f]);
  }
  return out;
}

// With OpenSSL's default provider these calls fail only when an allocation fails.
void require_ok(int openssl_result) {
  if (openssl_result != 1)
    throw std::bad_alloc();
}

digest hmac_sha256(std::string_view key, std::string_view data) {
  digest out{};
  unsigned int size = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(),
           &size) == nullptr)
    throw std::bad_alloc();
  return out;
}

std::string_view as_key(const digest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

bool is_space(char c) {
  return c == ' ' || c == '\t';
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// SigV4 canonical header value: no leading or trailing blanks, each inner run of blanks one
// space (a client or proxy may fold whitespace; the signature must survive it).
std::string normalized_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool pending_space = false;
  for (char c : value) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space)
      out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

bool is_signer_owned(std::string_view lower_name) {
  return lower_name == "host" || lower_name == "x-amz-date" ||
         lower_name == "x-amz-content-sha256" || lower_name == "x-amz-security-token";
}

using header_list = std::vector<std::pair<std::string, std::string>>;

// Lowercased, normalized, sorted by name; repeated names merged in their original order.
header_list canonical_headers(const sigv4_request& request, const sigv4_credentials& credentials,
                              std::string_view amz_date) {
  header_list headers;
  headers.reserve(request.headers.size() + 4);
  headers.emplace_back("host", normalized_value(request.host));
  headers.emplace_back("x-amz-date", std::string(amz_date));
  if (request.add_content_sha256_header)
    headers.emplace_back("x-amz-content-sha256", request.payload_sha256);
  if (!credentials.session_token.empty())
    headers.emplace_back("x-amz-security-token", normalized_value(credentials.session_token));
  for (const auto& [name, value] : request.headers) {
    auto lower = lowercase(name);
    if (!is_signer_owned(lower))
      headers.emplace_back(std::move(lower), normalized_value(value));
  }
  std::stable_sort(headers.begin(), headers.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  header_list merged;
  merged.reserve(headers.size());
  for (auto& h : headers) {
    if (!merged.empty() && merged.back().first == h.first) {
      merged.back().second += ',';
      merged.back().second += h.second;
    } else {
      merged.push_back(std::move(h));
    }
  }
  return merged;
}

std::string canonical_query(const sigv4_request& request) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(request.query.size());
  for (const auto& [name, value] : request.query)
    encoded.emplace_back(uri_encode(name, true), uri_encode(value, true));
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty())
      out += '&';
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

} // namespace

sigv4_signed sign_sigv4(const sigv4_request& request, const sigv4_credentials& credentials,
                        std::string_view region, std::string_view service,
                        std::string_view amz_date) {
  sigv4_signed out;
  out.query_string = canonical_query(request);
  auto headers = canonical_headers(request, credentials, amz_date);

  std::string signed_headers;
  for (const auto& h : headers) {
    if (!signed_headers.empty())
      signed_headers += ';';
    signed_headers += h.first;
  }

  auto& creq = out.canonical_request;
  creq += request.method;
  creq += '\n';
  creq += request.path.empty() ? std::string_view("/") : std::string_view(request.path);
  creq += '\n';
  creq += out.query_string;
  creq += '\n';
  for (const auto& [name, value] : headers) {
    creq += name;
    creq += ':';
    creq += value;
    creq += '\n';
  }
  creq += '\n';
  creq += signed_headers;
  creq += '\n';
  creq += request.payload_sha256;

  auto date = amz_date.substr(0, 8);
  std::string scope;
  scope.append(date).append("/").append(region).append("/").append(service).append("/aws4_request");

  auto& sts = out.string_to_sign;
  sts.append(algorithm).append("\n");
  sts.append(amz_date).append("\n");
  sts.append(scope).append("\n");
  sts.append(sha256_hex(creq));

  auto date_key = hmac_sha256("AWS4" + credentials.secret_key, date);
  auto region_key = hmac_sha256(as_key(date_key), region);
  auto service_key = hmac_sha256(as_key(region_key), service);
  auto signing_key = hmac_sha256(as_key(service_key), "aws4_request");
  auto signature = hmac_sha256(as_key(signing_key), sts);
  out.signature = to_hex(signature.data(), signature.size());

  // ", " between the parts as the AWS SDKs send it; S3's own examples print "," alone and
  // S3 accepts both.
  out.authorization.append(algorithm)
      .append(" Credential=")
      .append(credentials.access_key)
      .append("/")
      .append(scope)
      .append(", SignedHeaders=")
      .append(signed_headers)
      .append(", Signature=")
      .append(out.signature);

  out.headers_to_send.emplace_back("x-amz-date", std::string(amz_date));
  if (request.add_content_sha256_header)
    out.headers_to_send.emplace_back("x-amz-content-sha256", request.payload_sha256);
  if (!credentials.session_token.empty())
    out.headers_to_send.emplace_back("x-amz-security-token", credentials.session_token);
  out.headers_to_send.emplace_back("Authorization", out.authorization);
  return out;
}

std::string uri_encode(std::string_view s, bool encode_slash) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved || (c == '/' && !encode_slash)) {
      out.push_back(c);
    } else {
      auto byte = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(digits[byte >> 4]);
      out.push_back(digits[byte & 0x0f]);
    }
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  digest out{};
  require_ok(EVP_Digest(data.data(), data.size(), out.data(), nullptr, EVP_sha256(), nullptr));
  return to_hex(out.data(), out.size());
}

struct sha256_stream::context {
  EVP_MD_CTX* md = nullptr;
  context() = default;
  context(const context&) = delete;
  context& operator=(const context&) = delete;
  ~context() { EVP_MD_CTX_free(md); }
};

sha256_stream::sha256_stream()
    : context_(std::make_unique<context>()) {
  context_->md = EVP_MD_CTX_new();
  if (context_->md == nullptr)
    throw std::bad_alloc();
  require_ok(EVP_DigestInit_ex(context_->md, EVP_sha256(), nullptr));
}

sha256_stream::~sha256_stream() = default;
sha256_stream::sha256_stream(sha256_stream&&) noexcept = default;
sha256_stream& sha256_stream::operator=(sha256_stream&&) noexcept = default;

void sha256_stream::update(const void* data, std::size_t size) {
  require_ok(EVP_DigestUpdate(context_->md, data, size));
}

std::string sha256_stream::hex() const {
  // Finalizing a copy leaves this stream open for more data.
  context copy;
  copy.md = EVP_MD_CTX_new();
  if (copy.md == nullptr)
    throw std::bad_alloc();
  require_ok(EVP_MD_CTX_copy_ex(copy.md, context_->md));
  digest out{};
  require_ok(EVP_DigestFinal_ex(copy.md, out.data(), nullptr));
  return to_hex(out.data(), out.size());
}

std::string amz_date(std::chrono::system_clock::time_point time) {
  using namespace std::chrono;
  auto seconds_since_epoch = floor<seconds>(time);
  auto day = floor<days>(seconds_since_epoch);
  year_month_day ymd{day};
  hh_mm_ss hms{seconds_since_epoch - day};
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04d%02u%02uT%02d%02d%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buffer;
}

} // namespace haul::upload
