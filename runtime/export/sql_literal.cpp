#include "runtime/export/sql_literal.hpp"

#include <charconv>
#include <cmath>
#include <cstring>

namespace haul::exporter {

namespace {

constexpr char hex_digits[] = "0123456789abcdef";

// Below this magnitude SQLite 3.40 parses decimal text inexactly (see the header).
constexpr double exact_parse_floor = 1e-290;
// 2^-256 with 17 significant digits: in the exactly parsed range, and the product Y*P is
// exact because scaling by a power of two only moves the exponent.
constexpr std::string_view scale_literal = "8.6361685550944446e-78";
static_assert(scale_literal.size() == 22);
constexpr int scale_exponent = 256;

void append_hex(std::string& out, std::string_view bytes) {
  auto at = out.size();
  out.resize(at + 2 * bytes.size());
  char* p = out.data() + at;
  for (unsigned char c : bytes) {
    *p++ = hex_digits[c >> 4];
    *p++ = hex_digits[c & 15];
  }
}

/// 17 significant digits (what identifies a double), without the zeros that add nothing:
/// "2.5", "0.10000000000000001", "1e+300". Dropping trailing zeros keeps the decimal value
/// itself, so SQLite reads the same double back. A '.' or an exponent is always present, so
/// SQLite reads a REAL, never an INTEGER.
void append_17_digits(std::string& out, double v) {
  char buf[40];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific, 16);
  std::string_view text(buf, static_cast<std::size_t>(r.ptr - buf));
  auto e = text.find('e');
  auto mantissa = text.substr(0, e);
  int exponent = 0;
  std::from_chars(text.data() + e + 1 + (text[e + 1] == '+'), text.data() + text.size(), exponent);
  bool negative = mantissa.front() == '-';
  if (negative)
    mantissa.remove_prefix(1);
  std::string digits; // the significant digits, without the point
  digits += mantissa[0];
  digits.append(mantissa.substr(2));
  while (digits.size() > 1 && digits.back() == '0')
    digits.pop_back();
  if (negative)
    out += '-';
  if (exponent < -5 || exponent > 16) {
    out += digits[0];
    if (digits.size() > 1) {
      out += '.';
      out.append(digits, 1);
    }
    out += 'e';
    out += std::to_string(exponent);
    return;
  }
  if (exponent < 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-exponent - 1), '0');
    out += digits;
    return;
  }
  auto whole = static_cast<std::size_t>(exponent) + 1;
  if (digits.size() <= whole) {
    out += digits;
    out.append(whole - digits.size(), '0');
    out += ".0";
    return;
  }
  out.append(digits, 0, whole);
  out += '.';
  out.append(digits, whole);
}

} // namespace

void append_integer(std::string& out, std::int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_real(std::string& out, double v) {
  if (std::isinf(v)) {
    out += v > 0 ? "1e999" : "-1e999";
    return;
  }
  if (std::isnan(v)) { // not storable in SQLite; kept total rather than asserted
    out += "NULL";
    return;
  }
  if (v == 0) {
    out += std::signbit(v) ? "-0.0" : "0.0";
    return;
  }
  if (std::fabs(v) >= exact_parse_floor) {
    append_17_digits(out, v);
    return;
  }
  append_17_digits(out, std::ldexp(v, scale_exponent));
  out += '*';
  out += scale_literal;
}

void append_text(std::string& out, std::string_view text) {
  // The sqlite3 shell reads its input by lines: a NUL ends the line and a carriage return
  // before a line break is dropped. Text holding either goes in as hex.
  if (text.find_first_of(std::string_view("\0\r", 2)) != std::string_view::npos)
    return append_text_cast(out, text);
  out.reserve(out.size() + text.size() + 2);
  out += '\'';
  for (std::size_t from = 0;;) {
    auto q = text.find('\'', from);
    if (q == std::string_view::npos) {
      out.append(text.substr(from));
      break;
    }
    out.append(text.substr(from, q + 1 - from));
    out += '\'';
    from = q + 1;
  }
  out += '\'';
}

void append_text_cast(std::string& out, std::string_view encoded_bytes) {
  out += "CAST(X'";
  append_hex(out, encoded_bytes);
  out += "' AS TEXT)";
}

void append_blob(std::string& out, std::string_view bytes) {
  out += "X'";
  append_hex(out, bytes);
  out += '\'';
}

void append_identifier(std::string& out, std::string_view name) {
  out += '"';
  for (char c : name) {
    if (c == '"')
      out += '"';
    out += c;
  }
  out += '"';
}

} // namespace haul::exporter
