#include "runtime/export/sqlite_handle.hpp"

namespace haul::exporter {

error sqlite_error(sqlite3* db, std::string_view what) {
  std::string msg(what);
  msg += ": ";
  msg += db ? sqlite3_errmsg(db) : "out of memory";
  return error{errc::failed_precondition, std::move(msg)};
}

expected<sqlite_db> open_read_only(const std::string& path) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  sqlite_db db(raw);
  if (rc != SQLITE_OK)
    return sqlite_error(raw, "cannot open SQLite database " + path);
  // Another process may be writing: wait for its lock rather than failing at once.
  sqlite3_busy_timeout(raw, 10'000);
  return db;
}

expected<sqlite_statement> prepare(sqlite3* db, std::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), 0, &raw, nullptr) !=
      SQLITE_OK)
    return sqlite_error(db, "cannot prepare '" + std::string(sql) + "'");
  return sqlite_statement(raw);
}

expected<void> execute(sqlite3* db, const std::string& sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string why = msg ? msg : "unknown error";
    sqlite3_free(msg);
    return error{errc::failed_precondition, sql + ": " + why};
  }
  return {};
}

} // namespace haul::exporter
