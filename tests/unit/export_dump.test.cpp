// The export's SQL text, resumable dump and settings: checked against SQLite itself.

#include <bit>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

#include <boost/test/unit_test.hpp>

#include "runtime/export/dump_plan.hpp"
#include "runtime/export/dump_reader.hpp"
#include "runtime/export/export_checkpoint.hpp"
#include "runtime/export/export_config.hpp"
#include "runtime/export/export_target.hpp"
#include "runtime/export/source_snapshot.hpp"
#include "runtime/export/sql_literal.hpp"

using namespace haul;
using namespace haul::exporter;

namespace {

struct memory_db {
  sqlite3* db = nullptr;
  memory_db() { sqlite3_open(":memory:", &db); }
  ~memory_db() { sqlite3_close(db); }

  /// The value SQLite makes of `literal` in a SELECT, as (type, bytes of the value).
  std::pair<int, std::string> eval(const std::string& literal) {
    sqlite3_stmt* s = nullptr;
    auto sql = "SELECT " + literal;
    BOOST_REQUIRE_MESSAGE(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK,
                          sql << ": " << sqlite3_errmsg(db));
    BOOST_REQUIRE(sqlite3_step(s) == SQLITE_ROW);
    int type = sqlite3_column_type(s, 0);
    std::string bytes;
    if (type == SQLITE_FLOAT) {
      auto bits = std::bit_cast<std::uint64_t>(sqlite3_column_double(s, 0));
      bytes = std::to_string(bits);
    } else if (type == SQLITE_INTEGER) {
      bytes = std::to_string(sqlite3_column_int64(s, 0));
    } else if (type != SQLITE_NULL) {
      bytes = std::string(column_bytes(s, 0));
    }
    sqlite3_finalize(s);
    return {type, bytes};
  }

  void exec(const std::string& sql) {
    char* err = nullptr;
    BOOST_REQUIRE_MESSAGE(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) == SQLITE_OK,
                          sql << ": " << (err ? err : ""));
  }
};

std::string real_text(double v) {
  std::string s;
  append_real(s, v);
  return s;
}

void check_real(memory_db& m, double v) {
  auto text = real_text(v);
  auto [type, bits] = m.eval(text);
  BOOST_TEST_REQUIRE(type == SQLITE_FLOAT, text);
  BOOST_TEST(bits == std::to_string(std::bit_cast<std::uint64_t>(v)),
             text << " came back as another double");
}

std::filesystem::path temp_db(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("haul-unit-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto p = dir / name;
  std::filesystem::remove(p);
  return p;
}

} // namespace

BOOST_AUTO_TEST_SUITE(export_sql_text)

BOOST_AUTO_TEST_CASE(reals_come_back_bit_for_bit_from_sqlite) {
  memory_db m;
  const double edges[] = {0.1,
                          1.0,
                          2.5,
                          100.0,
                          1e16,
                          1e17,
                          123456789012345680.0,
                          -0.0,
                          0.0,
                          std::numeric_limits<double>::max(),
                          std::numeric_limits<double>::lowest(),
                          std::numeric_limits<double>::min(),
                          std::numeric_limits<double>::denorm_min(),
                          -std::numeric_limits<double>::denorm_min(),
                          8.651472899065772e-308, // SQLite 3.40 misreads its shortest form
                          1e-290,
                          9.99e-291,
                          std::nextafter(1e-290, 0.0),
                          5e-324,
                          2.2250738585072009e-308,
                          1.7976931348623157e308};
  for (double v : edges)
    check_real(m, v);
  // Random bit patterns cover every exponent, subnormals included.
  std::mt19937_64 rng(20261123);
  for (int i = 0; i < 200'000; ++i) {
    auto v = std::bit_cast<double>(rng());
    if (std::isfinite(v))
      check_real(m, v);
  }
}

BOOST_AUTO_TEST_CASE(reals_are_written_short_and_read_as_reals) {
  BOOST_TEST(real_text(2.5) == "2.5");
  BOOST_TEST(real_text(1.0) == "1.0");
  BOOST_TEST(real_text(100.0) == "100.0");
  BOOST_TEST(real_text(0.1) == "0.10000000000000001");
  BOOST_TEST(real_text(-1e22) == "-1e22");
  BOOST_TEST(real_text(1e-7) == "9.9999999999999995e-8");
  BOOST_TEST(real_text(std::numeric_limits<double>::infinity()) == "1e999");
  BOOST_TEST(real_text(-std::numeric_limits<double>::infinity()) == "-1e999");
  memory_db m;
  for (double v : {1.0, 100.0, 1e17, -3.0})
    BOOST_TEST(m.eval(real_text(v)).first == SQLITE_FLOAT);
}

BOOST_AUTO_TEST_CASE(integers_cover_the_full_64_bit_range) {
  memory_db m;
  for (std::int64_t v :
       {std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max(),
        std::int64_t{0}, std::int64_t{-1}}) {
    std::string s;
    append_integer(s, v);
    auto [type, text] = m.eval(s);
    BOOST_TEST(type == SQLITE_INTEGER, s);
    BOOST_TEST(text == std::to_string(v));
  }
}

BOOST_AUTO_TEST_CASE(text_keeps_quotes_newlines_unicode_and_nul_bytes) {
  memory_db m;
  using namespace std::string_literals;
  for (const auto& v : {"it's"s, "line\nbreak\r\n"s, "ünïcødé ✓ 😀"s, ""s, "a\0b"s, "\0"s, "''"s,
                        "x\0'\n"s, "crlf\r\nline"s, "\r"s}) {
    std::string s;
    append_text(s, v);
    auto [type, bytes] = m.eval(s);
    BOOST_TEST(type == SQLITE_TEXT, s);
    BOOST_TEST(bytes == v, s);
  }
}

BOOST_AUTO_TEST_CASE(blobs_and_identifiers) {
  memory_db m;
  std::string bytes("\x00\xff\x10 z", 5);
  std::string s;
  append_blob(s, bytes);
  BOOST_TEST(s == "X'00ff10207a'");
  BOOST_TEST(m.eval(s).second == bytes);
  BOOST_TEST(m.eval("X''").first == SQLITE_BLOB);
  m.exec("CREATE TABLE " + quoted_identifier("se\"lect") + "(" + quoted_identifier("from") + ")");
  m.exec("INSERT INTO \"se\"\"lect\" VALUES(1)");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(export_dump_resume)

// Reading the dump in pieces and starting a new reader at every piece's end position gives
// the same text as one reader that never stopped: the property a resumed export rests on.
BOOST_AUTO_TEST_CASE(a_dump_resumed_at_any_piece_boundary_is_the_same_text) {
  auto path = temp_db("resume.db");
  {
    memory_db m; // only for exec; the data goes to the file
    sqlite3_close(m.db);
    sqlite3_open(path.c_str(), &m.db);
    m.exec("CREATE TABLE a(id INTEGER PRIMARY KEY, v TEXT);"
           "CREATE TABLE b(k TEXT, n REAL, PRIMARY KEY(k, n)) WITHOUT ROWID;"
           "CREATE TABLE c(x, y);"
           "CREATE TABLE empty(z);"
           "CREATE INDEX ci ON c(x);");
    m.exec("BEGIN");
    for (int i = 0; i < 3000; ++i) {
      m.exec("INSERT INTO a VALUES(" + std::to_string(i * 7) + ", 'row " + std::to_string(i) +
             "')");
      m.exec("INSERT INTO b VALUES('k" + std::to_string(i % 50) + "', " + std::to_string(i) +
             ".25)");
      m.exec("INSERT INTO c(rowid, x, y) VALUES(" + std::to_string(i * 3 + 1) + ", x'0102', " +
             std::to_string(i) + ")");
    }
    m.exec("COMMIT");
  }
  auto whole_snapshot = open_snapshot(path.string());
  BOOST_REQUIRE(whole_snapshot);
  std::string whole;
  dump_reader all(whole_snapshot->db.get(), whole_snapshot->plan, {});
  while (*all.fill(whole, 1 << 30)) {
  }
  BOOST_TEST(whole.find("CREATE TABLE empty(z);") != std::string::npos);
  BOOST_TEST(whole.ends_with("CREATE INDEX ci ON c(x);\nCOMMIT;\n"));

  for (std::size_t piece : {1000u, 4096u, 30000u}) {
    std::string stitched;
    dump_position at;
    for (bool more = true; more;) {
      auto snap = open_snapshot(path.string()); // a fresh reader, as after a kill
      BOOST_REQUIRE(snap);
      dump_reader r(snap->db.get(), snap->plan, at);
      std::string text;
      auto got = r.fill(text, piece);
      BOOST_REQUIRE(got);
      more = *got;
      stitched += text;
      at = r.position();
    }
    BOOST_TEST(stitched == whole, "pieces of " << piece);
    BOOST_TEST(at.rows == 9000u);
  }
}

BOOST_AUTO_TEST_CASE(rows_are_estimated_from_rowid_spans_in_two_seeks_a_table) {
  auto path = temp_db("estimate.db");
  {
    memory_db m;
    sqlite3_close(m.db);
    sqlite3_open(path.c_str(), &m.db);
    m.exec("CREATE TABLE a(id INTEGER PRIMARY KEY, v TEXT);" // the rowid is a column
           "CREATE TABLE c(x, y);"                           // a plain rowid
           "CREATE TABLE empty(z);");
    m.exec("BEGIN");
    for (int i = 1; i <= 1000; ++i) {
      m.exec("INSERT INTO a VALUES(" + std::to_string(i + 100) + ", 'v')");
      m.exec("INSERT INTO c(rowid, x, y) VALUES(" + std::to_string(i) + ", 1, 2)");
    }
    m.exec("DELETE FROM c WHERE rowid BETWEEN 2 AND 501"); // a hole: the estimate stays high
    m.exec("COMMIT");
  }
  auto snap = open_snapshot(path.string());
  BOOST_REQUIRE(snap);
  auto rows = estimate_rows(snap->db.get(), snap->plan);
  BOOST_REQUIRE(rows);
  BOOST_TEST(*rows == 2000u); // 1000 of a, c's span of 1000 though 500 are left, none of empty
}

BOOST_AUTO_TEST_CASE(a_without_rowid_table_leaves_the_estimate_unknown) {
  auto path = temp_db("estimate-wr.db");
  {
    memory_db m;
    sqlite3_close(m.db);
    sqlite3_open(path.c_str(), &m.db);
    m.exec("CREATE TABLE a(id INTEGER PRIMARY KEY);"
           "CREATE TABLE b(k TEXT PRIMARY KEY) WITHOUT ROWID;"
           "INSERT INTO a VALUES(1); INSERT INTO b VALUES('x');");
  }
  auto snap = open_snapshot(path.string());
  BOOST_REQUIRE(snap);
  auto rows = estimate_rows(snap->db.get(), snap->plan);
  BOOST_REQUIRE(rows);
  BOOST_TEST(*rows == 0u);
}

BOOST_AUTO_TEST_CASE(progress_follows_rows_against_the_estimate_else_whole_tables) {
  export_checkpoint c;
  c.tables = 4;
  c.tables_done = 1;
  c.position.rows = 250;
  BOOST_TEST(c.progress() == 0.25); // no estimate: one table of four
  BOOST_TEST(c.eta_ms(1000) == -1);
  c.rows_estimate = 1000;
  BOOST_TEST(c.progress() == 0.25); // 250 of 1000 rows
  c.parts = {{"", 500}};
  // 500 bytes hold a quarter of the dump: 1500 more, at 1000 B/s.
  BOOST_TEST(c.eta_ms(1000) == 1500);
  c.position.rows = 1200; // more rows than estimated: never "done" before it is
  BOOST_TEST(c.progress() < 1.0);
  c.complete = true;
  BOOST_TEST(c.progress() == 1.0);
  BOOST_TEST(c.eta_ms(1000) == 0);
}

BOOST_AUTO_TEST_CASE(the_fingerprint_changes_with_every_commit) {
  auto path = temp_db("fp.db");
  memory_db m;
  sqlite3_close(m.db);
  sqlite3_open(path.c_str(), &m.db);
  m.exec("CREATE TABLE t(x)");
  auto first = source_fingerprint(path.string());
  m.exec("INSERT INTO t VALUES(1)");
  auto second = source_fingerprint(path.string());
  m.exec("UPDATE t SET x = 2");
  auto third = source_fingerprint(path.string());
  BOOST_REQUIRE(first && second && third);
  BOOST_TEST(*first != *second);
  BOOST_TEST(*second != *third);
  BOOST_TEST(*third == *source_fingerprint(path.string()));
  m.exec("PRAGMA journal_mode=WAL");
  auto wal1 = source_fingerprint(path.string());
  m.exec("UPDATE t SET x = 3");
  auto wal2 = source_fingerprint(path.string());
  BOOST_TEST(*wal1 != *wal2);
  BOOST_TEST(!source_fingerprint((path.string() + ".missing")));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(export_settings)

BOOST_AUTO_TEST_CASE(a_file_export_with_defaults) {
  auto c = parse_export_config({{"source", "/d/app.db"}, {"target", "file:///var/b/dump%20x.sql"}});
  BOOST_REQUIRE(c);
  BOOST_TEST(c->file_path == "/var/b/dump x.sql");
  BOOST_TEST(partial_path(*c) == "/var/b/dump x.sql.haul-partial");
  BOOST_TEST(c->part_size == 16u << 20);
  BOOST_TEST(to_string(c->codec) == "none");
}

BOOST_AUTO_TEST_CASE(a_finished_file_export_whose_partial_file_lost_bytes_starts_over) {
  // Every part was synced, then the file was cut: renaming it into place would publish a
  // dump with a hole.
  auto out = temp_db("cut.sql");
  auto c = parse_export_config({{"source", "/d/app.db"}, {"target", "file://" + out.string()}});
  BOOST_REQUIRE(c);
  { std::ofstream(partial_path(*c)) << std::string(100, 'x'); }
  auto target = make_export_target(*c, {});
  BOOST_REQUIRE(target);
  export_checkpoint cp;
  cp.parts = {{"", 150}};
  cp.position.rows = 10;
  cp.tables = 2;
  cp.tables_done = 2;
  cp.complete = true;
  auto failed = (*target)->finish(cp);
  BOOST_TEST_REQUIRE(failed.has_value());
  BOOST_TEST((failed->kind == outcome_kind::retryable));
  BOOST_TEST(failed->error.find("is shorter than the 150 bytes exported") != std::string::npos,
             failed->error);
  BOOST_TEST(!std::filesystem::exists(out)); // nothing published
  BOOST_TEST(!cp.complete);
  BOOST_TEST(cp.parts.empty());
  BOOST_TEST(cp.position.rows == 0u);
  BOOST_TEST(cp.tables == 2u); // what the export reads stays
}

BOOST_AUTO_TEST_CASE(an_s3_export) {
  ::setenv("HAUL_UNIT_EXPORT_KEY", "k", 1);
  ::setenv("HAUL_UNIT_EXPORT_SECRET", "s", 1);
  auto c = parse_export_config({{"source", "app.db"},
                                {"target", "s3://backups/app/dump.sql.zst"},
                                {"compression", "zstd"},
                                {"compression_level", "1"},
                                {"part_size", "5MiB"},
                                {"s3.endpoint", "http://127.0.0.1:9000"},
                                {"s3.access_key_env", "HAUL_UNIT_EXPORT_KEY"},
                                {"s3.secret_key_env", "HAUL_UNIT_EXPORT_SECRET"},
                                {"s3.path_style", "true"}});
  BOOST_REQUIRE_MESSAGE(c.has_value(), (c ? std::string() : c.error().message));
  BOOST_TEST(c->upload.s3.bucket == "backups");
  BOOST_TEST(c->s3_key == "app/dump.sql.zst");
  BOOST_TEST(c->level == 1);
  BOOST_TEST(c->part_size == 5u << 20);
}

BOOST_AUTO_TEST_CASE(bad_settings_name_the_key) {
  auto error_of = [](job_params p) {
    auto c = parse_export_config(p);
    return c ? std::string("(accepted)") : c.error().message;
  };
  job_params ok{{"source", "a.db"}, {"target", "file:///tmp/x.sql"}};
  auto with = [&](std::string k, std::string v) {
    auto p = ok;
    p[k] = v;
    return p;
  };
  BOOST_TEST(error_of({{"target", "file:///x"}}).starts_with("source:"));
  BOOST_TEST(error_of({{"source", "a.db"}}).starts_with("target:"));
  BOOST_TEST(error_of(with("target", "file://relative/x")).starts_with("target:"));
  BOOST_TEST(error_of(with("target", "ftp://h/x")).starts_with("target:"));
  BOOST_TEST(error_of(with("target", "s3://bucket/")).starts_with("target:"));
  BOOST_TEST(error_of(with("compression", "lz4")).starts_with("compression:"));
  BOOST_TEST(error_of(with("part_size", "4MiB")).starts_with("part_size:"));
  BOOST_TEST(error_of(with("compression_level", "3")).starts_with("compression_level:"));
  BOOST_TEST(error_of(with("s3.endpoint", "http://h")).starts_with("s3.endpoint:"));
  BOOST_TEST(error_of(with("colour", "red")).find("unknown key 'colour'") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(checkpoints_round_trip_every_key_type) {
  export_checkpoint c;
  c.fingerprint = "db:1:2";
  c.schema_digest = "abc";
  c.settings = "zstd:1:5242880";
  c.upload_id = "up-1";
  c.parts = {{"\"e1\"", 100}, {"\"e2\"", 50}};
  c.position.item = 3;
  c.position.in_rows = true;
  c.position.rows = 12;
  key_value i{SQLITE_INTEGER, std::numeric_limits<std::int64_t>::min(), 0, {}};
  key_value r{SQLITE_FLOAT, 0, -std::numeric_limits<double>::denorm_min(), {}};
  key_value t{SQLITE_TEXT, 0, 0, std::string("a\0\"b", 4)};
  key_value b{SQLITE_BLOB, 0, 0, std::string("\xff\x00", 2)};
  c.position.after = {i, r, t, b};
  c.text_bytes = 1234;
  c.tables = 4;
  c.tables_done = 2;
  c.rows_estimate = 9000;
  auto back = decode_checkpoint(encode_checkpoint(c));
  BOOST_REQUIRE(back);
  BOOST_TEST((*back == c));
  BOOST_TEST(back->bytes() == 150u);
  BOOST_TEST(!decode_checkpoint(""));
  BOOST_TEST(!decode_checkpoint("{}"));
  BOOST_TEST(!decode_checkpoint("not json"));
}

BOOST_AUTO_TEST_SUITE_END()
