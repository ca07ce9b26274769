#pragma once

// The settings of an upload job, parsed and checked from its params (the keys of its
// [[job]] table; sub-tables arrive flattened as "s3.endpoint", "headers.Cache-Control").
// docs/job-file.md is the reference.

#include <cstdint>
#include <string>
#include <vector>

#include "haul/expected.hpp"
#include "haul/task.hpp"
#include "runtime/upload/transfer_engine.hpp"

namespace haul::upload {

struct s3_settings {
  std::string scheme = "https"; ///< Of the endpoint.
  std::string host;             ///< host[:port] of the endpoint, as the Host header carries it.
  std::string region = "us-east-1";
  std::string bucket;
  std::string prefix; ///< Prepended to every key; ends with '/' unless empty.
  std::string access_key_env = "AWS_ACCESS_KEY_ID";
  std::string secret_key_env = "AWS_SECRET_ACCESS_KEY";
  std::string session_token_env; ///< Optional.
  bool path_style = false;
  bool sign_payload = false; ///< Else x-amz-content-sha256: UNSIGNED-PAYLOAD.
};

struct upload_config {
  enum class source_type : std::uint8_t { directory, manifest };
  enum class target_type : std::uint8_t { http, s3 };

  source_type source = source_type::directory;
  std::string source_path;
  target_type target = target_type::http;
  std::string http_base; ///< http(s)://host/path/, ending with '/'.
  s3_settings s3;
  std::vector<std::pair<std::string, std::string>> headers; ///< Extra request headers.
  std::string bearer_token_env;                             ///< HTTP: Authorization: Bearer $VAR.
  std::string content_type; ///< Empty: from the manifest, else guessed from the key.
  std::uint64_t multipart_threshold = 64ull << 20;
  std::uint64_t part_size = 16ull << 20;
  std::uint32_t part_concurrency = 4;
  std::uint32_t part_attempts = 3; ///< Tries of one part within one attempt of its task.
  transfer_timeouts timeouts;
  bool skip_existing = false; ///< HEAD first; an object of the same size counts as sent.
};

/// True for the keys parse_s3_settings reads ("s3.endpoint", …).
bool is_s3_key(std::string_view key);
/// Those keys, for suggesting the nearest to a misspelt one.
std::vector<std::string_view> known_s3_keys();

/// Reads the [job.s3] keys (endpoint, region, *_env, path_style, sign_payload) into `s3`,
/// whose bucket and prefix the caller sets from its target URL. The named environment
/// variables must be set. Fails with invalid_argument, one problem a line.
expected<void> parse_s3_settings(const job_params& params, s3_settings& s3);

/// Fails with invalid_argument, one problem a line, each naming its key: `target: expected
/// an http://, https:// or s3:// URL, found "ftp://x"`. Environment variables named for
/// secrets must be set.
expected<upload_config> parse_upload_config(const job_params& params);

/// The part size for a file: the configured one, raised so that the file needs at most
/// 10,000 parts (S3's limit).
std::uint64_t part_size_for(const upload_config& c, std::uint64_t file_size);

} // namespace haul::upload
