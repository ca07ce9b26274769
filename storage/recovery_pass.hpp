#pragma once

// The start-up recovery pass, run by the recovery actor before the supervisor starts any
// work. Nothing from an earlier process can still be running, so every task that was in
// flight goes back to the due queue (its checkpoint kept), the generation is bumped, and
// finished jobs past their retention are deleted — all in one synced batch.

#include <cstdint>
#include <vector>

#include "haul/expected.hpp"
#include "haul/runtime.hpp"
#include "storage/records.hpp"
#include "storage/store.hpp"

namespace haul::storage {

struct recovered_job {
  job_record record;
  std::uint64_t waiting = 0; ///< Tasks in its due queue after the pass.
};

struct recovery_result {
  recovery_report report;
  std::vector<recovered_job> jobs; ///< Every job left in the store, finished ones included.
};

/// REQUIRES: s is owned by this process (store::open) and nothing else writes it meanwhile.
expected<recovery_result> run_recovery_pass(store& s, std::int64_t now_ms,
                                            std::int64_t retention_ms);

} // namespace haul::storage
