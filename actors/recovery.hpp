#pragma once

// The recovery actor. First, before the supervisor starts any work, it runs the start-up
// recovery pass over the store and answers with what it found. Then it watches the running
// set: the supervisor tells it which runs started (with their timeout) and ended each turn,
// workers send it heartbeats, and every sweep it declares the runs whose deadline passed
// lost, telling the supervisor, which stops their workers and reschedules them.
//
//   runtime ──(recover_atom)──▶ recovery ──recovery_result──▶ runtime
//   supervisor ──(watch_atom, watch_list)──▶ recovery ◀──(beat_atom, job, index, run)── worker
//   recovery ──(lost_atom, lost_list)──▶ supervisor

#include <cstdint>
#include <functional>

#include <caf/fwd.hpp>

namespace haul::storage {
class store;
}

namespace haul::actors {

struct recovery_config {
  storage::store* store = nullptr; ///< Used only for the start-up pass.
  std::int64_t retention_ms = 0;
  std::int64_t sweep_interval_ms = 1000;
  std::function<std::int64_t()> now_ms;
};

caf::actor spawn_recovery(caf::actor_system& sys, recovery_config cfg);

} // namespace haul::actors
