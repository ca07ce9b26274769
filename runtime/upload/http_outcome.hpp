#pragma once

// What an HTTP transfer's result means for its task: the product's retry rules in one place.
// The transfer code records the facts (curl's result, the status, Retry-After, a bit of the
// body) and classify() turns them into an outcome, so the rules are testable without a
// server. Pure functions: the caller supplies the time.
//
//   http_response_facts f{.curl_code = rc, .curl_error = errbuf, .status = status};
//   auto result = classify(f, clock.now(), "PUT " + url);
//   if (result.kind == haul::outcome_kind::ok) result.bytes = sent;

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "haul/task.hpp"

namespace haul::upload {

struct http_response_facts {
  long curl_code = 0;     ///< The transfer's CURLcode; 0 (CURLE_OK) when a response came.
  std::string curl_error; ///< CURLOPT_ERRORBUFFER's text; may be empty.
  long status = 0;        ///< The HTTP status; 0 when there was no response.
  std::optional<std::string> retry_after; ///< The raw Retry-After header value, if sent.
  std::string body_excerpt;               ///< The start of the response body, for error messages.
};

/// The task's outcome for one transfer. `what` names the request in messages, e.g.
/// "PUT http://host/key". Rules:
/// - curl failed: aborted by our progress callback → cancelled; timeouts and connection
///   errors (resolve, connect, TLS handshake, send, receive, empty or cut-short reply,
///   HTTP/2 framing) → retryable; reading the local file failed and anything else (bad URL,
///   unsupported protocol, certificate rejected...) → permanent;
/// - else by status: 2xx → success with bytes 0 (the caller fills them in); 429 and 503 →
///   overload (retryable, the far side is overloaded); 408, 425 and other 5xx → retryable;
///   everything else (1xx, 3xx, other 4xx, no status) → permanent.
/// A retryable outcome carries the Retry-After delay when one was sent and parses.
/// CURLE_HTTP_RETURNED_ERROR (CURLOPT_FAILONERROR) with a status is judged by the status.
outcome classify(const http_response_facts& facts, std::chrono::system_clock::time_point now,
                 std::string_view what);

/// A Retry-After value as a delay from `now`: delta-seconds ("120") or an HTTP-date
/// (IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", or the obsolete RFC 850 and asctime
/// forms), clamped to [0, 1 hour]; a date in the past is 0. nullopt when the value is
/// neither (it is then ignored, as RFC 9110 allows).
std::optional<std::chrono::milliseconds>
parse_retry_after(std::string_view value, std::chrono::system_clock::time_point now);

} // namespace haul::upload
