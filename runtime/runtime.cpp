#include "haul/runtime.hpp"

#include <chrono>
#include <mutex>
#include <thread>

#include "actors/messages.hpp"
#include "actors/recovery.hpp"
#include "actors/supervisor.hpp"
#include "runtime/input_listing.hpp"
#include "runtime/job_identity.hpp"
#include "runtime/job_validation.hpp"
#include "runtime/kind_registry.hpp"
#include "runtime/logging.hpp"
#include "runtime/loop_health.hpp"
#include "storage/recovery_pass.hpp"
#include "storage/store.hpp"

namespace haul {

namespace {

std::int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

} // namespace

class runtime::impl {
 public:
  runtime_options options;
  // Declared before the actor system so that it is destroyed after every actor is gone.
  std::unique_ptr<storage::store> store;
  recovery_report report;
  std::shared_ptr<loop_health> health = std::make_shared<loop_health>();
  std::unique_ptr<caf::actor_system_config> config;
  std::unique_ptr<caf::actor_system> system;
  // Declared after the actor system so that kinds (and the event loops of asynchronous
  // ones, which send to actors) are gone before it is.
  std::shared_ptr<kind_registry> kinds = std::make_shared<kind_registry>();
  caf::actor recovery;
  caf::actor supervisor;
  std::mutex stop_mutex;
  bool stopped = false;

  expected<actors::control_reply> call(actors::control_request req) {
    caf::scoped_actor self{*system};
    expected<actors::control_reply> out = make_error(errc::internal, "no reply");
    self->request(supervisor, caf::infinite, actors::control_atom::value, std::move(req))
        .receive(
            [&](actors::control_reply& r) {
              if (r.failure)
                out = *r.failure;
              else
                out = std::move(r);
            },
            [&](caf::error&) {
              out = make_error(errc::failed_precondition, "the runtime has stopped");
            });
    return out;
  }
};

runtime::runtime(std::unique_ptr<impl> p)
    : impl_(std::move(p)) {}
runtime::runtime(runtime&&) noexcept = default;
runtime& runtime::operator=(runtime&&) noexcept = default;

runtime::~runtime() {
  if (impl_)
    stop();
}

expected<runtime> runtime::open(runtime_options options) {
  auto p = std::make_unique<impl>();
  p->options = options;
  auto s = storage::store::open(options.store, options.sync);
  if (!s)
    return s.error();
  p->store = std::move(*s);
  add_builtin_kinds(*p->kinds);

  p->config = std::make_unique<caf::actor_system_config>();
  auto threads = options.scheduler_threads != 0 ? options.scheduler_threads
                                                : std::max(2u, std::thread::hardware_concurrency());
  p->config->set("scheduler.max-threads", static_cast<std::size_t>(threads));
  p->system = std::make_unique<caf::actor_system>(*p->config);

  actors::recovery_config rc;
  rc.store = p->store.get();
  rc.retention_ms = options.retention.count();
  rc.now_ms = system_now_ms;
  // Sweep often enough to notice a lost run within a quarter of the shortest timeout.
  rc.sweep_interval_ms = std::clamp<std::int64_t>(options.task_timeout.count() / 4, 10, 1000);
  p->recovery = actors::spawn_recovery(*p->system, rc);

  // The recovery pass runs to completion before the supervisor exists: nothing new can
  // start on a store that still holds interrupted runs.
  std::optional<storage::recovery_result> recovered;
  std::string failure;
  {
    caf::scoped_actor self{*p->system};
    self->request(p->recovery, caf::infinite, actors::recover_atom::value)
        .receive([&](storage::recovery_result& r) { recovered = std::move(r); },
                 [&](caf::error& e) { failure = p->system->render(e); });
  }
  if (!recovered) {
    caf::anon_send_exit(p->recovery, caf::exit_reason::user_shutdown);
    return make_error(errc::store_io,
                      "recovery pass failed on store " + options.store + ": " + failure);
  }
  p->report = recovered->report;

  actors::supervisor_config sc;
  sc.store = p->store.get();
  sc.kinds = p->kinds;
  sc.options = options;
  sc.recovery = &p->recovery;
  sc.now_ms = system_now_ms;
  sc.health = p->health;
  p->supervisor = actors::spawn_supervisor(*p->system, std::move(sc), std::move(*recovered));
  return runtime(std::move(p));
}

expected<void> runtime::register_kind(std::string name, task_function run) {
  kind_entry k;
  k.name = std::move(name);
  k.run = std::move(run);
  return impl_->kinds->add(std::move(k));
}

expected<void> runtime::register_kind(job_kind kind) {
  return impl_->kinds->add(entry_of(std::move(kind)));
}

namespace {

/// For a kind that lists inputs: the job's id, and for a new job its inputs in the store.
expected<std::string> prepare_listed_job(job_spec& spec, const kind_entry& kind,
                                         storage::store& store) {
  auto where = "job " + spec.name + ": ";
  if (auto why = kind.validate(spec.params); !why.empty())
    return make_error(errc::invalid_argument, where + why);
  // A source that changes while it is listed twice gets a few more tries: the id must
  // describe exactly the inputs stored under it.
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::string digest;
    if (!spec.fingerprint) {
      auto d = digest_inputs(kind.list, spec.params);
      if (!d)
        return make_error(d.error().code, where + d.error().message);
      digest = d->hex();
      spec.tasks = d->count();
    }
    auto id = job_id_for(spec, digest);
    auto existing = store.find_job(id);
    if (!existing)
      return existing.error();
    if (*existing)
      return id; // resumed: its inputs were stored when it was created
    auto stored = store_inputs(kind.list, spec.params, store, id);
    if (!stored)
      return make_error(stored.error().code, where + stored.error().message);
    if (spec.fingerprint || stored->hex() == digest) {
      spec.tasks = stored->count();
      return id;
    }
    storage::store_batch drop;
    drop.delete_inputs(id);
    if (auto ok = store.commit(drop, false); !ok)
      return ok.error();
  }
  return make_error(errc::failed_precondition,
                    where + "its inputs kept changing while they were listed; try again");
}

} // namespace

expected<std::string> runtime::submit(job_spec spec) {
  actors::control_request req;
  req.what = actors::control_request::op::submit;
  if (auto kind = impl_->kinds->find(spec.kind); kind && kind->list) {
    auto id = prepare_listed_job(spec, *kind, *impl_->store);
    if (!id)
      return id.error();
    req.id = std::move(*id);
  }
  req.spec = std::move(spec);
  auto r = impl_->call(std::move(req));
  if (!r)
    return r.error();
  return std::move(r->id);
}

namespace {

expected<job_status> first_status(expected<actors::control_reply> r) {
  if (!r)
    return r.error();
  if (r->jobs.empty())
    return make_error(errc::internal, "the supervisor answered without a status");
  return std::move(r->jobs.front());
}

} // namespace

expected<job_status> runtime::resubmit(std::string_view id, job_spec settings) {
  auto job = impl_->store->load_job(std::string(id));
  if (!job)
    return job.error();
  if (!*job)
    return make_error(errc::not_found, "no job " + std::string(id) + " in the store");
  auto& j = **job;
  actors::control_request req;
  req.what = actors::control_request::op::submit;
  req.id = j.id; // as stored: a listing now could give another id
  req.spec.name = std::move(j.name);
  req.spec.kind = std::move(j.kind);
  req.spec.params = std::move(j.params);
  req.spec.tasks = j.total;
  req.spec.parallelism = settings.parallelism;
  req.spec.retry = settings.retry;
  req.spec.task_timeout = settings.task_timeout;
  req.spec.on_complete = std::move(settings.on_complete);
  if (auto r = impl_->call(std::move(req)); !r)
    return r.error();
  return status(id);
}

expected<job_status> runtime::wait(std::string_view id) {
  actors::control_request req;
  req.what = actors::control_request::op::wait;
  req.id = std::string(id);
  return first_status(impl_->call(std::move(req)));
}

expected<job_status> runtime::status(std::string_view id) const {
  actors::control_request req;
  req.what = actors::control_request::op::status;
  req.id = std::string(id);
  return first_status(impl_->call(std::move(req)));
}

std::vector<job_status> runtime::jobs() const {
  actors::control_request req;
  req.what = actors::control_request::op::list;
  auto r = impl_->call(std::move(req));
  return r ? std::move(r->jobs) : std::vector<job_status>{};
}

expected<job_params> runtime::params(std::string_view id) const {
  auto job = impl_->store->load_job(std::string(id));
  if (!job)
    return job.error();
  if (*job)
    return std::move((*job)->params);
  return make_error(errc::not_found, "no job " + std::string(id) + " in the store");
}

expected<std::string> runtime::task_checkpoint(std::string_view id, std::uint64_t index) const {
  auto seq = impl_->store->find_job(std::string(id));
  if (!seq)
    return seq.error();
  if (!*seq)
    return make_error(errc::not_found, "no job " + std::string(id) + " in the store");
  auto rec = impl_->store->load_task_record(**seq, index);
  if (!rec)
    return rec.error();
  return *rec ? std::move((*rec)->checkpoint) : std::string();
}

expected<void> runtime::cancel(std::string_view id) {
  actors::control_request req;
  req.what = actors::control_request::op::cancel;
  req.id = std::string(id);
  auto r = impl_->call(std::move(req));
  if (!r)
    return r.error();
  return {};
}

expected<std::vector<dead_task>> runtime::dead_letter(std::string_view id,
                                                      std::size_t limit) const {
  auto seq = impl_->store->find_job(std::string(id));
  if (!seq)
    return seq.error();
  if (!*seq)
    return make_error(errc::not_found, "no job " + std::string(id) + " in the store");
  auto records = impl_->store->load_task_records(**seq);
  if (!records)
    return records.error();
  // From the store, not the supervisor: this also works after stop().
  std::shared_ptr<const kind_entry> kind;
  if (auto job = impl_->store->load_job(std::string(id)); job && *job)
    kind = impl_->kinds->find((*job)->kind);
  std::vector<dead_task> out;
  for (const auto& [index, rec] : *records) {
    if (rec.state != storage::task_state::dead)
      continue;
    if (out.size() >= limit)
      break;
    dead_task d{index, rec.failures, rec.last_error, "task " + std::to_string(index)};
    if (kind && kind->list && kind->describe)
      if (auto input = impl_->store->load_input(std::string(id), index))
        d.label = kind->describe(*input);
    out.push_back(std::move(d));
  }
  return out;
}

expected<std::uint64_t> runtime::retry(std::string_view id) {
  actors::control_request req;
  req.what = actors::control_request::op::retry;
  req.id = std::string(id);
  auto r = impl_->call(std::move(req));
  if (!r)
    return r.error();
  return r->count;
}

expected<void> runtime::set_parallelism(std::string_view id, std::uint32_t parallelism) {
  actors::control_request req;
  req.what = actors::control_request::op::job_parallelism;
  req.id = std::string(id);
  req.parallelism = parallelism;
  auto r = impl_->call(std::move(req));
  if (!r)
    return r.error();
  return {};
}

expected<void> runtime::pause(std::string_view id) {
  actors::control_request req;
  req.what = actors::control_request::op::pause;
  req.id = std::string(id);
  if (auto r = impl_->call(std::move(req)); !r)
    return r.error();
  return {};
}

expected<void> runtime::resume(std::string_view id) {
  actors::control_request req;
  req.what = actors::control_request::op::resume;
  req.id = std::string(id);
  if (auto r = impl_->call(std::move(req)); !r)
    return r.error();
  return {};
}

void runtime::set_parallelism(std::uint32_t parallelism) {
  actors::control_request req;
  req.what = actors::control_request::op::parallelism;
  req.parallelism = parallelism;
  (void)impl_->call(std::move(req)); // fails only when stopped, when it no longer matters
}

void runtime::stop() {
  std::lock_guard<std::mutex> guard(impl_->stop_mutex);
  if (impl_->stopped)
    return;
  impl_->stopped = true;
  actors::control_request req;
  req.what = actors::control_request::op::stop;
  (void)impl_->call(std::move(req)); // an already stopped supervisor has nothing to persist
  impl_->kinds->stop_all();
}

const recovery_report& runtime::recovery() const {
  return impl_->report;
}

static_assert(loop_health::probe_interval == std::chrono::milliseconds(1000),
              "loop_report::lag_at counts a probe overdue after this interval");

loop_report runtime::loop() const {
  const auto& h = *impl_->health;
  return {h.last_turn_ms.load(), h.lag_ms.load(),       h.last_probe_ms.load(),
          h.stopped.load(),      h.store_failed.load(), h.task_functions.load()};
}

const runtime_options& runtime::options() const {
  return impl_->options;
}

} // namespace haul
