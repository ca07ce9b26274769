#include "runtime/upload/http_outcome.hpp"

#include <chrono>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

using namespace haul;
using namespace haul::upload;
using namespace std::chrono;

namespace {

// Sunday, 10 March 2024, 12:00:00 UTC.
const system_clock::time_point now = sys_days(year(2024) / March / 10) + hours(12);
constexpr std::string_view what = "PUT http://127.0.0.1:8080/cache/a.txt";

// CURLcode values, spelled out so the test does not depend on curl.h.
constexpr long curle_unsupported_protocol = 1;
constexpr long curle_url_malformat = 3;
constexpr long curle_couldnt_resolve_proxy = 5;
constexpr long curle_couldnt_resolve_host = 6;
constexpr long curle_couldnt_connect = 7;
constexpr long curle_http2 = 16;
constexpr long curle_partial_file = 18;
constexpr long curle_http_returned_error = 22;
constexpr long curle_read_error = 26;
constexpr long curle_operation_timedout = 28;
constexpr long curle_ssl_connect_error = 35;
constexpr long curle_aborted_by_callback = 42;
constexpr long curle_got_nothing = 52;
constexpr long curle_send_error = 55;
constexpr long curle_recv_error = 56;
constexpr long curle_peer_failed_verification = 60;
constexpr long curle_again = 81;
constexpr long curle_http2_stream = 92;

outcome of_status(long status, std::optional<std::string> retry_after = std::nullopt,
                  std::string body = {}) {
  http_response_facts f;
  f.status = status;
  f.retry_after = std::move(retry_after);
  f.body_excerpt = std::move(body);
  return classify(f, now, what);
}

outcome of_curl(long code, std::string error = {}, long status = 0) {
  http_response_facts f;
  f.curl_code = code;
  f.curl_error = std::move(error);
  f.status = status;
  return classify(f, now, what);
}

std::optional<long long> after_ms(const outcome& o) {
  if (!o.retry_after)
    return std::nullopt;
  return o.retry_after->count();
}

std::optional<long long> parsed_ms(std::string_view value, system_clock::time_point at = now) {
  auto d = parse_retry_after(value, at);
  if (!d)
    return std::nullopt;
  return d->count();
}

} // namespace

/// Lets a failed check print an optional delay.
template <>
struct boost::test_tools::tt_detail::print_log_value<std::optional<long long>> {
  void operator()(std::ostream& os, const std::optional<long long>& v) {
    if (v)
      os << *v << " ms";
    else
      os << "nullopt";
  }
};

BOOST_AUTO_TEST_SUITE(http_outcome_tests)

// ---- statuses ----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_2xx_status_is_a_success_without_error_or_bytes) {
  for (long status : {200L, 201L, 204L, 299L}) {
    auto o = of_status(status, "120");
    BOOST_TEST_CONTEXT("HTTP " << status) {
      BOOST_TEST((o.kind == outcome_kind::ok));
      BOOST_TEST(o.error.empty());
      BOOST_TEST(o.bytes == 0u);
      BOOST_TEST(!o.retry_after.has_value());
    }
  }
}

BOOST_AUTO_TEST_CASE(statuses_408_425_and_5xx_other_than_503_are_retryable_without_overload) {
  for (long status : {408L, 425L, 500L, 501L, 502L, 504L, 507L, 599L}) {
    auto o = of_status(status);
    BOOST_TEST_CONTEXT("HTTP " << status) {
      BOOST_TEST((o.kind == outcome_kind::retryable));
      BOOST_TEST(!o.overloaded);
    }
  }
}

BOOST_AUTO_TEST_CASE(statuses_429_and_503_are_retryable_and_overloaded) {
  for (long status : {429L, 503L}) {
    auto o = of_status(status);
    BOOST_TEST_CONTEXT("HTTP " << status) {
      BOOST_TEST((o.kind == outcome_kind::retryable));
      BOOST_TEST(o.overloaded);
    }
  }
}

BOOST_AUTO_TEST_CASE(other_4xx_1xx_and_3xx_are_permanent) {
  for (long status :
       {100L, 199L, 301L, 304L, 307L, 400L, 401L, 403L, 404L, 409L, 413L, 499L, 600L}) {
    auto o = of_status(status, "5");
    BOOST_TEST_CONTEXT("HTTP " << status) {
      BOOST_TEST((o.kind == outcome_kind::permanent));
      BOOST_TEST(!o.overloaded);
      BOOST_TEST(!o.retry_after.has_value());
    }
  }
}

BOOST_AUTO_TEST_CASE(a_status_message_names_the_request_status_reason_and_body_on_one_line) {
  auto o = of_status(503, std::nullopt, "<html>\n  <b>busy</b>\r\n\ttry later\n</html>\n");
  BOOST_TEST(o.error == std::string(what) +
                            ": HTTP 503 Service Unavailable: <html> <b>busy</b> try later </html>");
  BOOST_TEST(of_status(404).error == std::string(what) + ": HTTP 404 Not Found");
  BOOST_TEST(of_status(418, std::nullopt, "teapot").error ==
             std::string(what) + ": HTTP 418: teapot");
}

BOOST_AUTO_TEST_CASE(a_long_body_is_cut_to_200_bytes_without_splitting_a_character) {
  auto o = of_status(500, std::nullopt, std::string(500, 'x'));
  BOOST_TEST(o.error == std::string(what) +
                            ": HTTP 500 Internal Server Error: " + std::string(200, 'x') + "...");

  std::string accents;
  for (int i = 0; i < 150; ++i)
    accents += "\xC3\xA9";                    // é, two bytes
  std::string x_then_accents = "x" + accents; // 200 bytes end inside the 100th é
  o = of_status(500, std::nullopt, x_then_accents);
  BOOST_TEST(o.error == std::string(what) + ": HTTP 500 Internal Server Error: " +
                            x_then_accents.substr(0, 199) + "...");
}

BOOST_AUTO_TEST_CASE(a_body_cut_after_a_whole_character_keeps_that_character) {
  std::string accents;
  for (int i = 0; i < 101; ++i)
    accents += "\xC3\xA9"; // 202 bytes: 100 whole characters fit
  auto o = of_status(500, std::nullopt, accents);
  BOOST_TEST(o.error == std::string(what) +
                            ": HTTP 500 Internal Server Error: " + accents.substr(0, 200) + "...");
}

BOOST_AUTO_TEST_CASE(bytes_of_a_body_that_are_not_utf8_become_question_marks) {
  // A stray byte, a truncated sequence, an overlong form and a surrogate.
  auto o = of_status(502, std::nullopt, "a\xFF b\xC3 c\xC0\xAF d\xED\xA0\x80 \xE2\x82\xAC");
  BOOST_TEST(o.error == std::string(what) + ": HTTP 502 Bad Gateway: a? b? c?? d??? \xE2\x82\xAC");
}

BOOST_AUTO_TEST_CASE(a_response_without_a_status_is_permanent) {
  auto o = of_status(0);
  BOOST_TEST((o.kind == outcome_kind::permanent));
  BOOST_TEST(o.error == std::string(what) + ": no HTTP status in the response");
}

// ---- curl results ------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_transfer_aborted_by_our_callback_is_cancelled) {
  auto o = of_curl(curle_aborted_by_callback, "Callback aborted");
  BOOST_TEST((o.kind == outcome_kind::cancelled));
}

BOOST_AUTO_TEST_CASE(timeouts_and_connection_errors_are_retryable) {
  for (long code : {curle_operation_timedout, curle_couldnt_connect, curle_couldnt_resolve_host,
                    curle_couldnt_resolve_proxy, curle_send_error, curle_recv_error,
                    curle_got_nothing, curle_partial_file, curle_ssl_connect_error, curle_http2,
                    curle_http2_stream, curle_again}) {
    auto o = of_curl(code, "some text");
    BOOST_TEST_CONTEXT("CURLcode " << code) {
      BOOST_TEST((o.kind == outcome_kind::retryable));
      BOOST_TEST(!o.overloaded);
      BOOST_TEST(!o.retry_after.has_value());
    }
  }
}

BOOST_AUTO_TEST_CASE(a_local_read_error_and_other_curl_errors_are_permanent) {
  for (long code : {curle_read_error, curle_url_malformat, curle_unsupported_protocol,
                    curle_peer_failed_verification, 9999L}) {
    BOOST_TEST_CONTEXT("CURLcode " << code) {
      BOOST_TEST((of_curl(code, "some text").kind == outcome_kind::permanent));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_curl_message_says_what_happened_and_quotes_curl) {
  BOOST_TEST(
      of_curl(curle_operation_timedout, "Operation timed out after 1000 milliseconds\n").error ==
      std::string(what) + ": timed out (curl: Operation timed out after 1000 milliseconds)");
  BOOST_TEST(of_curl(curle_couldnt_connect, "Failed to connect").error ==
             std::string(what) + ": cannot connect (curl: Failed to connect)");
  BOOST_TEST(of_curl(curle_read_error, "read callback failed").error ==
             std::string(what) + ": cannot read the local file (curl: read callback failed)");
  // Without an error buffer text, curl's description of the code stands in.
  BOOST_TEST(of_curl(curle_operation_timedout).error ==
             std::string(what) + ": timed out (curl: Timeout was reached)");
}

BOOST_AUTO_TEST_CASE(a_curl_error_outranks_a_status_already_received) {
  auto o = of_curl(curle_recv_error, "Connection reset by peer", 200);
  BOOST_TEST((o.kind == outcome_kind::retryable));
}

BOOST_AUTO_TEST_CASE(fail_on_error_results_are_judged_by_their_status) {
  BOOST_TEST(
      (of_curl(curle_http_returned_error, "The requested URL returned error: 404", 404).kind ==
       outcome_kind::permanent));
  auto o = of_curl(curle_http_returned_error, "The requested URL returned error: 503", 503);
  BOOST_TEST((o.kind == outcome_kind::retryable));
  BOOST_TEST(o.overloaded);
  BOOST_TEST(o.error == std::string(what) + ": HTTP 503 Service Unavailable");
}

// ---- Retry-After -------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_retryable_outcome_carries_retry_after_in_seconds) {
  BOOST_TEST(after_ms(of_status(503, "120")) == 120'000);
  BOOST_TEST(after_ms(of_status(429, " 7 ")) == 7'000);
  BOOST_TEST(after_ms(of_status(502, "0")) == 0);
}

BOOST_AUTO_TEST_CASE(a_retryable_outcome_carries_retry_after_as_an_http_date) {
  BOOST_TEST(after_ms(of_status(503, "Sun, 10 Mar 2024 12:02:00 GMT")) == 120'000);
}

BOOST_AUTO_TEST_CASE(a_garbage_retry_after_is_ignored_but_the_outcome_stays_retryable) {
  for (std::string value : {"soon", "", "1.5", "-1", "12s", "Sun, 10 Mar 2024 12:02:00 UTC"}) {
    auto o = of_status(503, value);
    BOOST_TEST_CONTEXT("Retry-After: " << value) {
      BOOST_TEST((o.kind == outcome_kind::retryable));
      BOOST_TEST(!o.retry_after.has_value());
    }
  }
}

BOOST_AUTO_TEST_CASE(retry_after_is_clamped_to_an_hour_and_to_zero) {
  BOOST_TEST(parsed_ms("3600") == 3'600'000);
  BOOST_TEST(parsed_ms("3601") == 3'600'000);
  BOOST_TEST(parsed_ms("99999999999999999999999999") == 3'600'000);
  BOOST_TEST(parsed_ms("Mon, 11 Mar 2024 12:00:00 GMT") == 3'600'000);
  BOOST_TEST(parsed_ms("Sat, 09 Mar 2024 12:00:00 GMT") == 0);
}

BOOST_AUTO_TEST_CASE(an_http_date_is_measured_from_a_now_with_milliseconds) {
  BOOST_TEST(parsed_ms("Sun, 10 Mar 2024 12:00:02 GMT", now + milliseconds(500)) == 1'500);
}

BOOST_AUTO_TEST_CASE(the_obsolete_rfc850_and_asctime_dates_are_accepted) {
  BOOST_TEST(parsed_ms("Sunday, 10-Mar-24 12:00:30 GMT") == 30'000);
  BOOST_TEST(parsed_ms("Sun Mar 10 12:01:00 2024") == 60'000);
  const auto march_first = sys_days(year(2024) / March / 1);
  // asctime pads a one-digit day with a space.
  BOOST_TEST(parsed_ms("Fri Mar  1 00:00:10 2024", march_first) == 10'000);
}

BOOST_AUTO_TEST_CASE(an_rfc850_year_more_than_50_years_ahead_is_read_as_the_last_century) {
  // 99 is 1999 (in the past: 0), not 2099 (which would clamp to an hour).
  BOOST_TEST(parsed_ms("Friday, 31-Dec-99 23:59:59 GMT") == 0);
  // 30 is 2030: ahead, so clamped to an hour.
  BOOST_TEST(parsed_ms("Sunday, 10-Mar-30 12:00:00 GMT") == 3'600'000);
}

BOOST_AUTO_TEST_CASE(impossible_or_misspelled_dates_are_not_dates) {
  for (std::string value : {"Sat, 31 Feb 2024 12:00:00 GMT", "Sun, 10 Mar 2024 24:00:00 GMT",
                            "Sun, 10 Mar 2024 12:60:00 GMT", "Sun, 10 mar 2024 12:00:00 GMT",
                            "Sun, 10 Mar 2024 12:00:00", "Sun, 1 Mar 2024 12:00:00 GMT",
                            "Xyz, 10 Mar 2024 12:00:00 GMT", "Sun, 10 Mar 2024 12:00:00 GMT x",
                            "Sun Mar 10 12:01:00 24"}) {
    BOOST_TEST(!parsed_ms(value).has_value(), value);
  }
}

BOOST_AUTO_TEST_SUITE_END()
