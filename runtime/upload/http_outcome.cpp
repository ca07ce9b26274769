#include "runtime/upload/http_outcome.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

#include <curl/curl.h>

namespace haul::upload {

namespace {

using namespace std::chrono;

constexpr milliseconds max_retry_after = hours(1);
constexpr std::size_t max_excerpt = 200;

enum class curl_class { cancelled, timeout, cannot_connect, connection_broken, local_read, other };

curl_class classify_curl(long code) {
  switch (static_cast<CURLcode>(code)) {
  case CURLE_ABORTED_BY_CALLBACK:
    return curl_class::cancelled;
  case CURLE_OPERATION_TIMEDOUT:
    return curl_class::timeout;
  case CURLE_COULDNT_RESOLVE_PROXY:
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_CONNECT:
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_QUIC_CONNECT_ERROR:
    return curl_class::cannot_connect;
  case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR:
  case CURLE_GOT_NOTHING:
  case CURLE_PARTIAL_FILE:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
  case CURLE_HTTP3:
  case CURLE_AGAIN:
    return curl_class::connection_broken;
  case CURLE_READ_ERROR:
    return curl_class::local_read;
  default:
    return curl_class::other;
  }
}

std::string_view reason_phrase(long status) {
  static constexpr std::pair<long, std::string_view> phrases[] = {
      {301, "Moved Permanently"},
      {302, "Found"},
      {304, "Not Modified"},
      {307, "Temporary Redirect"},
      {308, "Permanent Redirect"},
      {400, "Bad Request"},
      {401, "Unauthorized"},
      {403, "Forbidden"},
      {404, "Not Found"},
      {405, "Method Not Allowed"},
      {408, "Request Timeout"},
      {409, "Conflict"},
      {411, "Length Required"},
      {412, "Precondition Failed"},
      {413, "Content Too Large"},
      {414, "URI Too Long"},
      {415, "Unsupported Media Type"},
      {425, "Too Early"},
      {429, "Too Many Requests"},
      {500, "Internal Server Error"},
      {501, "Not Implemented"},
      {502, "Bad Gateway"},
      {503, "Service Unavailable"},
      {504, "Gateway Timeout"},
      {507, "Insufficient Storage"},
  };
  for (const auto& [s, phrase] : phrases)
    if (s == status)
      return phrase;
  return {};
}

bool is_space_or_control(unsigned char c) {
  return c <= 0x20 || c == 0x7f;
}

bool is_continuation(unsigned char c) {
  return (c & 0xC0) == 0x80;
}

/// Length of the well-formed UTF-8 sequence at text[at] (Unicode's table 3-7: no overlong
/// forms, no surrogates, nothing past U+10FFFF), or 0.
std::size_t utf8_sequence_length(std::string_view text, std::size_t at) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[at + i]); };
  auto c = byte(0);
  std::size_t n = c < 0x80                 ? 1
                  : c >= 0xC2 && c <= 0xDF ? 2
                  : c >= 0xE0 && c <= 0xEF ? 3
                  : c >= 0xF0 && c <= 0xF4 ? 4
                                           : 0;
  if (n == 0 || at + n > text.size())
    return 0;
  for (std::size_t i = 1; i < n; ++i)
    if (!is_continuation(byte(i)))
      return 0;
  auto second = byte(n > 1 ? 1 : 0);
  if ((c == 0xE0 && second < 0xA0) || (c == 0xED && second > 0x9F) ||
      (c == 0xF0 && second < 0x90) || (c == 0xF4 && second > 0x8F))
    return 0;
  return n;
}

/// A response body as a message excerpt: on one line (each run of blanks and control
/// characters, as in an HTML error page, becomes one space), at most max_excerpt bytes cut
/// between characters, and valid UTF-8 (a stray byte becomes '?': messages end up in JSON).
std::string one_line(std::string_view text) {
  std::string out;
  bool pending_space = false;
  std::size_t at = 0;
  while (at < text.size()) {
    auto c = static_cast<unsigned char>(text[at]);
    if (is_space_or_control(c)) {
      pending_space = !out.empty();
      ++at;
      continue;
    }
    auto n = utf8_sequence_length(text, at);
    auto piece = n == 0 ? std::string_view("?") : text.substr(at, n);
    if (out.size() + (pending_space ? 1 : 0) + piece.size() > max_excerpt)
      return out + "...";
    if (pending_space)
      out.push_back(' ');
    pending_space = false;
    out += piece;
    at += n == 0 ? 1 : n;
  }
  return out;
}

std::string curl_text(const http_response_facts& f) {
  std::string_view text = f.curl_error;
  while (!text.empty() && is_space_or_control(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  if (text.empty())
    text = ::curl_easy_strerror(static_cast<CURLcode>(f.curl_code));
  return std::string(text);
}

outcome classify_curl_failure(const http_response_facts& f, std::string_view what) {
  auto message = [&](std::string_view label) {
    return std::string(what) + ": " + std::string(label) + " (curl: " + curl_text(f) + ")";
  };
  switch (classify_curl(f.curl_code)) {
  case curl_class::cancelled:
    return outcome::cancelled();
  case curl_class::timeout:
    return outcome::retry(message("timed out"));
  case curl_class::cannot_connect:
    return outcome::retry(message("cannot connect"));
  case curl_class::connection_broken:
    return outcome::retry(message("connection broken"));
  case curl_class::local_read:
    return outcome::fail(message("cannot read the local file"));
  case curl_class::other:
    break;
  }
  return outcome::fail(message("failed"));
}

// ---- HTTP-date -----------------------------------------------------------------------------

/// Reads an HTTP-date left to right; each step fails once anything did not match.
class date_cursor {
 public:
  explicit date_cursor(std::string_view s)
      : rest_(s) {}

  bool ok() const { return ok_; }
  bool at_end() const { return ok_ && rest_.empty(); }

  date_cursor& literal(std::string_view s) {
    ok_ = ok_ && rest_.starts_with(s);
    if (ok_)
      rest_.remove_prefix(s.size());
    return *this;
  }
  /// Exactly `n` digits.
  date_cursor& digits(int n, int& value) {
    value = 0;
    for (int i = 0; ok_ && i < n; ++i) {
      ok_ = !rest_.empty() && rest_.front() >= '0' && rest_.front() <= '9';
      if (ok_) {
        value = value * 10 + (rest_.front() - '0');
        rest_.remove_prefix(1);
      }
    }
    return *this;
  }
  /// One of `names`; `index` is its position.
  template <std::size_t N>
  date_cursor& one_of(const std::array<std::string_view, N>& names, int& index) {
    if (!ok_)
      return *this;
    for (std::size_t i = 0; i < N; ++i) {
      if (rest_.starts_with(names[i])) {
        index = static_cast<int>(i);
        rest_.remove_prefix(names[i].size());
        return *this;
      }
    }
    ok_ = false;
    return *this;
  }
  /// asctime's day: two digits, or a space and one digit.
  date_cursor& padded_day(int& value) {
    if (ok_ && rest_.starts_with(' ')) {
      rest_.remove_prefix(1);
      return digits(1, value);
    }
    return digits(2, value);
  }
  date_cursor& time_of_day(int& h, int& m, int& s) {
    return digits(2, h).literal(":").digits(2, m).literal(":").digits(2, s);
  }

 private:
  std::string_view rest_;
  bool ok_ = true;
};

constexpr std::array<std::string_view, 7> short_days = {"Mon", "Tue", "Wed", "Thu",
                                                        "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 7> long_days = {
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
constexpr std::array<std::string_view, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

struct date_fields {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
};

std::optional<date_fields> parse_imf_fixdate(std::string_view s) {
  date_fields f;
  int ignored = 0;
  date_cursor c(s);
  c.one_of(short_days, ignored).literal(", ").digits(2, f.day).literal(" ");
  c.one_of(months, f.month).literal(" ").digits(4, f.year).literal(" ");
  c.time_of_day(f.hour, f.minute, f.second).literal(" GMT");
  if (!c.at_end())
    return std::nullopt;
  return f;
}

/// RFC 850's two-digit year is read as RFC 9110 says: more than 50 years ahead of now means
/// the century before.
std::optional<date_fields> parse_rfc850_date(std::string_view s, int current_year) {
  date_fields f;
  int ignored = 0;
  date_cursor c(s);
  c.one_of(long_days, ignored).literal(", ").digits(2, f.day).literal("-");
  c.one_of(months, f.month).literal("-").digits(2, f.year).literal(" ");
  c.time_of_day(f.hour, f.minute, f.second).literal(" GMT");
  if (!c.at_end())
    return std::nullopt;
  f.year += current_year / 100 * 100;
  if (f.year > current_year + 50)
    f.year -= 100;
  return f;
}

std::optional<date_fields> parse_asctime_date(std::string_view s) {
  date_fields f;
  int ignored = 0;
  date_cursor c(s);
  c.one_of(short_days, ignored).literal(" ").one_of(months, f.month).literal(" ");
  c.padded_day(f.day).literal(" ").time_of_day(f.hour, f.minute, f.second).literal(" ");
  c.digits(4, f.year);
  if (!c.at_end())
    return std::nullopt;
  return f;
}

std::optional<system_clock::time_point> parse_http_date(std::string_view s,
                                                        system_clock::time_point now) {
  auto current_year = static_cast<int>(year_month_day(floor<days>(now)).year());
  auto f = parse_imf_fixdate(s);
  if (!f)
    f = parse_rfc850_date(s, current_year);
  if (!f)
    f = parse_asctime_date(s);
  if (!f)
    return std::nullopt;
  // one_of gave the month's index.
  year_month_day date{year(f->year), month(static_cast<unsigned>(f->month + 1)),
                      day(static_cast<unsigned>(f->day))};
  if (!date.ok() || f->hour > 23 || f->minute > 59 || f->second > 60) // 60: a leap second
    return std::nullopt;
  return sys_days(date) + hours(f->hour) + minutes(f->minute) + seconds(f->second);
}

} // namespace

std::optional<milliseconds> parse_retry_after(std::string_view value,
                                              system_clock::time_point now) {
  auto first = value.find_first_not_of(" \t");
  if (first == std::string_view::npos)
    return std::nullopt;
  value = value.substr(first, value.find_last_not_of(" \t") - first + 1);

  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    // Saturate rather than overflow: any delay past the clamp is the clamp.
    constexpr std::uint64_t limit = duration_cast<seconds>(max_retry_after).count();
    std::uint64_t secs = 0;
    for (char c : value) {
      secs = secs * 10 + static_cast<std::uint64_t>(c - '0');
      if (secs > limit)
        return max_retry_after;
    }
    return duration_cast<milliseconds>(seconds(secs));
  }

  auto date = parse_http_date(value, now);
  if (!date)
    return std::nullopt;
  auto delay = duration_cast<milliseconds>(*date - now);
  return std::clamp(delay, milliseconds(0), max_retry_after);
}

outcome classify(const http_response_facts& f, system_clock::time_point now,
                 std::string_view what) {
  bool judged_by_status = f.curl_code == CURLE_HTTP_RETURNED_ERROR && f.status != 0;
  if (f.curl_code != CURLE_OK && !judged_by_status)
    return classify_curl_failure(f, what);

  if (f.status == 0)
    return outcome::fail(std::string(what) + ": no HTTP status in the response");
  if (f.status >= 200 && f.status <= 299)
    return outcome::success();

  auto message = std::string(what) + ": HTTP " + std::to_string(f.status);
  if (auto phrase = reason_phrase(f.status); !phrase.empty())
    message += " " + std::string(phrase);
  if (auto excerpt = one_line(f.body_excerpt); !excerpt.empty())
    message += ": " + excerpt;

  std::optional<milliseconds> after;
  if (f.retry_after)
    after = parse_retry_after(*f.retry_after, now);
  if (f.status == 429 || f.status == 503)
    return outcome::overload(std::move(message), after);
  if (f.status == 408 || f.status == 425 || (f.status >= 500 && f.status <= 599))
    return outcome::retry(std::move(message), after);
  return outcome::fail(std::move(message));
}

} // namespace haul::upload
