#pragma once

// SQL text for SQLite values that the sqlite3 shell reads back to the identical value.
//
// - Integers: every 64-bit value, including -9223372036854775808 (which SQLite's parser
//   turns back into an integer, not a real).
// - Reals: 17 significant digits (trailing zeros dropped), which identify every double.
//   SQLite 3.40 reads them back exactly down to about 1e-290, not below (measured: about 1 in
//   25 random doubles under 2^-900 came back different), so smaller magnitudes are written
//   as an exact product `Y*P`, with Y = x * 2^256 in the safe range and P = 2^-256.
//   Infinities are 1e999 and -1e999. NaN is never stored (SQLite keeps NULL instead).
// - Text: 'quoted', with quotes doubled; newlines and other bytes go in verbatim. Text
//   holding a NUL byte or a carriage return is written as CAST(X'…' AS TEXT): the sqlite3
//   shell reads a dump by lines, so a NUL would end the value (its own .dump cuts such
//   values there) and a CR before a line break would be dropped.
// - Blobs: X'hex'.
// - Identifiers: always "double-quoted", so keywords and odd names need no special case.

#include <cstdint>
#include <string>
#include <string_view>

namespace haul::exporter {

void append_integer(std::string& out, std::int64_t v);
void append_real(std::string& out, double v);
/// `text` in the database's encoding as UTF-8 bytes (sqlite3_column_text).
void append_text(std::string& out, std::string_view text);
/// CAST(X'…' AS TEXT): text given as the bytes of the database's encoding.
void append_text_cast(std::string& out, std::string_view encoded_bytes);
void append_blob(std::string& out, std::string_view bytes);
void append_identifier(std::string& out, std::string_view name);

inline std::string quoted_identifier(std::string_view name) {
  std::string s;
  append_identifier(s, name);
  return s;
}

} // namespace haul::exporter
