#pragma once

// Job status as `haul status` shows it, read from a store that another process may be
// running, and rendered as the JSON that `haul status --json` prints (a stable shape:
// {"jobs": [{"id", "name", "kind", "state", "tasks": {...}, ...}]}).

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
/// One line per job for a terminal or a log.
std::string status_text(const store_status& s);

} // namespace haul
