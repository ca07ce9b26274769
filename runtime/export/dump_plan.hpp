#pragma once

// What a dump of one SQLite database consists of, read from its schema inside the export's
// read transaction: a header, one item per table (its CREATE statement, then its rows in key
// order), and a trailer (indexes, views, triggers, COMMIT). The plan fixes the order of
// everything, so two dumps of the same content are the same bytes.

#include <cstdint>
#include <string>
#include <vector>

#include "haul/expected.hpp"

struct sqlite3;

namespace haul::exporter {

struct table_plan {
  std::string name;
  /// Statements before the rows: CREATE TABLE, or what a special table needs
  /// (DELETE FROM sqlite_sequence; ANALYZE sqlite_schema; a virtual table's schema row).
  std::string preamble;
  /// SELECT of the key (when not among the columns) then the columns, in key order; with
  /// `resume_select`, only rows after the bound key.
  std::string select;
  std::string resume_select;
  std::string insert_prefix; ///< INSERT INTO "t"(…) VALUES(
  /// Result columns of `select` that form the key, in key order.
  std::vector<int> key_columns;
  bool has_rows = true; ///< False for virtual tables (their rows live in shadow tables).
  /// A rowid table's max(rowid) - min(rowid) + 1: its rows if none was deleted, in two
  /// b-tree seeks. Empty for a WITHOUT ROWID table, whose rows only a scan would count.
  std::string row_span;
};

struct dump_plan {
  bool utf16 = false; ///< The database stores text in UTF-16 (PRAGMA encoding).
  std::string header;
  std::vector<table_plan> tables;
  std::string trailer;
  /// FNV-1a of every statement of the schema: a resumed export checks it is unchanged.
  std::string schema_digest;
};

/// The rows the dump will have, estimated from the tables' rowid spans (high when rows were
/// deleted); 0 when a table with rows has no rowid, so no cheap estimate exists.
/// `db` must be inside the read transaction the plan was read in.
expected<std::uint64_t> estimate_rows(sqlite3* db, const dump_plan& plan);

/// Reads the plan through `db`, which must be inside a read transaction.
/// Fails with invalid_argument for a database it cannot dump exactly (it says why).
expected<dump_plan> read_dump_plan(sqlite3* db);

} // namespace haul::exporter
