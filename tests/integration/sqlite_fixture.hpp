#pragma once

// Real SQLite databases for the export tests: one holding every case a dump gets wrong
// easily, a way to compare two databases' content exactly, the sqlite3 shell to restore a
// dump, and decompression of multi-member gzip and multi-frame zstd output.

#include <cstdint>
#include <filesystem>
#include <string>

namespace haul::test {

/// Creates a database with: a rowid table with INTEGER PRIMARY KEY holding the 64-bit
/// extremes, reals that SQLite's own text conversion gets wrong, infinities, TEXT with
/// quotes, newlines, unicode and NUL bytes, BLOBs (empty too) and NULLs; a WITHOUT ROWID
/// table with a composite key; a table whose rowids are not a column; names that need
/// quoting; generated columns; AUTOINCREMENT; an index, a view, a trigger; user_version and
/// application_id. Then `bulk_rows` rows of filler text, so the dump spans several parts.
void make_hard_case_db(const std::filesystem::path& path, std::uint64_t bulk_rows);

/// Adds one row to the bulk table (a change between two runs of an export).
void add_bulk_row(const std::filesystem::path& path);

/// Everything a restored database must reproduce, as text: schema, pragmas, and every row
/// of every table in key order with each value's type and exact bytes (reals by their bits).
std::string content_of(const std::filesystem::path& path);

/// Runs `sqlite3 -bail NEW < DUMP`; returns the shell's stderr, empty when it succeeded.
std::string restore_with_shell(const std::filesystem::path& dump, const std::filesystem::path& db);

/// The decompressed bytes of a file of concatenated gzip members or zstd frames.
std::string gunzip(const std::string& bytes);
std::string unzstd(const std::string& bytes);

std::string read_binary(const std::filesystem::path& path);

} // namespace haul::test
