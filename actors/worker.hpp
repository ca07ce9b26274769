#pragma once

// Worker actors run tasks and report completions to the supervisor.
//
//   supervisor ──(run_atom, run_order)──▶ worker ──(completed_atom, completion_list)──▶ supervisor
//                                           └──(beat_atom ...)──▶ recovery
//
// An inline worker runs on CAF's scheduler and executes a whole order of quick tasks in one
// message. A blocking worker is detached (a thread of its own) and runs one task at a time,
// so task functions that block never starve the scheduler or the supervisor's loop.

#include <caf/fwd.hpp>

namespace haul::actors {

caf::actor spawn_inline_worker(caf::actor_system& sys);
caf::actor spawn_blocking_worker(caf::actor_system& sys);

} // namespace haul::actors
