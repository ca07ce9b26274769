#pragma once

// The built-in `noop` kind, for tests and benchmarks. Params (all optional):
//   sleep_ms = M     each task sleeps M ms (checking for stop requests); blocking workers
//   fail_first = K   each task fails retryably on its first K attempts, then succeeds
//   witness = PATH   each run appends 16 bytes (generation, task index; little-endian u64)
//                    to PATH with one O_APPEND write, so a test can count executions
// With sleep_ms = 0 tasks run inline on the actor scheduler, many per message.

#include "runtime/kind_registry.hpp"

namespace haul {

kind_entry make_noop_kind();

} // namespace haul
