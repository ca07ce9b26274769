#pragma once

// Writes a database's dump as SQL text, piece by piece, from any position in it. A position
// is an item of the plan (header, a table, trailer) and, inside a table, the key of the last
// row written, so the next piece starts with `WHERE key > last` in key order: a dump resumed
// from a position is the same bytes as one that never stopped (given the same content).

#include <cstdint>
#include <string>
#include <vector>

#include "haul/expected.hpp"
#include "runtime/export/dump_plan.hpp"
#include "runtime/export/sqlite_handle.hpp"

namespace haul::exporter {

/// One value of a row's key: its SQLite type and value.
struct key_value {
  int type = SQLITE_NULL; ///< SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT or SQLITE_BLOB.
  std::int64_t integer = 0;
  double real = 0;
  std::string bytes; ///< Text (UTF-8) or blob.
  bool operator==(const key_value&) const = default;
};

struct dump_position {
  std::uint32_t item = 0;       ///< 0: header; 1..tables: a table; tables+1: trailer; then the end.
  bool in_rows = false;         ///< Inside a table: its preamble is written.
  std::vector<key_value> after; ///< Inside a table: the key of the last row written.
  std::uint64_t rows = 0;       ///< Rows written so far, over all tables.
  bool operator==(const dump_position&) const = default;
};

class dump_reader {
 public:
  /// `db` must stay inside the read transaction `plan` was read in, for the reader's life.
  dump_reader(sqlite3* db, const dump_plan& plan, dump_position from);

  /// Appends whole statements to `out` until it holds at least `target` bytes or the dump
  /// ends; returns false once the dump has ended.
  expected<bool> fill(std::string& out, std::size_t target);

  /// Where the text appended so far ends.
  const dump_position& position() const { return pos_; }
  std::uint32_t tables_done() const;
  std::uint32_t items() const { return static_cast<std::uint32_t>(plan_.tables.size()) + 2; }

 private:
  expected<void> open_rows(const table_plan& t);
  void append_row(std::string& out, const table_plan& t);
  void remember_key(const table_plan& t);
  void next_item();

  sqlite3* db_;
  const dump_plan& plan_;
  dump_position pos_;
  sqlite_statement rows_;
  int columns_ = 0;
};

} // namespace haul::exporter
