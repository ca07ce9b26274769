#include "runtime/export/dump_reader.hpp"

#include "runtime/export/sql_literal.hpp"

namespace haul::exporter {

dump_reader::dump_reader(sqlite3* db, const dump_plan& plan, dump_position from)
    : db_(db)
    , plan_(plan)
    , pos_(std::move(from)) {}

std::uint32_t dump_reader::tables_done() const {
  auto tables = static_cast<std::uint32_t>(plan_.tables.size());
  if (pos_.item == 0)
    return 0;
  return std::min(pos_.item - 1, tables);
}

void dump_reader::next_item() {
  ++pos_.item;
  pos_.in_rows = false;
  pos_.after.clear();
  rows_.reset();
}

expected<void> dump_reader::open_rows(const table_plan& t) {
  auto st = prepare(db_, pos_.after.empty() ? t.select : t.resume_select);
  if (!st)
    return st.error();
  for (std::size_t i = 0; i < pos_.after.size(); ++i) {
    const auto& k = pos_.after[i];
    int n = static_cast<int>(i) + 1;
    switch (k.type) {
    case SQLITE_INTEGER:
      sqlite3_bind_int64(st->get(), n, k.integer);
      break;
    case SQLITE_FLOAT:
      sqlite3_bind_double(st->get(), n, k.real);
      break;
    case SQLITE_TEXT:
      sqlite3_bind_text(st->get(), n, k.bytes.data(), static_cast<int>(k.bytes.size()),
                        SQLITE_TRANSIENT);
      break;
    case SQLITE_BLOB:
      sqlite3_bind_blob(st->get(), n, k.bytes.data(), static_cast<int>(k.bytes.size()),
                        SQLITE_TRANSIENT);
      break;
    default:
      sqlite3_bind_null(st->get(), n);
    }
  }
  rows_ = std::move(*st);
  columns_ = sqlite3_column_count(rows_.get());
  return {};
}

void dump_reader::append_row(std::string& out, const table_plan& t) {
  auto* s = rows_.get();
  out += t.insert_prefix;
  for (int i = 0; i < columns_; ++i) {
    if (i > 0)
      out += ',';
    switch (sqlite3_column_type(s, i)) {
    case SQLITE_INTEGER:
      append_integer(out, sqlite3_column_int64(s, i));
      break;
    case SQLITE_FLOAT:
      append_real(out, sqlite3_column_double(s, i));
      break;
    case SQLITE_TEXT: {
      auto text = column_bytes(s, i);
      if (plan_.utf16 &&
          text.find_first_of(std::string_view("\0\r", 2)) != std::string_view::npos) {
        // The cast reads bytes in the database's encoding: give it the UTF-16 ones.
        const auto* p = static_cast<const char*>(sqlite3_column_text16(s, i));
        append_text_cast(out, {p, static_cast<std::size_t>(sqlite3_column_bytes16(s, i))});
      } else {
        append_text(out, text);
      }
      break;
    }
    case SQLITE_BLOB:
      append_blob(out, column_bytes(s, i));
      break;
    default:
      out += "NULL";
    }
  }
  out += ");\n";
}

void dump_reader::remember_key(const table_plan& t) {
  auto* s = rows_.get();
  pos_.after.resize(t.key_columns.size());
  for (std::size_t i = 0; i < t.key_columns.size(); ++i) {
    auto c = t.key_columns[i];
    auto& k = pos_.after[i];
    k.type = sqlite3_column_type(s, c);
    k.integer = 0;
    k.real = 0;
    k.bytes.clear();
    if (k.type == SQLITE_INTEGER)
      k.integer = sqlite3_column_int64(s, c);
    else if (k.type == SQLITE_FLOAT)
      k.real = sqlite3_column_double(s, c);
    else if (k.type == SQLITE_TEXT || k.type == SQLITE_BLOB)
      k.bytes = std::string(column_bytes(s, c));
  }
}

expected<bool> dump_reader::fill(std::string& out, std::size_t target) {
  const auto tables = static_cast<std::uint32_t>(plan_.tables.size());
  while (out.size() < target) {
    if (pos_.item == 0) {
      out += plan_.header;
      next_item();
      continue;
    }
    if (pos_.item == tables + 1) {
      out += plan_.trailer;
      next_item();
      continue;
    }
    if (pos_.item > tables + 1)
      return false;
    const auto& t = plan_.tables[pos_.item - 1];
    if (!pos_.in_rows) {
      out += t.preamble;
      pos_.in_rows = true;
      if (!t.has_rows)
        next_item();
      continue;
    }
    if (!rows_)
      if (auto ok = open_rows(t); !ok)
        return ok.error();
    int rc;
    while ((rc = sqlite3_step(rows_.get())) == SQLITE_ROW) {
      append_row(out, t);
      ++pos_.rows;
      if (out.size() >= target)
        break;
    }
    if (rc == SQLITE_ROW) {
      remember_key(t); // before the next step moves the statement on
      return true;
    }
    if (rc != SQLITE_DONE)
      return sqlite_error(db_, "cannot read table " + t.name);
    next_item();
  }
  return pos_.item <= tables + 1;
}

} // namespace haul::exporter
