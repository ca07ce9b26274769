#include "actors/recovery.hpp"

#include <chrono>

#include "actors/messages.hpp"
#include "runtime/logging.hpp"
#include "storage/recovery_pass.hpp"

namespace haul::actors {

namespace {

struct recovery_state {
  recovery_config cfg;
  liveness_tracker tracker;
  caf::actor supervisor;
};

caf::behavior recovery(caf::stateful_actor<recovery_state>* self, recovery_config cfg) {
  self->state.cfg = std::move(cfg);
  return {
      [self](recover_atom) -> caf::result<storage::recovery_result> {
        auto& st = self->state;
        auto started = st.cfg.now_ms();
        auto result = storage::run_recovery_pass(*st.cfg.store, started, st.cfg.retention_ms);
        if (!result)
          return caf::make_error(caf::sec::runtime_error, result.error().message);
        result->report.finished_ms = st.cfg.now_ms();
        result->report.duration_ms = result->report.finished_ms - started;
        const auto& r = result->report;
        log::info("recovery pass done",
                  {log::num("generation", r.generation),
                   log::num("jobs_resumable", r.jobs_resumable),
                   log::num("tasks_interrupted", r.tasks_interrupted),
                   log::num("jobs_expired", r.jobs_expired),
                   log::num("duration_ms", static_cast<std::uint64_t>(r.duration_ms))});
        return std::move(*result);
      },
      [self](watch_atom, watch_list& w) {
        auto& st = self->state;
        if (!st.supervisor) {
          st.supervisor = caf::actor_cast<caf::actor>(self->current_sender());
          self->delayed_send(self, std::chrono::milliseconds(st.cfg.sweep_interval_ms),
                             sweep_atom::value);
        }
        auto now = st.cfg.now_ms();
        for (const auto& e : w.ended_runs)
          st.tracker.unwatch(e.task, e.run_id);
        for (const auto& s : w.started_runs)
          st.tracker.watch(s.task, s.run_id, s.timeout_ms, now);
      },
      [self](beat_atom, std::uint32_t job, std::uint64_t index, std::uint64_t run_id) {
        self->state.tracker.beat({job, index}, run_id, self->state.cfg.now_ms());
      },
      [self](sweep_atom) {
        auto& st = self->state;
        auto lost = st.tracker.expire(st.cfg.now_ms());
        if (!lost.empty()) {
          for (const auto& l : lost)
            log::warn("task lost: no heartbeat or completion within its timeout",
                      {log::num("job", static_cast<std::uint64_t>(l.task.job)),
                       log::num("task", l.task.index),
                       log::num("silent_ms", static_cast<std::uint64_t>(l.silent_ms))});
          self->send(st.supervisor, lost_atom::value, std::move(lost));
        }
        self->delayed_send(self, std::chrono::milliseconds(st.cfg.sweep_interval_ms),
                           sweep_atom::value);
      },
  };
}

} // namespace

caf::actor spawn_recovery(caf::actor_system& sys, recovery_config cfg) {
  // On the scheduler: its start-up pass blocks, but runs before any other actor has work.
  return sys.spawn(recovery, std::move(cfg));
}

} // namespace haul::actors
