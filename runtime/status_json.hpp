#pragma once

// Job status as `haul status` shows it, read from a store that another process may be
// running, and rendered as the JSON that `haul status --json` prints (a stable shape:
// {"jobs": [{"id", "name", "kind", "state", "tasks": {...}, ...}]}).

#include <cstdint>
#include <string>
#include <vector>

#include "haul/expected.hpp"
#include "haul/job.hpp"

namespace haul {

struct store_status {
  std::vector<job_status> jobs;
  bool owned = false; ///< A haul process owns the store right now.
};

/// Reads every job of the store at dir without disturbing its owner.
expected<store_status> read_store_status(const std::string& dir);

std::string status_json(const store_status& s);
/// One job as status_json shows it (an element of its "jobs").
std::string job_json(const job_status& j);
/// A table, one line per job, for a terminal.
std::string status_text(const store_status& s);

struct progress_style {
  std::size_t name_width = 0; ///< The name is padded (or cut) to this many columns.
  std::size_t bar_width = 24; ///< 0: no bar.
  std::size_t columns = 0;    ///< The line is cut to this many columns; 0: not cut.
  bool unicode = true;        ///< Block characters for the bar, else '#' and '.'.
};

/// Progress inside a job's running tasks, for kinds whose tasks are few and long (an
/// export's one task): what its checkpoint says has been done so far.
struct partial_progress {
  double fraction = 0;         ///< Of the whole job, 0..1.
  std::uint64_t bytes = 0;     ///< Moved so far, finished tasks included.
  double bytes_per_second = 0; ///< Measured by the caller over its recent samples.
  std::int64_t eta_ms = -1;    ///< -1: unknown.
  std::string detail;          ///< Shown after the numbers: "tables 3/12  rows 120000".
};

/// One job's progress on one line for the progress display of `haul run`: "NAME [bar]
/// done/total pct  bytes  rate  ETA  retries  failed  in flight", or its final state once it
/// has ended. The same numbers as status_text; `partial` (when given) replaces the bar's
/// fraction, the bytes and the rate.
std::string progress_line(const job_status& j, const progress_style& style = {},
                          const partial_progress* partial = nullptr);

/// "512 B", "1.5 KiB", "20.0 MiB", ...
std::string human_bytes(double bytes);
/// "45s", "3m05s", "2h07m"; "-" for a negative (unknown) duration.
std::string human_duration(std::int64_t ms);

} // namespace haul
