#pragma once

// The supervisor actor: the single main loop. It owns the scheduling brain (the only writer
// of scheduling state), the store handle while running, and the workers. Each message it
// receives is applied to the brain at once; the first one after a turn also queues a
// turn_atom to itself behind everything already in the mailbox, so a turn drains every
// completion that had arrived, commits all their transitions in one write, and only then
// frees their slots and dispatches new tasks (group commit).
//
//   runtime ──(control_atom, control_request)──▶ supervisor ──▶ control_reply
//   worker ──(completed_atom, completion_list)──▶ supervisor
//   worker ──(checkpoint_atom, job, index, run, bytes)──▶ supervisor
//   recovery ──(lost_atom, lost_list)──▶ supervisor ──(watch_atom, watch_list)──▶ recovery
//   supervisor ──(run_atom, run_order)──▶ worker

#include <functional>
#include <memory>

#include <caf/fwd.hpp>

#include "haul/runtime.hpp"

namespace haul {
class kind_registry;
struct loop_health;
namespace storage {
class store;
struct recovery_result;
} // namespace storage
} // namespace haul

namespace haul::actors {

struct supervisor_config {
  storage::store* store = nullptr; ///< Outlives the actor system.
  std::shared_ptr<kind_registry> kinds;
  runtime_options options;
  caf::actor* recovery = nullptr; ///< The recovery actor (copied at spawn).
  std::function<std::int64_t()> now_ms;
  std::shared_ptr<loop_health> health; ///< Written by the supervisor; optional.
};

/// REQUIRES: the recovery pass has run; `recovered` is its result.
caf::actor spawn_supervisor(caf::actor_system& sys, supervisor_config cfg,
                            storage::recovery_result recovered);

} // namespace haul::actors
