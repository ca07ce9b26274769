#pragma once

// Many HTTP transfers in flight on one thread: libcurl's multi interface. Connections are
// kept in the multi handle's cache and reused by later transfers to the same host, so a job
// of 100K small PUTs opens about as many connections as it has transfers in flight.
//
// Requests are submitted from any thread; their callbacks run on the engine's thread, one at
// a time, and may submit further requests (the next part of a multipart upload). A request
// may wait for a time (`not_before`): a retry's backoff without a timer thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace haul::upload {

struct transfer_timeouts {
  std::chrono::milliseconds connect{10'000};
  std::chrono::milliseconds total{0}; ///< 0: none.
  /// Abort when nothing moved for this long (libcurl's low-speed limit of 1 byte/s).
  std::chrono::milliseconds stall{30'000};
};

struct transfer_request {
  std::string method; ///< PUT, POST, HEAD, GET, DELETE.
  std::string url;
  std::vector<std::string> headers; ///< "Name: value".
  /// The body: a file range when body_path is set, else body_data (may be empty).
  std::string body_path;
  std::uint64_t body_offset = 0;
  std::uint64_t body_length = 0;
  std::string body_data;
  transfer_timeouts timeouts;
  std::chrono::steady_clock::time_point not_before{};
  /// Polled on the engine thread while the transfer runs or waits; true aborts it.
  std::function<bool()> cancelled;
  /// Bytes of the body sent so far; called as they move.
  std::function<void(std::uint64_t sent)> on_progress;
  std::function<void(struct transfer_result)> on_done;
};

struct transfer_result {
  long curl_code = 0; ///< CURLcode; 0 is success at the transport level.
  std::string curl_error;
  long status = 0;
  std::optional<std::string> retry_after;
  std::optional<std::string> etag;
  std::optional<std::uint64_t> content_length; ///< Of the response (HEAD: of the object).
  std::string body; ///< The response body, at most max_response_body bytes.
  std::uint64_t bytes_sent = 0;
  bool read_failed = false; ///< The local file could not be read to the end.
};

/// curl_global_init, once per process, before the first easy handle.
void init_curl_once();
/// Sets the connect and stall timeouts of a libcurl easy handle (a CURL*), and the total
/// one unless `with_total` is false (a download streamed to a client at its own pace).
void apply_timeouts(void* easy, const transfer_timeouts& t, bool with_total = true);
/// Reads one response header line (as libcurl's header callback gets it) into `r`'s
/// retry_after, etag and content_length; a status line starts a new response.
void read_response_header(std::string_view line, transfer_result& r);

class transfer_engine {
 public:
  static constexpr std::size_t max_response_body = 64 * 1024;

  transfer_engine();
  ~transfer_engine(); ///< stop()s.
  transfer_engine(const transfer_engine&) = delete;
  transfer_engine& operator=(const transfer_engine&) = delete;

  /// Thread-safe. After stop(), the request is dropped without a callback.
  void submit(transfer_request request);
  /// Aborts every transfer and joins the thread; callbacks of unfinished transfers are not
  /// called. Idempotent.
  void stop();

  /// Transfers running or waiting: for tests and status.
  std::size_t in_flight() const;

 private:
  struct state;
  std::unique_ptr<state> state_;
};

} // namespace haul::upload
