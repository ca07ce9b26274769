#include "runtime/scheduler.hpp"

#include <algorithm>
#include <limits>

#include "runtime/retry_policy.hpp"

namespace haul::sched {

namespace {

/// Due entries scanned per turn beyond the free slots, so that a window full of entries of
/// paused jobs cannot make every turn walk the whole window.
constexpr std::size_t due_scan_slack = 1024;

job_state finished_state(const storage::job_record& r, bool cancelled) {
  if (cancelled)
    return job_state::cancelled;
  if (r.dead == 0)
    return job_state::succeeded;
  return r.succeeded == 0 ? job_state::failed : job_state::completed_with_failures;
}

} // namespace

scheduler::scheduler(options opts, std::uint64_t generation, due_source& source)
    : opts_(opts)
    , generation_(generation)
    , source_(source)
    , rng_(opts.seed) {}

// --- jobs ---------------------------------------------------------------------------------

void scheduler::add_job(storage::job_record record, std::uint64_t waiting) {
  auto seq = record.seq;
  job_entry j;
  j.record = std::move(record);
  j.waiting = waiting;
  j.config.parallelism = j.record.parallelism;
  jobs_[seq] = std::move(j);
}

void scheduler::activate_job(std::uint32_t job, job_config config, std::int64_t now_ms) {
  auto it = jobs_.find(job);
  if (it == jobs_.end())
    return;
  auto& j = it->second;
  if (j.record.state == job_state::paused) {
    // Paused by the user in an earlier run: it stays paused until resumed.
    j.resume_parallelism = config.parallelism;
    config.parallelism = 0;
  }
  j.config = config;
  if (config.adaptive) {
    if (!j.window)
      j.window.emplace(config.parallelism);
    j.window->set_ceiling(config.parallelism);
  } else {
    j.window.reset();
  }
  if (is_finished(j.record.state))
    return;
  j.active = true;
  j.record.run_started_ms = now_ms;
  j.record.run_base_succeeded = j.record.succeeded;
  j.record.run_base_bytes = j.record.bytes;
  j.record.state = config.parallelism == 0 ? job_state::paused : job_state::running;
  j.record.parallelism = config.parallelism;
  j.record.updated_ms = now_ms;
  j.dirty = true;
}

void scheduler::remove_job(std::uint32_t job) {
  for (auto it = running_.begin(); it != running_.end();)
    it = it->first.job == job ? running_.erase(it) : std::next(it);
  jobs_.erase(job);
}

const storage::job_record* scheduler::job(std::uint32_t job) const {
  auto it = jobs_.find(job);
  return it == jobs_.end() ? nullptr : &it->second.record;
}

std::optional<job_status> scheduler::status(std::uint32_t job) const {
  auto it = jobs_.find(job);
  if (it == jobs_.end())
    return std::nullopt;
  const auto& j = it->second;
  auto s = storage::status_of(j.record, j.running);
  s.parallelism = j.config.parallelism;
  s.concurrency = j.window ? j.window->limit() : 0;
  return s;
}

std::vector<job_status> scheduler::statuses() const {
  std::vector<job_status> out;
  for (const auto& [seq, j] : jobs_)
    out.push_back(*status(seq));
  return out;
}

// --- events -------------------------------------------------------------------------------

bool scheduler::on_completion(const completion& c, std::int64_t now_ms) {
  auto it = running_.find(c.task);
  if (c.generation != generation_ || it == running_.end() || it->second.run_id != c.run_id) {
    ++counters_.stale;
    return false;
  }
  auto run = std::move(it->second);
  running_.erase(it);
  auto& j = jobs_.at(c.task.job);
  --j.running;
  finish_run(c.task, j, run, c, now_ms);
  return true;
}

void scheduler::finish_run(task_id task, job_entry& j, const running_entry& run,
                           const completion& c, std::int64_t now_ms) {
  ++counters_.completed;
  j.dirty = true;
  auto checkpoint = c.checkpoint ? *c.checkpoint : run.checkpoint;
  auto failures_before = run.attempt - 1;
  if (j.window && c.kind != outcome_kind::cancelled)
    j.window->on_completion(c.overloaded);
  if (c.kind == outcome_kind::ok) {
    ++counters_.succeeded;
    ++j.record.succeeded;
    j.record.bytes += c.bytes;
    batch_.mark_done(task.job, task.index);
    trace(task, task_event::step::succeeded, run.attempt, 0);
    if (j.config.keep_final_checkpoint && !checkpoint.empty())
      batch_.put_task(task.job, task.index,
                      {storage::task_state::done, failures_before, 0, {}, std::move(checkpoint)});
    else if (run.has_record)
      batch_.delete_task(task.job, task.index);
    return;
  }
  if (j.cancelling) {
    // A cancelled job's runs end as cancelled whatever they report; their state is moot.
    ++counters_.cancelled;
    trace(task, task_event::step::stopped, run.attempt, 0, c.error);
    return;
  }
  if (c.kind == outcome_kind::cancelled) {
    // Asked to stop without the job being cancelled (shutdown, or a replaced run): not a
    // failure. Back to the queue, due at once, with its checkpoint.
    trace(task, task_event::step::interrupted, run.attempt, 0, c.error);
    requeue(task, j, failures_before, now_ms, c.error, std::move(checkpoint));
    return;
  }
  auto failures = run.attempt;
  j.record.last_error = c.error;
  if (c.kind == outcome_kind::permanent || failures >= j.config.retry.max_attempts) {
    trace(task, task_event::step::dead, run.attempt, 0, c.error);
    bury(task, j, failures, c.error, std::move(checkpoint));
    return;
  }
  ++counters_.retries;
  ++j.record.retries;
  auto delay = c.retry_after_ms >= 0 ? c.retry_after_ms
                                     : backoff_ms(j.config.retry, failures, draw_jitter());
  trace(task, task_event::step::requeued, run.attempt, delay, c.error);
  requeue(task, j, failures, now_ms + delay, c.error, std::move(checkpoint));
}

void scheduler::requeue(task_id task, job_entry& j, std::uint32_t failures, std::int64_t due_ms,
                        std::string error, std::string checkpoint) {
  storage::task_record rec{storage::task_state::waiting, failures, due_ms, std::move(error),
                           checkpoint};
  batch_.put_task(task.job, task.index, rec);
  batch_.put_due({task.job, due_ms, task.index});
  ++j.waiting;
  enqueue_due(j, {due_ms, task.index}, waiting_entry{failures, std::move(checkpoint)});
}

expected<std::uint64_t>
scheduler::retry_dead(std::uint32_t job,
                      const std::vector<std::pair<std::uint64_t, storage::task_record>>& records,
                      std::int64_t now_ms) {
  auto it = jobs_.find(job);
  if (it == jobs_.end())
    return make_error(errc::not_found, "no job " + std::to_string(job));
  auto& j = it->second;
  if (j.record.state == job_state::cancelled || j.cancelling)
    return make_error(errc::failed_precondition,
                      "job " + j.record.id + " is cancelled; its tasks will not run again");
  std::uint64_t n = 0;
  for (const auto& [index, rec] : records) {
    if (rec.state != storage::task_state::dead)
      continue;
    requeue({job, index}, j, 0, now_ms, rec.last_error, rec.checkpoint);
    trace({job, index}, task_event::step::requeued, 0, 0, rec.last_error);
    ++n;
  }
  if (n == 0)
    return n;
  j.record.dead -= std::min(j.record.dead, n);
  if (is_finished(j.record.state)) {
    // Its process let go of the job when it finished: the next submit runs it again.
    j.active = false;
    j.record.state = job_state::pending;
    j.record.finished_ms = 0;
  }
  j.dirty = true;
  return n;
}

void scheduler::bury(task_id task, job_entry& j, std::uint32_t failures, std::string error,
                     std::string checkpoint) {
  ++counters_.failed;
  ++j.record.dead;
  storage::task_record rec{storage::task_state::dead, failures, 0, std::move(error),
                           std::move(checkpoint)};
  batch_.put_task(task.job, task.index, rec);
}

void scheduler::enqueue_due(job_entry& j, due_pos pos, waiting_entry w) {
  auto& d = j.due;
  if (!d.loaded || !(d.complete || (d.boundary && pos < *d.boundary))) {
    d.spilled.emplace_back(pos, std::move(w));
    return;
  }
  d.entries.emplace(pos, std::move(w));
  shrink_to_window(d);
}

void scheduler::shrink_to_window(due_window& d) {
  // Evict the latest entries: they stay in the store (staged or committed) and are paged in
  // again when their turn comes. One entry always stays, to mark the boundary.
  auto limit = std::max<std::size_t>(1, opts_.due_window);
  if (d.entries.size() <= limit)
    return;
  while (d.entries.size() > limit) {
    auto last = std::prev(d.entries.end());
    d.spilled.emplace_back(last->first, std::move(last->second));
    d.entries.erase(last);
  }
  d.boundary = std::prev(d.entries.end())->first;
  d.complete = false;
}

void scheduler::on_checkpoint(task_id task, std::uint64_t run_id, std::string checkpoint) {
  auto it = running_.find(task);
  if (it == running_.end() || it->second.run_id != run_id)
    return;
  it->second.checkpoint = checkpoint;
  it->second.has_record = true;
  storage::task_record rec{
      storage::task_state::active, it->second.attempt - 1, 0, {}, std::move(checkpoint)};
  batch_.put_task(task.job, task.index, rec);
}

void scheduler::on_lost(task_id task, std::uint64_t run_id, std::string why, std::int64_t now_ms) {
  auto it = running_.find(task);
  if (it == running_.end() || it->second.run_id != run_id)
    return;
  completion c;
  c.task = task;
  c.run_id = run_id;
  c.generation = generation_;
  c.kind = outcome_kind::retryable;
  c.error = std::move(why);
  on_completion(c, now_ms);
}

void scheduler::cancel(std::uint32_t job, std::int64_t now_ms) {
  auto it = jobs_.find(job);
  if (it == jobs_.end() || is_finished(it->second.record.state) || it->second.cancelling)
    return;
  auto& j = it->second;
  j.cancelling = true;
  j.cancel_deadline_ms = now_ms + opts_.cancel_grace_ms;
  j.dirty = true;
  batch_.delete_all_due(job);
  j.due = due_window{};
  j.due.loaded = true;
  j.due.complete = true;
  j.waiting = 0;
}

void scheduler::set_job_parallelism(std::uint32_t job, std::uint32_t parallelism) {
  auto it = jobs_.find(job);
  if (it == jobs_.end())
    return;
  auto& j = it->second;
  if (is_finished(j.record.state)) {
    // Kept for a rerun of the finished job (a retry); nothing runs now.
    j.config.parallelism = parallelism;
    j.record.parallelism = parallelism;
    j.dirty = true;
    return;
  }
  // Zero is a pause, and more than zero on a paused job a resume at that parallelism: the
  // same stored states as pause() and resume(), so a later resume() restores what it had.
  if (parallelism == 0) {
    pause(job);
    return;
  }
  j.resume_parallelism = 0;
  if (!j.active) {
    // No process runs it: the next one to submit it decides, from its own settings.
    if (j.record.state == job_state::paused)
      j.record.state = job_state::pending;
    j.config.parallelism = parallelism;
    j.record.parallelism = parallelism;
    j.dirty = true;
    return;
  }
  apply_parallelism(j, parallelism);
}

void scheduler::apply_parallelism(job_entry& j, std::uint32_t parallelism) {
  j.config.parallelism = parallelism;
  if (j.window)
    j.window->set_ceiling(parallelism);
  j.record.parallelism = parallelism;
  j.record.state = parallelism == 0 ? job_state::paused : job_state::running;
  j.dirty = true;
}

bool scheduler::pause(std::uint32_t job) {
  auto it = jobs_.find(job);
  if (it == jobs_.end() || is_finished(it->second.record.state))
    return false;
  auto& j = it->second;
  if (!j.active) {
    j.record.state = job_state::paused;
    j.dirty = true;
    return true;
  }
  if (j.config.parallelism > 0)
    j.resume_parallelism = j.config.parallelism;
  apply_parallelism(j, 0);
  return true;
}

bool scheduler::resume(std::uint32_t job, std::uint32_t parallelism) {
  auto it = jobs_.find(job);
  if (it == jobs_.end() || is_finished(it->second.record.state))
    return false;
  auto& j = it->second;
  if (j.record.state != job_state::paused)
    return true;
  if (!j.active) {
    j.record.state = job_state::pending;
    j.dirty = true;
    return true;
  }
  apply_parallelism(j, j.resume_parallelism > 0 ? j.resume_parallelism : parallelism);
  j.resume_parallelism = 0;
  return true;
}

void scheduler::set_parallelism(std::uint32_t parallelism) {
  opts_.parallelism = parallelism;
}

void scheduler::begin_shutdown(std::int64_t now_ms, std::int64_t grace_ms) {
  if (!shutdown_deadline_ms_)
    shutdown_deadline_ms_ = now_ms + grace_ms;
}

// --- turns --------------------------------------------------------------------------------

bool scheduler::dispatchable(const job_entry& j) const {
  return j.active && !is_finished(j.record.state) && !j.cancelling && j.running < limit_of(j);
}

std::uint64_t scheduler::limit_of(const job_entry& j) {
  if (j.config.parallelism == 0)
    return 0;
  return j.window ? j.window->limit() : j.config.parallelism;
}

expected<turn_result> scheduler::turn(std::int64_t now_ms) {
  turn_result out;
  for (auto& [seq, j] : jobs_) {
    auto& d = j.due;
    if (j.active && !is_finished(j.record.state) &&
        (!d.loaded || (!d.complete && d.entries.size() < opts_.due_window / 4)))
      if (auto ok = page_in(j); !ok)
        return ok.error();
  }
  // A cancelled job's runs hear of the cancel once, also during a shutdown, and before a
  // zero grace expires them: a run given up on without it would keep what the cancel drops.
  for (auto& [seq, j] : jobs_) {
    if (!j.cancelling || j.stops_sent)
      continue;
    for (const auto& [task, run] : running_)
      if (task.job == seq)
        out.stops.push_back({task, run.run_id, true});
    j.stops_sent = true;
  }
  expire_cancelled_runs(now_ms);
  std::uint64_t free = 0;
  if (shutdown_deadline_ms_) {
    // Ask every run to stop once; they report cancelled and go back to the queue.
    if (!shutdown_stops_sent_)
      for (const auto& [task, run] : running_)
        out.stops.push_back({task, run.run_id});
    shutdown_stops_sent_ = true;
  } else {
    free = opts_.parallelism > running_.size() ? opts_.parallelism - running_.size() : 0;
    for (auto& [seq, j] : jobs_) {
      if (free == 0 || !dispatchable(j))
        continue;
      dispatch_waiting(j, now_ms, free, out);
      // Emptying the window does not mean the queue is empty: entries beyond it may be due
      // too, and no event may come to start them if this turn leaves slots free.
      while (free > 0 && dispatchable(j) && j.due.entries.empty() && !j.due.complete) {
        if (auto ok = page_in(j); !ok)
          return ok.error();
        dispatch_waiting(j, now_ms, free, out);
      }
    }
    dispatch_fresh(now_ms, free, out);
  }
  finish_jobs(now_ms, out);

  // Wake for the next due entry, or for a grace period to expire.
  std::optional<std::int64_t> wake;
  auto consider = [&](std::int64_t t) { wake = wake ? std::min(*wake, t) : t; };
  if (shutdown_deadline_ms_) {
    consider(*shutdown_deadline_ms_);
  } else {
    // With no slot free only a completion can start anything, and it brings its own turn.
    for (const auto& [seq, j] : jobs_)
      if (free > 0 && dispatchable(j) && !j.due.entries.empty())
        consider(std::max(j.due.entries.begin()->first.first, now_ms + 1));
  }
  for (const auto& [seq, j] : jobs_)
    if (j.cancelling && j.running > 0)
      consider(j.cancel_deadline_ms);
  out.wake_at_ms = wake;
  out.events = std::move(events_);
  events_.clear();
  out.batch = std::move(batch_);
  batch_ = storage::store_batch();
  return out;
}

void scheduler::committed() {
  for (auto& [seq, j] : jobs_)
    j.due.spilled.clear();
}

expected<void> scheduler::page_in(job_entry& j) {
  auto& d = j.due;
  auto room = opts_.due_window > d.entries.size() ? opts_.due_window - d.entries.size() : 0;
  if (room == 0)
    return {};
  std::optional<storage::due_entry> after;
  if (d.boundary)
    after = storage::due_entry{j.record.seq, d.boundary->first, d.boundary->second};
  auto loaded = source_.load_due(j.record.seq, after, room);
  if (!loaded)
    return loaded.error();
  for (const auto& e : *loaded) {
    waiting_entry w;
    auto rec = source_.load_task({e.job, e.index});
    if (!rec)
      return rec.error();
    if (*rec) {
      w.failures = (*rec)->failures;
      w.checkpoint = std::move((*rec)->checkpoint);
    }
    d.entries.emplace(due_pos{e.due_ms, e.index}, std::move(w));
  }
  if (!loaded->empty())
    d.boundary = due_pos{loaded->back().due_ms, loaded->back().index};
  d.complete = loaded->size() < room;
  d.loaded = true;
  // Entries staged beyond the old boundary are not in the store yet: take those that now
  // fall inside the window. One at the boundary itself was just read from the store: keeping
  // its staged copy would let a later page-in take it again after it was dispatched.
  std::vector<std::pair<due_pos, waiting_entry>> keep;
  for (auto& [pos, w] : d.spilled) {
    if (d.complete || pos <= *d.boundary)
      d.entries.emplace(pos, std::move(w));
    else
      keep.emplace_back(pos, std::move(w));
  }
  d.spilled = std::move(keep);
  shrink_to_window(d);
  return {};
}

void scheduler::dispatch_waiting(job_entry& j, std::int64_t now_ms, std::uint64_t& free,
                                 turn_result& out) {
  auto& entries = j.due.entries;
  auto seq = j.record.seq;
  while (!entries.empty() && free > 0 && dispatchable(j)) {
    auto it = entries.begin();
    auto [due_ms, index] = it->first;
    if (due_ms > now_ms)
      break;
    task_id task{seq, index};
    if (running_.count(task) != 0) {
      // Cannot happen unless the store was edited by hand; never run a task twice at once.
      entries.erase(it);
      continue;
    }
    running_entry run{next_run_id_++, it->second.failures + 1, std::move(it->second.checkpoint),
                      true};
    out.dispatches.push_back({task, run.run_id, run.attempt, run.checkpoint});
    count_start(task, run.attempt, now_ms - due_ms);
    running_.emplace(task, std::move(run));
    batch_.delete_due({seq, due_ms, index});
    entries.erase(it);
    --j.waiting;
    ++j.running;
    --free;
    ++counters_.dispatched;
  }
}

void scheduler::dispatch_fresh(std::int64_t now_ms, std::uint64_t& free, turn_result& out) {
  if (jobs_.empty() || free == 0)
    return;
  // Round-robin over jobs, a slice each, so one huge job cannot starve the others.
  std::vector<std::uint32_t> order;
  for (const auto& [seq, j] : jobs_)
    if (dispatchable(j) && j.record.next_fresh < j.record.total)
      order.push_back(seq);
  if (order.empty())
    return;
  std::rotate(order.begin(), std::lower_bound(order.begin(), order.end(), rr_cursor_), order.end());
  bool progress = true;
  while (free > 0 && progress) {
    progress = false;
    // One share per round for every job, not a share of what the jobs before it left.
    auto share = std::max<std::uint64_t>(1, free / order.size());
    for (auto seq : order) {
      auto& j = jobs_.at(seq);
      if (!dispatchable(j) || j.record.next_fresh >= j.record.total)
        continue;
      auto n =
          std::min({share, free, limit_of(j) - j.running, j.record.total - j.record.next_fresh});
      for (std::uint64_t k = 0; k < n; ++k) {
        task_id task{seq, j.record.next_fresh++};
        auto run_id = next_run_id_++;
        out.dispatches.push_back({task, run_id, 1, {}});
        running_.emplace(task, running_entry{run_id, 1, {}, false});
        // A fresh task has been due since its job started running in this process.
        count_start(task, 1, now_ms - j.record.run_started_ms);
      }
      j.running += n;
      free -= n;
      counters_.dispatched += n;
      j.dirty = j.dirty || n > 0;
      progress = progress || n > 0;
      if (free == 0)
        break;
    }
  }
  rr_cursor_ = order.size() > 1 ? order[1] : order[0];
}

void scheduler::expire_cancelled_runs(std::int64_t now_ms) {
  for (auto& [seq, j] : jobs_) {
    if (!j.cancelling || j.running == 0 || now_ms < j.cancel_deadline_ms)
      continue;
    // Runs that ignored the stop request: give up on them and free their slots. Whatever
    // they report later is stale.
    for (auto it = running_.begin(); it != running_.end();) {
      if (it->first.job == seq) {
        ++counters_.cancelled;
        it = running_.erase(it);
      } else {
        ++it;
      }
    }
    j.running = 0;
    j.dirty = true;
  }
}

void scheduler::finish_jobs(std::int64_t now_ms, turn_result& out) {
  for (auto& [seq, j] : jobs_) {
    if (!j.dirty)
      continue;
    auto& r = j.record;
    if (!is_finished(r.state) && j.running == 0 &&
        (j.cancelling || (r.next_fresh >= r.total && j.waiting == 0))) {
      r.state = finished_state(r, j.cancelling);
      r.finished_ms = now_ms;
      out.finished_jobs.push_back(seq);
    }
    r.updated_ms = now_ms;
    r.running = j.running;
    r.concurrency = j.window ? j.window->limit() : 0;
    batch_.put_job(r);
    j.dirty = false;
  }
}

double scheduler::draw_jitter() {
  return jitter_from_unit(std::uniform_real_distribution<double>(0.0, 1.0)(rng_));
}

// --- queries ------------------------------------------------------------------------------

std::uint64_t scheduler::backlog() const {
  std::uint64_t n = 0;
  for (const auto& [seq, j] : jobs_)
    if (j.active && !is_finished(j.record.state) && !j.cancelling)
      n += j.waiting + (j.record.total - j.record.next_fresh);
  return n;
}

bool scheduler::shutdown_complete(std::int64_t now_ms) const {
  return shutdown_deadline_ms_ && (running_.empty() || now_ms >= *shutdown_deadline_ms_);
}

std::size_t scheduler::due_in_memory() const {
  std::size_t n = 0;
  for (const auto& [seq, j] : jobs_)
    n += j.due.entries.size();
  return n;
}

bool scheduler::all_finished() const {
  return std::all_of(jobs_.begin(), jobs_.end(), [](const auto& kv) {
    return !kv.second.active || is_finished(kv.second.record.state);
  });
}

} // namespace haul::sched
