#include "runtime/export/dump_plan.hpp"

#include <algorithm>
#include <cctype>

#include "runtime/export/sql_literal.hpp"
#include "runtime/export/sqlite_handle.hpp"

namespace haul::exporter {

namespace {

struct schema_row {
  std::string type, name, sql;
};

struct column {
  std::string name;
  std::string type;
  int pk = 0; ///< Position in the primary key, 1-based; 0 when not part of it.
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string text_of(sqlite3_stmt* s, int i) {
  const auto* p = sqlite3_column_text(s, i);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<std::size_t>(sqlite3_column_bytes(s, i)))
           : std::string();
}

expected<std::vector<schema_row>> schema_rows(sqlite3* db) {
  auto st = prepare(db, "SELECT type, name, sql FROM main.sqlite_schema WHERE sql IS NOT NULL "
                        "ORDER BY name = 'sqlite_sequence', rowid");
  if (!st)
    return st.error();
  std::vector<schema_row> rows;
  int rc;
  while ((rc = sqlite3_step(st->get())) == SQLITE_ROW)
    rows.push_back({text_of(st->get(), 0), text_of(st->get(), 1), text_of(st->get(), 2)});
  if (rc != SQLITE_DONE)
    return sqlite_error(db, "cannot read the schema");
  return rows;
}

/// The columns an INSERT sets: not hidden, not generated (PRAGMA table_xinfo's hidden = 0).
expected<std::vector<column>> stored_columns(sqlite3* db, const std::string& table) {
  auto st = prepare(db, "SELECT name, type, pk, hidden FROM pragma_table_xinfo(?1, 'main') "
                        "ORDER BY cid");
  if (!st)
    return st.error();
  sqlite3_bind_text(st->get(), 1, table.data(), static_cast<int>(table.size()), SQLITE_STATIC);
  std::vector<column> cols;
  int rc;
  while ((rc = sqlite3_step(st->get())) == SQLITE_ROW)
    if (sqlite3_column_int(st->get(), 3) == 0)
      cols.push_back(
          {text_of(st->get(), 0), text_of(st->get(), 1), sqlite3_column_int(st->get(), 2)});
  if (rc != SQLITE_DONE)
    return sqlite_error(db, "cannot read the columns of table " + table);
  return cols;
}

expected<bool> single_value(sqlite3* db, const std::string& sql, const std::string& arg) {
  auto st = prepare(db, sql);
  if (!st)
    return st.error();
  sqlite3_bind_text(st->get(), 1, arg.data(), static_cast<int>(arg.size()), SQLITE_STATIC);
  int rc = sqlite3_step(st->get());
  if (rc == SQLITE_ROW)
    return sqlite3_column_int(st->get(), 0) != 0;
  if (rc == SQLITE_DONE)
    return false;
  return sqlite_error(db, "cannot inspect table " + arg);
}

expected<std::int64_t> pragma_integer(sqlite3* db, const std::string& name) {
  auto st = prepare(db, "PRAGMA main." + name);
  if (!st)
    return st.error();
  if (sqlite3_step(st->get()) != SQLITE_ROW)
    return sqlite_error(db, "cannot read PRAGMA " + name);
  return static_cast<std::int64_t>(sqlite3_column_int64(st->get(), 0));
}

expected<table_plan> plan_table(sqlite3* db, const schema_row& row) {
  table_plan t;
  t.name = row.name;
  const auto q = quoted_identifier(row.name);
  if (lower(row.sql).starts_with("create virtual table")) {
    // As sqlite3's .dump: a virtual table's schema row goes in directly, so that creating it
    // does not also create (and fill) its shadow tables, which are dumped as tables.
    t.preamble = "PRAGMA writable_schema=ON;\n"
                 "INSERT INTO sqlite_schema(type,name,tbl_name,rootpage,sql) VALUES('table',";
    append_text(t.preamble, row.name);
    t.preamble += ',';
    append_text(t.preamble, row.name);
    t.preamble += ",0,";
    append_text(t.preamble, row.sql);
    t.preamble += ");\nPRAGMA writable_schema=OFF;\n";
    t.has_rows = false;
    return t;
  }
  if (row.name == "sqlite_sequence")
    t.preamble = "DELETE FROM sqlite_sequence;\n";
  else if (row.name == "sqlite_stat1")
    t.preamble = "ANALYZE sqlite_schema;\n";
  else
    t.preamble = row.sql + ";\n";

  auto cols = stored_columns(db, row.name);
  if (!cols)
    return cols.error();
  auto without_rowid =
      single_value(db, "SELECT wr FROM pragma_table_list(?1) WHERE schema = 'main'", row.name);
  if (!without_rowid)
    return without_rowid.error();

  std::vector<int> pk; // indexes into cols, in key order
  for (int i = 0; i < static_cast<int>(cols->size()); ++i)
    if ((*cols)[i].pk > 0)
      pk.push_back(i);
  std::sort(pk.begin(), pk.end(), [&](int a, int b) { return (*cols)[a].pk < (*cols)[b].pk; });

  std::string key_expr;      // selected before the columns when the key is not one of them
  bool separate_key = false; // the rowid is selected first, before the columns
  if (*without_rowid) {
    if (pk.empty())
      return make_error(errc::invalid_argument, "table " + row.name +
                                                    ": WITHOUT ROWID with no "
                                                    "primary key");
    t.key_columns = pk;
  } else {
    // An INTEGER PRIMARY KEY column is the rowid itself, unless declared DESC (then SQLite
    // keeps a separate index for it, which is how the two cases are told apart).
    auto pk_index = single_value(
        db, "SELECT count(*) FROM pragma_index_list(?1, 'main') WHERE origin = 'pk'", row.name);
    if (!pk_index)
      return pk_index.error();
    if (pk.size() == 1 && lower((*cols)[pk[0]].type) == "integer" && !*pk_index) {
      t.key_columns = {pk[0]};
    } else {
      for (const char* alias : {"rowid", "_rowid_", "oid"}) {
        bool shadowed = std::any_of(cols->begin(), cols->end(),
                                    [&](const column& c) { return lower(c.name) == alias; });
        if (!shadowed) {
          key_expr = alias;
          break;
        }
      }
      if (key_expr.empty())
        return make_error(errc::invalid_argument,
                          "table " + row.name +
                              ": columns named rowid, _rowid_ and oid hide its rowids, so they "
                              "cannot be exported exactly");
      separate_key = true;
      t.key_columns = {0};
    }
  }
  auto hidden = single_value(
      db, "SELECT count(*) FROM pragma_table_xinfo(?1, 'main') WHERE hidden != 0", row.name);
  if (!hidden)
    return hidden.error();
  // The column list is needed when the INSERT sets the rowid or skips generated columns.
  const bool list_columns = separate_key || *hidden;
  std::string select_list = key_expr;
  t.insert_prefix = "INSERT INTO " + q + (list_columns ? "(" : "");
  if (!key_expr.empty())
    t.insert_prefix += key_expr;
  for (std::size_t i = 0; i < cols->size(); ++i) {
    if (!select_list.empty())
      select_list += ',';
    append_identifier(select_list, (*cols)[i].name);
    if (!list_columns)
      continue;
    if (i > 0 || !key_expr.empty())
      t.insert_prefix += ',';
    append_identifier(t.insert_prefix, (*cols)[i].name);
  }
  t.insert_prefix += list_columns ? ") VALUES(" : " VALUES(";

  std::string key_list, params;
  for (std::size_t i = 0; i < t.key_columns.size(); ++i) {
    if (i > 0) {
      key_list += ',';
      params += ',';
    }
    if (separate_key)
      key_list += key_expr;
    else
      append_identifier(key_list, (*cols)[t.key_columns[i]].name);
    params += "?" + std::to_string(i + 1);
  }
  const auto from = " FROM main." + q;
  const auto order = " ORDER BY " + key_list;
  t.select = "SELECT " + select_list + from + order;
  if (!*without_rowid)
    t.row_span = "SELECT (SELECT max(" + key_list + ")" + from + ") - (SELECT min(" + key_list +
                 ")" + from + ") + 1";
  t.resume_select =
      "SELECT " + select_list + from + " WHERE (" + key_list + ") > (" + params + ")" + order;
  return t;
}

std::string fnv_hex(std::string_view text, std::uint64_t h) {
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  static const char* digits = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4)
    out[static_cast<std::size_t>(i)] = digits[h & 15];
  return out;
}

} // namespace

expected<std::uint64_t> estimate_rows(sqlite3* db, const dump_plan& plan) {
  std::uint64_t rows = 0;
  for (const auto& t : plan.tables) {
    if (!t.has_rows)
      continue;
    if (t.row_span.empty())
      return std::uint64_t{0};
    auto st = prepare(db, t.row_span);
    if (!st)
      return st.error();
    if (sqlite3_step(st->get()) != SQLITE_ROW)
      return sqlite_error(db, "cannot measure table " + t.name);
    // NULL for an empty table; a span past 2^63 (rowids at both ends) counts as unknown.
    if (sqlite3_column_type(st->get(), 0) == SQLITE_INTEGER)
      rows += static_cast<std::uint64_t>(
          std::max<sqlite3_int64>(0, sqlite3_column_int64(st->get(), 0)));
    else if (sqlite3_column_type(st->get(), 0) != SQLITE_NULL)
      return std::uint64_t{0};
  }
  return rows;
}

expected<dump_plan> read_dump_plan(sqlite3* db) {
  auto rows = schema_rows(db);
  if (!rows)
    return rows.error();
  dump_plan plan;
  std::string all_schema;
  auto encoding = prepare(db, "PRAGMA main.encoding");
  if (!encoding)
    return encoding.error();
  std::string enc = sqlite3_step(encoding->get()) == SQLITE_ROW ? text_of(encoding->get(), 0) : "";
  plan.header = "PRAGMA foreign_keys=OFF;\n";
  plan.utf16 = enc != "UTF-8";
  if (plan.utf16) // set before anything exists in the new database
    plan.header += "PRAGMA encoding='" + enc + "';\n";
  plan.header += "BEGIN TRANSACTION;\n";

  std::string objects;
  for (const auto& r : *rows) {
    all_schema += r.type + '\0' + r.name + '\0' + r.sql + '\0';
    if (r.type == "table") {
      if (r.name.starts_with("sqlite_") && r.name != "sqlite_sequence" && r.name != "sqlite_stat1")
        continue; // internal tables SQLite rebuilds itself (sqlite_stat4 needs ANALYZE)
      auto t = plan_table(db, r);
      if (!t)
        return t.error();
      plan.tables.push_back(std::move(*t));
    } else {
      objects += r.sql + ";\n";
    }
  }
  plan.trailer = std::move(objects);
  for (const char* pragma : {"user_version", "application_id"}) {
    auto v = pragma_integer(db, pragma);
    if (!v)
      return v.error();
    all_schema += std::string(pragma) + '=' + std::to_string(*v) + '\0';
    if (*v != 0)
      plan.trailer += "PRAGMA " + std::string(pragma) + "=" + std::to_string(*v) + ";\n";
  }
  plan.trailer += "COMMIT;\n";
  plan.schema_digest = fnv_hex(all_schema, 0xcbf29ce484222325ull);
  return plan;
}

} // namespace haul::exporter
