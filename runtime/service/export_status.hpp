#pragma once

// GET /exports/{id}: an export's progress as JSON, from its job status and the checkpoint
// its task stores after every part (kept after success: the export's summary).
//
//   {"id", "name", "state", "tables": {"done", "total"}, "rows", "bytes", "dump_bytes",
//    "parts", "bytes_per_second", "error", "created_ms", "finished_ms", "download_url"}

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "haul/job.hpp"
#include "runtime/export/export_checkpoint.hpp"

namespace haul::service {

/// Output bytes per second of running exports, over the last half minute or so of polls.
/// Thread-safe.
class rate_meter {
 public:
  /// Records `bytes` at `now_ms` and returns the rate since the window's start (0 at first).
  double observe(const std::string& id, std::uint64_t bytes, std::int64_t now_ms);
  /// Exports measured now; one nobody asked about for `forget_ms` is forgotten, so a server
  /// that runs for months does not keep every export it ever measured.
  std::size_t tracked();

 private:
  struct window {
    std::int64_t start_ms = 0;
    std::uint64_t start_bytes = 0;
    std::int64_t last_ms = 0;
    std::uint64_t last_bytes = 0;
  };
  static constexpr std::int64_t window_ms = 30'000;
  static constexpr std::int64_t forget_ms = 10 * 60'000;
  std::mutex mutex_;
  std::map<std::string, window, std::less<>> windows_;
};

/// `checkpoint`: the task's stored checkpoint (none before the first part);
/// `bytes_per_second`: from a rate_meter while running (a finished export's rate is its
/// average over its life).
std::string export_status_json(const job_status& job,
                               const std::optional<exporter::export_checkpoint>& checkpoint,
                               double bytes_per_second);

} // namespace haul::service
