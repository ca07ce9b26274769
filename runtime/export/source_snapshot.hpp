#pragma once

// One consistent view of the source database for the length of an export run, and a
// fingerprint that tells whether the database may have changed since an earlier run.
//
// Within a run, the export reads everything inside one read transaction: SQLite gives it a
// single snapshot (in WAL mode writers go on; in rollback mode they wait for the export).
// Across runs (after a kill, a pause, a retry) the transaction is gone, so a run compares
// the fingerprint of the database it now sees with the one the export started from; any
// difference means the rest of the dump would come from other data, and the export starts
// again from the beginning (or fails, as configured) instead of mixing the two.
//
// The fingerprint is file metadata that every commit changes: the database file's device,
// inode, size and modification time and its header's change counter and schema cookie; in
// WAL mode also the -wal file's size, modification time, checkpoint sequence and salts (a
// commit appends frames; a WAL restart changes the salts). It can change without any data
// changing (a checkpoint), which costs a restart, never a mixed dump.
//
// The fingerprint is read before and after the snapshot is taken; if the two differ, a
// commit raced the start and the snapshot is taken again, so the fingerprint describes
// exactly the data the run reads.

#include <string>

#include "haul/expected.hpp"
#include "runtime/export/dump_plan.hpp"
#include "runtime/export/sqlite_handle.hpp"

namespace haul::exporter {

/// The database's current fingerprint; fails when the file cannot be read.
expected<std::string> source_fingerprint(const std::string& path);

struct source_snapshot {
  sqlite_db db; ///< Inside the read transaction; closing it ends the snapshot.
  dump_plan plan;
  std::string fingerprint; ///< Of exactly the data this snapshot reads.
};

/// Opens the database read-only and starts the snapshot.
expected<source_snapshot> open_snapshot(const std::string& path);

} // namespace haul::exporter
