#include "sqlite_fixture.hpp"

#include <bit>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <sqlite3.h>
#include <zlib.h>
#include <zstd.h>

namespace haul::test {

namespace {

class database {
 public:
  explicit database(const std::filesystem::path& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK)
      throw std::runtime_error("cannot open " + path.string());
  }
  ~database() { sqlite3_close(db_); }
  database(const database&) = delete;
  database& operator=(const database&) = delete;

  void exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string why = err ? err : "?";
      sqlite3_free(err);
      throw std::runtime_error(sql.substr(0, 200) + ": " + why);
    }
  }

  /// Runs a statement with one bound text argument per element of `texts`.
  void insert(const std::string& sql, const std::vector<std::string>& blobs_or_texts,
              bool as_blob) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK)
      throw std::runtime_error(sql + ": " + sqlite3_errmsg(db_));
    for (std::size_t i = 0; i < blobs_or_texts.size(); ++i) {
      const auto& v = blobs_or_texts[i];
      int n = static_cast<int>(i) + 1;
      if (as_blob)
        sqlite3_bind_blob(s, n, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
      else
        sqlite3_bind_text(s, n, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    }
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
      throw std::runtime_error(sql + ": " + sqlite3_errmsg(db_));
  }

  void insert_real(const std::string& sql, double v) {
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr);
    sqlite3_bind_double(s, 1, v);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
      throw std::runtime_error(sql + ": " + sqlite3_errmsg(db_));
  }

  sqlite3* get() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

void append_value(std::string& out, sqlite3_stmt* s, int i) {
  switch (sqlite3_column_type(s, i)) {
  case SQLITE_INTEGER:
    out += "i:" + std::to_string(sqlite3_column_int64(s, i));
    break;
  case SQLITE_FLOAT:
    out += "r:" + std::to_string(std::bit_cast<std::uint64_t>(sqlite3_column_double(s, i)));
    break;
  case SQLITE_TEXT: {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
    out += "t:" + std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s, i)));
    break;
  }
  case SQLITE_BLOB: {
    auto* p = static_cast<const char*>(sqlite3_column_blob(s, i));
    out += "b:" + std::string(p ? p : "", static_cast<std::size_t>(sqlite3_column_bytes(s, i)));
    break;
  }
  default:
    out += "n";
  }
  out += '|';
}

std::vector<std::vector<std::string>> rows_of(sqlite3* db, const std::string& sql,
                                              std::string* dump_into = nullptr) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) != SQLITE_OK)
    throw std::runtime_error(sql + ": " + sqlite3_errmsg(db));
  std::vector<std::vector<std::string>> rows;
  while (sqlite3_step(s) == SQLITE_ROW) {
    if (dump_into) {
      for (int i = 0; i < sqlite3_column_count(s); ++i)
        append_value(*dump_into, s, i);
      *dump_into += '\n';
      continue;
    }
    std::vector<std::string> row;
    for (int i = 0; i < sqlite3_column_count(s); ++i) {
      auto* p = sqlite3_column_text(s, i);
      row.emplace_back(p ? reinterpret_cast<const char*>(p) : "");
    }
    rows.push_back(std::move(row));
  }
  sqlite3_finalize(s);
  return rows;
}

std::string quoted(const std::string& name) {
  std::string q = "\"";
  for (char c : name) {
    q += c;
    if (c == '"')
      q += '"';
  }
  return q + "\"";
}

} // namespace

void make_hard_case_db(const std::filesystem::path& path, std::uint64_t bulk_rows) {
  using namespace std::string_literals;
  database db(path);
  db.exec("PRAGMA user_version = 7; PRAGMA application_id = 1213613388;");
  db.exec("CREATE TABLE hard(id INTEGER PRIMARY KEY, i INTEGER, r REAL, t TEXT, b BLOB, any)");
  db.exec("INSERT INTO hard VALUES(1, -9223372036854775808, NULL, NULL, NULL, NULL)");
  db.exec("INSERT INTO hard VALUES(2, 9223372036854775807, 1e999, '', x'', 0)");
  db.exec("INSERT INTO hard VALUES(3, 0, -1e999, 'it''s a \"quote\"', zeroblob(4), -0.0)");
  int id = 4;
  for (double v : {0.1, 1.0 / 3, 8.651472899065772e-308, 4.9406564584124654e-324,
                   2.2250738585072014e-308, 1.7976931348623157e308, -2.5, 1e22, 123456.789}) {
    db.insert_real("INSERT INTO hard(id, r) VALUES(" + std::to_string(id++) + ", ?1)", v);
  }
  for (const auto& t : {"line\nbreak\r\nand\ttab"s, "ünïcødé ✓ 日本 😀"s, "nul\0inside"s, "\0"s,
                        "ends with nul\0"s, "'; DROP TABLE hard; --"s}) {
    db.insert("INSERT INTO hard(id, t) VALUES(" + std::to_string(id++) + ", ?1)", {t}, false);
  }
  db.insert("INSERT INTO hard(id, b) VALUES(" + std::to_string(id++) + ", ?1)",
            {"\0\xff\x01 binary\0"s}, true);
  db.exec("CREATE TABLE \"odd \"\"name\"\" ✓\"(\"select\" TEXT, \"from\" INTEGER, v, "
          "PRIMARY KEY(\"select\", \"from\")) WITHOUT ROWID");
  db.exec("INSERT INTO \"odd \"\"name\"\" ✓\" VALUES('a', 2, 'x'), ('a', 1, x'00'), "
          "('b', -5, 3.5), ('', 0, NULL)");
  db.exec("CREATE TABLE implicit_rowid(a TEXT, b)");
  db.exec("INSERT INTO implicit_rowid(rowid, a, b) VALUES(-7, 'neg', 1), (1000000, 'big', 2), "
          "(3, 'mid', NULL)");
  db.exec("CREATE TABLE generated(a INTEGER, b INTEGER GENERATED ALWAYS AS (a * 2) STORED, "
          "c TEXT GENERATED ALWAYS AS ('v' || a) VIRTUAL)");
  db.exec("INSERT INTO generated(a) VALUES(1), (2), (NULL)");
  db.exec("CREATE TABLE counter(id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT)");
  db.exec("INSERT INTO counter(v) VALUES('one'), ('two'); DELETE FROM counter WHERE v = 'two'");
  db.exec("CREATE TABLE bulk(id INTEGER PRIMARY KEY, payload TEXT, n REAL)");
  db.exec("CREATE INDEX hard_t ON hard(t)");
  db.exec("CREATE VIEW hard_texts AS SELECT id, t FROM hard WHERE t IS NOT NULL");
  db.exec("CREATE TRIGGER counter_touch AFTER INSERT ON counter BEGIN "
          "UPDATE counter SET v = v || '!' WHERE id = new.id; END");
  db.exec("BEGIN");
  // Filler that compresses about as well as real data: varied, not random.
  db.exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " +
          std::to_string(bulk_rows) +
          ") INSERT INTO bulk SELECT i, printf('row %d of the bulk table, %s', i, "
          "hex(randomblob(24))), i / 7.0 FROM n");
  db.exec("COMMIT");
}

void add_bulk_row(const std::filesystem::path& path) {
  database db(path);
  db.exec("INSERT INTO bulk(payload, n) VALUES('added later', 0.5)");
}

std::string content_of(const std::filesystem::path& path) {
  database db(path);
  std::string out;
  rows_of(db.get(), "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name",
          &out);
  rows_of(db.get(), "PRAGMA user_version", &out);
  rows_of(db.get(), "PRAGMA application_id", &out);
  auto tables = rows_of(db.get(), "SELECT name, sql LIKE '%WITHOUT ROWID' FROM sqlite_schema "
                                  "WHERE type = 'table' ORDER BY name");
  for (const auto& t : tables) {
    out += "table " + t[0] + "\n";
    auto q = quoted(t[0]);
    if (t[1] == "1") { // WITHOUT ROWID: its primary key orders it
      auto pk = rows_of(db.get(), "SELECT name FROM pragma_table_info(" + std::string("'") + t[0] +
                                      "'" + ") WHERE pk > 0 ORDER BY pk");
      std::string order;
      for (const auto& c : pk)
        order += (order.empty() ? "" : ",") + quoted(c[0]);
      rows_of(db.get(), "SELECT * FROM " + q + " ORDER BY " + order, &out);
    } else {
      rows_of(db.get(), "SELECT rowid, * FROM " + q + " ORDER BY rowid", &out);
    }
  }
  return out;
}

std::string restore_with_shell(const std::filesystem::path& dump, const std::filesystem::path& db) {
  auto err = db.string() + ".stderr";
  auto cmd = "sqlite3 -bail '" + db.string() + "' < '" + dump.string() + "' 2> '" + err + "'";
  int rc = std::system(cmd.c_str());
  auto text = read_binary(err);
  if (rc != 0 && text.empty())
    text = "sqlite3 exited with status " + std::to_string(rc);
  return rc == 0 ? std::string() : text;
}

std::string gunzip(const std::string& bytes) {
  std::string out;
  z_stream z{};
  // 32 + 15: detect the gzip header; reset after each member to read the next one.
  if (inflateInit2(&z, 32 + 15) != Z_OK)
    throw std::runtime_error("inflateInit2");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  char buf[65536];
  for (;;) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    int rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
    if (rc == Z_STREAM_END) {
      if (z.avail_in == 0)
        break;
      inflateReset(&z);
      continue;
    }
    if (rc != Z_OK) {
      inflateEnd(&z);
      throw std::runtime_error("not valid gzip");
    }
  }
  inflateEnd(&z);
  return out;
}

std::string unzstd(const std::string& bytes) {
  std::string out;
  auto* d = ZSTD_createDCtx();
  ZSTD_inBuffer in{bytes.data(), bytes.size(), 0};
  std::vector<char> buf(ZSTD_DStreamOutSize());
  std::size_t last = 1;
  for (;;) {
    ZSTD_outBuffer o{buf.data(), buf.size(), 0};
    last = ZSTD_decompressStream(d, &o, &in);
    if (ZSTD_isError(last)) {
      ZSTD_freeDCtx(d);
      throw std::runtime_error(std::string("not valid zstd: ") + ZSTD_getErrorName(last));
    }
    out.append(buf.data(), o.pos);
    if (in.pos == in.size && o.pos < o.size)
      break; // all input read and nothing more held back
  }
  ZSTD_freeDCtx(d);
  if (last != 0)
    throw std::runtime_error("zstd: the last frame is cut short");
  return out;
}

std::string read_binary(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

} // namespace haul::test
