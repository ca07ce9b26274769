#include "actors/supervisor.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <unordered_map>

#include "actors/messages.hpp"
#include "actors/worker.hpp"
#include "runtime/job_identity.hpp"
#include "runtime/kind_registry.hpp"
#include "runtime/logging.hpp"
#include "runtime/loop_health.hpp"
#include "runtime/retry_policy.hpp"
#include "runtime/store_due_source.hpp"
#include "storage/recovery_pass.hpp"
#include "storage/store.hpp"

namespace haul::actors {

namespace {

/// Most detached workers per blocking job; beyond it, dispatched runs wait in the supervisor.
constexpr std::size_t max_blocking_workers = 256;
/// Inline workers per job: enough to keep every scheduler thread busy.
constexpr std::size_t inline_workers = 2;
/// Dispatches per inline order below which an order is not split across workers.
constexpr std::size_t inline_split_min = 512;

/// What the supervisor keeps about a job that was submitted in this process.
struct active_job {
  std::shared_ptr<job_context> ctx;
  bool blocking = false; ///< A worker thread per run.
  bool async = false;    ///< The kind runs tasks on its own threads; inline workers start them.
  std::int64_t timeout_ms = 0;
  std::vector<caf::actor> inline_pool;
  std::size_t next_inline = 0;
  std::vector<caf::actor> idle;
  std::size_t pool_size = 0;
  std::deque<run_item> queued; ///< Dispatched runs waiting for a free blocking worker.
  std::function<void(const job_status&)> on_complete;
};

/// A run the supervisor can stop: blocking and asynchronous ones (inline runs are quick).
struct live_run {
  caf::actor worker; ///< Blocking jobs only.
  std::uint64_t run_id = 0;
  std::shared_ptr<stop_flag> stop;
};

class supervisor_actor final : public caf::event_based_actor {
 public:
  supervisor_actor(caf::actor_config& c, supervisor_config cfg, storage::recovery_result rec)
      : caf::event_based_actor(c)
      , cfg_(std::move(cfg))
      , recovery_(*cfg_.recovery)
      , source_(*cfg_.store) {
    sched::scheduler::options o;
    o.parallelism = cfg_.options.parallelism;
    o.cancel_grace_ms = cfg_.options.shutdown_grace.count();
    o.seed = static_cast<std::uint64_t>(cfg_.now_ms()) ^ rec.report.generation;
    brain_ = std::make_unique<sched::scheduler>(o, rec.report.generation, source_);
    brain_->set_tracing(log::enabled(log::level::debug));
    for (auto& j : rec.jobs) {
      ids_[j.record.id] = j.record.seq;
      brain_->add_job(std::move(j.record), j.waiting);
    }
    auto next = cfg_.store->next_job_seq();
    next_job_seq_ = next ? *next : 1;
    started_ms_ = cfg_.now_ms();
  }

  caf::behavior make_behavior() override {
    delayed_send(this, cfg_.options.report_interval, report_atom::value);
    if (cfg_.health)
      delayed_send(this, loop_health::probe_interval, probe_atom::value, cfg_.now_ms());
    return {
        [this](completed_atom, completion_list& list) { on_completions(list); },
        [this](inbox_atom) {
          auto list = inbox_->take();
          on_completions(list);
        },
        [this](checkpoint_atom, std::uint32_t job, std::uint64_t index, std::uint64_t run_id,
               std::string& checkpoint) {
          brain_->on_checkpoint({job, index}, run_id, std::move(checkpoint));
          request_turn();
        },
        [this](lost_atom, lost_list& lost) {
          auto now = cfg_.now_ms();
          for (const auto& l : lost) {
            release_run(l.task, l.run_id, true);
            brain_->on_lost(
                l.task, l.run_id,
                "lost: no heartbeat or completion for " + std::to_string(l.silent_ms) + " ms", now);
          }
          request_turn();
        },
        [this](turn_atom) { run_turn(); },
        [this](wake_atom, std::uint64_t stamp) {
          if (stamp == wake_stamp_) {
            wake_at_.reset();
            run_turn();
          }
        },
        [this](probe_atom, std::int64_t sent_ms) {
          // Due probe_interval after it was sent: anything later is time spent waiting.
          auto now = cfg_.now_ms();
          cfg_.health->lag_ms =
              std::max<std::int64_t>(0, now - sent_ms - loop_health::probe_interval.count());
          cfg_.health->last_probe_ms = now;
          delayed_send(this, loop_health::probe_interval, probe_atom::value, now);
        },
        [this](report_atom) {
          report(false);
          delayed_send(this, cfg_.options.report_interval, report_atom::value);
        },
        [this](control_atom, control_request& req) -> caf::result<control_reply> {
          return control(req);
        },
    };
  }

 private:
  // --- events -----------------------------------------------------------------------------

  void on_completions(completion_list& list) {
    auto now = cfg_.now_ms();
    for (auto& c : list) {
      release_run(c.task, c.run_id, false);
      if (brain_->on_completion(c, now))
        ended_.push_back({c.task, c.run_id});
      if (cfg_.options.sync == sync_mode::always)
        run_turn(); // one synced write per transition: the no-group-commit baseline
    }
    request_turn();
  }

  /// Forgets a blocking run's worker binding; returns the worker to the pool, or retires it
  /// when the run was lost (it may still be stuck in the task function).
  void release_run(sched::task_id task, std::uint64_t run_id, bool lost) {
    auto it = runs_.find(task);
    if (it == runs_.end() || it->second.run_id != run_id)
      return;
    auto run = std::move(it->second);
    runs_.erase(it);
    if (lost)
      raise_stop(*run.stop, stop_run); // an asynchronous run may still be going: ask it to stop
    auto jt = jobs_.find(task.job);
    if (jt == jobs_.end() || !run.worker)
      return;
    auto& j = jt->second;
    if (lost) {
      send_exit(run.worker, caf::exit_reason::user_shutdown);
      --j.pool_size;
    } else {
      j.idle.push_back(run.worker);
    }
    feed_blocking(task.job, j);
  }

  void request_turn() {
    if (turn_pending_)
      return;
    turn_pending_ = true;
    send(this, turn_atom::value);
  }

  // --- the turn ---------------------------------------------------------------------------

  void run_turn() {
    turn_pending_ = false;
    auto now = cfg_.now_ms();
    if (cfg_.health)
      cfg_.health->last_turn_ms = now;
    auto result = brain_->turn(now);
    if (!result)
      return fatal(result.error());
    auto& r = *result;
    if (!r.batch.empty()) {
      auto ok = cfg_.store->commit(r.batch, cfg_.options.sync != sync_mode::off);
      if (!ok)
        return fatal(ok.error());
    }
    brain_->committed();
    if (!r.events.empty())
      log_task_steps(r.events);
    // Durable from here on: tell the recovery actor, then start the dispatched runs.
    if (!r.dispatches.empty() || !ended_.empty()) {
      watch_list w;
      w.ended_runs = std::move(ended_);
      ended_.clear();
      w.started_runs.reserve(r.dispatches.size());
      for (const auto& d : r.dispatches)
        w.started_runs.push_back({d.task, d.run_id, timeout_of(d.task.job)});
      send(recovery_, watch_atom::value, std::move(w));
    }
    send_dispatches(r.dispatches);
    for (const auto& s : r.stops) {
      auto it = runs_.find(s.task);
      if (it != runs_.end() && it->second.run_id == s.run_id)
        raise_stop(*it->second.stop, s.cancel ? cancel_run : stop_run);
    }
    for (auto seq : r.finished_jobs)
      on_finished(seq);
    if (r.wake_at_ms && (!wake_at_ || *r.wake_at_ms < *wake_at_)) {
      wake_at_ = r.wake_at_ms;
      delayed_send(this, std::chrono::milliseconds(std::max<std::int64_t>(0, *wake_at_ - now)),
                   wake_atom::value, ++wake_stamp_);
    }
    if (brain_->shutting_down() && brain_->shutdown_complete(now))
      finish_shutdown();
  }

  std::int64_t timeout_of(std::uint32_t job) const {
    auto it = jobs_.find(job);
    return it == jobs_.end() ? cfg_.options.task_timeout.count() : it->second.timeout_ms;
  }

  /// The debug log's task events: enqueued (again), started with its start lag, completed
  /// with its outcome. Logged after the commit, so a logged step is a stored one.
  void log_task_steps(const std::vector<sched::task_event>& events) {
    using step = sched::task_event::step;
    for (const auto& e : events) {
      auto it = jobs_.find(e.task.job);
      std::string job = it != jobs_.end() ? it->second.ctx->id : std::to_string(e.task.job);
      std::vector<log::field> f{log::str("job", std::move(job)), log::num("task", e.task.index),
                                log::num("attempt", std::uint64_t{e.attempt})};
      auto with = [&f](log::field extra) {
        auto out = f;
        out.push_back(std::move(extra));
        return out;
      };
      switch (e.what) {
      case step::started:
        log::debug("task started",
                   with(log::num("start_lag_ms",
                                 static_cast<std::uint64_t>(std::max<std::int64_t>(0, e.ms)))));
        break;
      case step::succeeded:
        log::debug("task completed", with(log::str("outcome", "succeeded")));
        break;
      case step::requeued:
        if (e.attempt > 0) // else queued again from the dead letter by a retry
          log::debug("task completed", with(log::str("outcome", "retry")));
        f.pop_back(); // the attempt that ended: the completed line has it
        f.push_back(
            log::num("due_in_ms", static_cast<std::uint64_t>(std::max<std::int64_t>(0, e.ms))));
        f.push_back(log::str("error", e.error));
        log::debug("task enqueued", f);
        break;
      case step::dead:
        f.push_back(log::str("outcome", "dead"));
        f.push_back(log::str("error", e.error));
        log::debug("task completed", f);
        break;
      case step::stopped:
        log::debug("task completed", with(log::str("outcome", "cancelled")));
        break;
      case step::interrupted:
        log::debug("task completed", with(log::str("outcome", "interrupted")));
        break;
      }
    }
  }

  void send_dispatches(const std::vector<sched::dispatch>& dispatches) {
    // Group by job, preserving order: turns dispatch job by job.
    std::size_t i = 0;
    while (i < dispatches.size()) {
      auto seq = dispatches[i].task.job;
      std::size_t end = i;
      while (end < dispatches.size() && dispatches[end].task.job == seq)
        ++end;
      auto jt = jobs_.find(seq);
      if (jt != jobs_.end()) {
        auto& j = jt->second;
        if (j.blocking) {
          for (auto k = i; k < end; ++k) {
            const auto& d = dispatches[k];
            run_item item{d.task.index, d.run_id, d.attempt, d.checkpoint,
                          std::make_shared<stop_flag>(0)};
            runs_[d.task] = live_run{caf::actor(), d.run_id, item.stop};
            j.queued.push_back(std::move(item));
          }
          feed_blocking(seq, j);
        } else {
          send_inline(j, dispatches, i, end);
        }
      }
      i = end;
    }
  }

  void send_inline(active_job& j, const std::vector<sched::dispatch>& ds, std::size_t from,
                   std::size_t to) {
    // Split only orders big enough to be worth a second thread: every completion message
    // can trigger a turn, and a turn (one fsync) should carry as many completions as it can.
    auto n = to - from;
    auto parts = std::clamp<std::size_t>(n / inline_split_min, 1, inline_workers);
    for (std::size_t p = 0; p < parts; ++p) {
      run_order order;
      order.job = j.ctx;
      auto lo = from + n * p / parts;
      auto hi = from + n * (p + 1) / parts;
      order.items.reserve(hi - lo);
      for (auto k = lo; k < hi; ++k) {
        std::shared_ptr<stop_flag> stop;
        if (j.async) {
          // Asynchronous runs can last: keep a way to stop them, as for blocking ones.
          stop = std::make_shared<stop_flag>(0);
          runs_[ds[k].task] = live_run{caf::actor(), ds[k].run_id, stop};
        }
        order.items.push_back(
            {ds[k].task.index, ds[k].run_id, ds[k].attempt, ds[k].checkpoint, std::move(stop)});
      }
      auto& w = j.inline_pool[j.next_inline++ % j.inline_pool.size()];
      send(w, run_atom::value, std::move(order));
    }
  }

  void feed_blocking(std::uint32_t seq, active_job& j) {
    while (!j.queued.empty()) {
      auto item = std::move(j.queued.front());
      sched::task_id task{seq, item.index};
      auto it = runs_.find(task);
      if (it == runs_.end() || it->second.run_id != item.run_id || item.stop->load() != 0) {
        // Stopped (cancelled, shut down or lost) before a worker was free: never started.
        j.queued.pop_front();
        if (it != runs_.end() && it->second.run_id == item.run_id) {
          runs_.erase(it);
          sched::completion c;
          c.task = task;
          c.run_id = item.run_id;
          c.generation = brain_->generation();
          c.kind = outcome_kind::cancelled;
          c.error = "stopped before it started";
          if (brain_->on_completion(c, cfg_.now_ms()))
            ended_.push_back({task, item.run_id});
          request_turn();
        }
        continue;
      }
      caf::actor worker;
      if (!j.idle.empty()) {
        worker = j.idle.back();
        j.idle.pop_back();
      } else if (j.pool_size < max_blocking_workers) {
        worker = spawn_blocking_worker(system());
        ++j.pool_size;
      } else {
        return;
      }
      j.queued.pop_front();
      it->second.worker = worker;
      run_order order{j.ctx, {std::move(item)}};
      send(worker, run_atom::value, std::move(order));
    }
  }

  void on_finished(std::uint32_t seq) {
    auto st = brain_->status(seq);
    if (!st)
      return;
    log::info("job finished",
              {log::str("job", st->id), log::str("state", std::string(to_string(st->state))),
               log::num("succeeded", st->tasks.succeeded), log::num("failed", st->tasks.failed),
               log::num("retries", st->retries)});
    auto jt = jobs_.find(seq);
    if (jt != jobs_.end()) {
      if (jt->second.on_complete)
        jt->second.on_complete(*st);
      for (auto& w : jt->second.inline_pool)
        send_exit(w, caf::exit_reason::user_shutdown);
      for (auto& w : jt->second.idle)
        send_exit(w, caf::exit_reason::user_shutdown);
      jobs_.erase(jt);
    }
    auto wt = waiters_.find(seq);
    if (wt != waiters_.end()) {
      for (auto& p : wt->second)
        p.deliver(control_reply{std::nullopt, st->id, {*st}});
      waiters_.erase(wt);
    }
  }

  void report(bool final) {
    // Per job: the progress a log reader (no terminal) follows, the numbers of `haul status`.
    for (const auto& [seq, j] : jobs_) {
      auto st = brain_->status(seq);
      if (!st || is_finished(st->state))
        continue;
      log::info("progress",
                {log::str("job", st->id), log::num("done", st->tasks.succeeded + st->tasks.failed),
                 log::num("total", st->tasks.total), log::num("failed", st->tasks.failed),
                 log::num("retries", st->retries), log::num("bytes", st->bytes),
                 log::num("tasks_per_s", st->tasks_per_second),
                 log::num("bytes_per_s", st->bytes_per_second),
                 log::num("eta_s", static_cast<double>(st->eta_ms) / 1000.0),
                 log::num("running", st->tasks.running),
                 log::num("concurrency", static_cast<std::uint64_t>(st->concurrency))});
    }
    const auto& c = brain_->counters();
    auto elapsed = std::max<std::int64_t>(1, cfg_.now_ms() - started_ms_);
    // Start lag over the interval since the last report: mean and worst.
    auto started = c.dispatched - reported_.dispatched;
    double lag_mean = started == 0
                          ? 0.0
                          : static_cast<double>(c.start_lag_sum_ms - reported_.start_lag_sum_ms) /
                                static_cast<double>(started);
    auto lag_max = brain_->take_start_lag_max();
    reported_ = c;
    double failure_rate = c.completed == 0 ? 0.0
                                           : static_cast<double>(c.completed - c.succeeded) /
                                                 static_cast<double>(c.completed);
    log::info(final ? "final report" : "report",
              {log::num("completed", c.completed), log::num("succeeded", c.succeeded),
               log::num("failed", c.failed), log::num("retries", c.retries),
               log::num("cancelled", c.cancelled),
               log::num("running", static_cast<std::uint64_t>(brain_->running())),
               log::num("backlog", brain_->backlog()), log::num("failure_rate", failure_rate),
               log::num("started", started), log::num("start_lag_ms_mean", lag_mean),
               log::num("start_lag_ms_max", lag_max),
               log::num("tasks_per_s",
                        static_cast<double>(c.completed) * 1000.0 / static_cast<double>(elapsed))});
  }

  // --- control ----------------------------------------------------------------------------

  control_reply control(control_request& req) {
    using op = control_request::op;
    switch (req.what) {
    case op::submit:
      return submit(req.spec, req.id);
    case op::status:
    case op::wait: {
      auto it = ids_.find(req.id);
      if (it == ids_.end() || !brain_->has_job(it->second))
        return fail_reply(errc::not_found, "no job " + req.id + " in the store");
      auto st = *brain_->status(it->second);
      if (req.what == op::wait && !is_finished(st.state)) {
        waiters_[it->second].push_back(make_response_promise());
        return control_reply{}; // delivered by on_finished
      }
      return control_reply{std::nullopt, st.id, {st}};
    }
    case op::list:
      return control_reply{std::nullopt, {}, brain_->statuses()};
    case op::cancel: {
      auto it = ids_.find(req.id);
      if (it == ids_.end())
        return fail_reply(errc::not_found, "no job " + req.id + " in the store");
      // Read before the cancel's turn (which drops the tasks' records), dropped after it: a
      // crash in between must not leave a job that is not cancelled without its work.
      auto idle = idle_work(it->second);
      brain_->cancel(it->second, cfg_.now_ms());
      auto reply = stored_reply(req.id); // a cancel outlasts a crash right after it
      if (!reply.failure)
        discard(std::move(idle));
      return reply;
    }
    case op::job_parallelism: {
      auto it = ids_.find(req.id);
      if (it == ids_.end())
        return fail_reply(errc::not_found, "no job " + req.id + " in the store");
      brain_->set_job_parallelism(it->second, req.parallelism);
      return stored_reply(req.id); // parallelism 0 is a stored pause, as pause() is
    }
    case op::pause:
    case op::resume: {
      auto it = ids_.find(req.id);
      if (it == ids_.end())
        return fail_reply(errc::not_found, "no job " + req.id + " in the store");
      bool ok = req.what == op::pause ? brain_->pause(it->second)
                                      : brain_->resume(it->second, cfg_.options.parallelism);
      if (!ok)
        return fail_reply(errc::failed_precondition,
                          "job " + req.id + " has finished; there is nothing to " +
                              (req.what == op::pause ? "pause" : "resume"));
      return stored_reply(req.id); // a pause outlasts a crash right after it
    }
    case op::retry: {
      auto it = ids_.find(req.id);
      if (it == ids_.end())
        return fail_reply(errc::not_found, "no job " + req.id + " in the store");
      auto records = cfg_.store->load_task_records(it->second);
      if (!records)
        return fail_reply(records.error().code, records.error().message);
      auto n = brain_->retry_dead(it->second, *records, cfg_.now_ms());
      if (!n)
        return fail_reply(n.error().code, n.error().message);
      if (*n > 0)
        log::info("dead letter queued again", {log::str("job", req.id), log::num("tasks", *n)});
      auto r = stored_reply(req.id);
      r.count = *n;
      return r;
    }
    case op::parallelism:
      brain_->set_parallelism(req.parallelism);
      request_turn();
      return control_reply{};
    case op::stop:
      stop_waiters_.push_back(make_response_promise());
      brain_->begin_shutdown(cfg_.now_ms(), cfg_.options.shutdown_grace.count());
      request_turn();
      return control_reply{};
    }
    return fail_reply(errc::internal, "unknown control request");
  }

  /// Runs a turn now, so that a change is stored before the caller hears back; fails when
  /// the turn could not store it (the runtime has stopped on a store failure then).
  control_reply stored_reply(const std::string& id) {
    run_turn();
    if (store_failed_)
      return fail_reply(errc::store_io, "the change to job " + id +
                                            " could not be stored: the runtime stopped on a "
                                            "store failure");
    return control_reply{std::nullopt, id, {}};
  }

  static control_reply fail_reply(errc code, std::string message) {
    control_reply r;
    r.failure = make_error(code, std::move(message));
    return r;
  }

  /// What a cancelled job's idle tasks hold outside haul: the checkpoints of its tasks that
  /// are not running, for its kind's discard hook.
  struct idle_job_work {
    std::shared_ptr<const kind_entry> kind;
    job_params params;
    std::vector<std::string> checkpoints;
  };

  /// A cancelled job's tasks that are not running but have a checkpoint may hold work
  /// outside haul (a partial file, an open upload). Running tasks are told to stop with
  /// cancel set, and drop their own.
  idle_job_work idle_work(std::uint32_t seq) {
    const auto* rec = brain_->job(seq);
    if (!rec || is_finished(rec->state))
      return {};
    auto kind = cfg_.kinds->find(rec->kind);
    if (!kind || !kind->discard)
      return {};
    auto records = cfg_.store->load_task_records(seq);
    if (!records) {
      log::warn("cannot read a cancelled job's tasks to discard their work",
                {log::str("job", rec->id), log::str("why", records.error().message)});
      return {};
    }
    idle_job_work out{kind, rec->params, {}};
    for (auto& [index, r] : *records)
      if ((r.state == storage::task_state::waiting || r.state == storage::task_state::active) &&
          !r.checkpoint.empty() && runs_.count({seq, index}) == 0)
        out.checkpoints.push_back(std::move(r.checkpoint));
    return out;
  }

  /// Hands idle work to the kind's discard hook, in the background: it may talk to a slow
  /// endpoint, and the loop must not wait for it.
  void discard(idle_job_work work) {
    if (work.checkpoints.empty())
      return;
    cfg_.kinds->run_in_background([w = std::move(work)] {
      for (const auto& c : w.checkpoints)
        w.kind->discard(w.params, c);
    });
  }

  /// `id_hint`: the id runtime::submit computed (it includes the digest of listed inputs).
  control_reply submit(job_spec& spec, const std::string& id_hint) {
    if (auto why = validate_job_name(spec.name); !why.empty())
      return fail_reply(errc::invalid_argument, "job '" + spec.name + "': " + why);
    auto kind = cfg_.kinds->find(spec.kind);
    if (!kind)
      return fail_reply(errc::not_found, "job " + spec.name + ": unknown kind '" + spec.kind + "'");
    if (auto why = kind->validate(spec.params); !why.empty())
      return fail_reply(errc::invalid_argument, "job " + spec.name + ": " + why);
    auto policy = spec.retry.value_or(cfg_.options.retry);
    if (auto why = validate(policy); !why.empty())
      return fail_reply(errc::invalid_argument, "job " + spec.name + ": " + why);
    auto id = id_hint.empty() ? job_id_for(spec) : id_hint;
    auto now = cfg_.now_ms();

    // A job of the same name with another id is stale: its input changed. Delete it rather
    // than ever mixing its progress with the new input.
    for (const auto& st : brain_->statuses()) {
      if (st.name != spec.name || st.id == id)
        continue;
      auto seq = ids_.at(st.id);
      if (jobs_.count(seq) != 0)
        return fail_reply(errc::invalid_argument,
                          "job name " + spec.name + " is already running as " + st.id);
      log::warn("job input changed: deleting the stale job and its progress",
                {log::str("job", spec.name), log::str("stale_id", st.id), log::str("new_id", id),
                 log::num("stale_succeeded", st.tasks.succeeded)});
      brain_->pending_batch().delete_job(seq, st.id);
      brain_->remove_job(seq);
      ids_.erase(st.id);
    }

    std::uint32_t seq = 0;
    if (auto it = ids_.find(id); it != ids_.end()) {
      seq = it->second;
      if (jobs_.count(seq) != 0)
        return fail_reply(errc::invalid_argument, "job " + id + " was already submitted");
    } else {
      seq = next_job_seq_++;
      storage::job_record rec;
      rec.seq = seq;
      rec.id = id;
      rec.name = spec.name;
      rec.kind = spec.kind;
      rec.params = spec.params;
      rec.total = spec.tasks;
      rec.created_ms = now;
      auto& b = brain_->pending_batch();
      b.put_job_id(id, seq);
      b.put_next_job_seq(next_job_seq_);
      b.put_job(rec);
      ids_[id] = seq;
      brain_->add_job(std::move(rec), 0);
      log::info("job created",
                {log::str("job", id), log::str("kind", spec.kind), log::num("tasks", spec.tasks)});
    }

    sched::job_config config{policy, spec.parallelism.value_or(cfg_.options.parallelism),
                             kind->adaptive_concurrency, kind->keep_final_checkpoint};
    auto st = *brain_->status(seq);
    if (is_finished(st.state)) {
      if (spec.on_complete)
        spec.on_complete(st);
      return control_reply{std::nullopt, id, {st}};
    }
    active_job j;
    j.ctx = std::make_shared<job_context>();
    j.ctx->seq = seq;
    j.ctx->id = id;
    j.ctx->params = spec.params;
    j.ctx->run = kind->run;
    j.ctx->start = kind->start;
    j.ctx->inputs = kind->list ? cfg_.store : nullptr;
    j.ctx->inbox = inbox_;
    j.ctx->generation = brain_->generation();
    j.ctx->supervisor = caf::actor_cast<caf::actor>(this);
    j.ctx->recovery = recovery_;
    j.ctx->task_functions = cfg_.health ? &cfg_.health->task_functions : nullptr;
    j.async = static_cast<bool>(kind->start);
    j.blocking = !j.async && !kind->runs_inline(spec.params);
    j.timeout_ms = spec.task_timeout.value_or(cfg_.options.task_timeout).count();
    j.ctx->beat_interval =
        std::chrono::milliseconds(std::clamp<std::int64_t>(j.timeout_ms / 4, 1, 1000));
    j.on_complete = std::move(spec.on_complete);
    if (!j.blocking)
      for (std::size_t k = 0; k < inline_workers; ++k)
        j.inline_pool.push_back(spawn_inline_worker(system()));
    jobs_.emplace(seq, std::move(j));
    brain_->activate_job(seq, config, now);
    // A turn now rather than later: its commit puts a new job in the store before submit
    // returns, which is what an API's "202 accepted" promises.
    auto reply = stored_reply(id);
    if (reply.failure)
      return reply;
    log::debug("tasks enqueued", {log::str("job", id), log::num("tasks", st.tasks.pending)});
    if (st.tasks.succeeded + st.tasks.failed > 0)
      log::info("job resumed",
                {log::str("job", id), log::num("succeeded", st.tasks.succeeded),
                 log::num("failed", st.tasks.failed), log::num("total", st.tasks.total)});
    return reply;
  }

  // --- stopping ---------------------------------------------------------------------------

  void finish_shutdown() {
    if (stopped_)
      return;
    stopped_ = true;
    report(true);
    for (auto& [seq, j] : jobs_) {
      for (auto& w : j.inline_pool)
        send_exit(w, caf::exit_reason::user_shutdown);
      for (auto& w : j.idle)
        send_exit(w, caf::exit_reason::user_shutdown);
    }
    for (auto& [task, run] : runs_) {
      // A task function still running learns it must stop (after a store failure no turn
      // has sent the stop requests); its worker cannot take the exit until it returns.
      raise_stop(*run.stop, stop_run);
      if (run.worker)
        send_exit(run.worker, caf::exit_reason::user_shutdown);
    }
    send_exit(recovery_, caf::exit_reason::user_shutdown);
    // Drop every handle now: job contexts hold this actor's own handle, and the
    // actor system's shutdown waits until nothing references any actor any more.
    jobs_.clear();
    runs_.clear();
    recovery_ = caf::actor();
    for (auto& p : stop_waiters_)
      p.deliver(control_reply{});
    stop_waiters_.clear();
    for (auto& [seq, ps] : waiters_)
      for (auto& p : ps)
        p.deliver(
            fail_reply(errc::failed_precondition, "the runtime stopped before the job finished"));
    waiters_.clear();
    if (cfg_.health)
      cfg_.health->stopped = true;
    quit();
  }

  void fatal(const error& e) {
    store_failed_ = true;
    log::error("store failure: stopping", {log::str("error", e.message)});
    if (cfg_.health)
      cfg_.health->store_failed = true;
    for (auto& [seq, ps] : waiters_)
      for (auto& p : ps)
        p.deliver(fail_reply(e.code, e.message));
    waiters_.clear();
    brain_->begin_shutdown(cfg_.now_ms(), 0);
    finish_shutdown();
  }

  supervisor_config cfg_;
  caf::actor recovery_;
  sched::store_due_source source_;
  std::unique_ptr<sched::scheduler> brain_;
  std::shared_ptr<completion_inbox> inbox_ = std::make_shared<completion_inbox>();
  std::map<std::string, std::uint32_t> ids_;
  std::map<std::uint32_t, active_job> jobs_;
  std::unordered_map<sched::task_id, live_run, sched::task_id_hash> runs_;
  std::map<std::uint32_t, std::vector<caf::response_promise>> waiters_;
  std::vector<caf::response_promise> stop_waiters_;
  std::vector<sched::stop_request> ended_;
  std::uint32_t next_job_seq_ = 1;
  bool turn_pending_ = false;
  bool stopped_ = false;
  bool store_failed_ = false; ///< A turn could not be stored: nothing after it was.
  std::optional<std::int64_t> wake_at_;
  std::uint64_t wake_stamp_ = 0;
  std::int64_t started_ms_ = 0;
  sched::scheduler_counters reported_; ///< As of the last report: the interval's baseline.
};

} // namespace

caf::actor spawn_supervisor(caf::actor_system& sys, supervisor_config cfg,
                            storage::recovery_result recovered) {
  // On the scheduler, not detached: a turn's fsync holds a scheduler thread for ~0.3 ms,
  // which measured cheaper than a thread wake-up per turn (docs/benchmarks.md).
  return sys.spawn<supervisor_actor>(std::move(cfg), std::move(recovered));
}

} // namespace haul::actors
