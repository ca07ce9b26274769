#pragma once

// Owning handles for SQLite connections and statements, and the few calls the export
// makes through them. Errors carry SQLite's message and the SQL that failed.

#include <memory>
#include <string>
#include <string_view>

#include <sqlite3.h>

#include "haul/expected.hpp"

namespace haul::exporter {

struct sqlite_closer {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct statement_finalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using sqlite_db = std::unique_ptr<sqlite3, sqlite_closer>;
using sqlite_statement = std::unique_ptr<sqlite3_stmt, statement_finalizer>;

/// Opens the database read-only (it must exist).
expected<sqlite_db> open_read_only(const std::string& path);

expected<sqlite_statement> prepare(sqlite3* db, std::string_view sql);

/// Runs statements that return no rows (BEGIN, COMMIT).
expected<void> execute(sqlite3* db, const std::string& sql);

/// An error naming what failed, with SQLite's own message.
error sqlite_error(sqlite3* db, std::string_view what);

/// Column i of the current row as bytes (text in UTF-8, or a blob).
inline std::string_view column_bytes(sqlite3_stmt* s, int i) {
  const void* p = sqlite3_column_type(s, i) == SQLITE_BLOB
                      ? sqlite3_column_blob(s, i)
                      : static_cast<const void*>(sqlite3_column_text(s, i));
  auto n = static_cast<std::size_t>(sqlite3_column_bytes(s, i));
  return p ? std::string_view(static_cast<const char*>(p), n) : std::string_view();
}

} // namespace haul::exporter
