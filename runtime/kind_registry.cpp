#include "runtime/kind_registry.hpp"

#include <thread>

namespace haul {

expected<void> kind_registry::add(kind_entry entry) {
  if (entry.name.empty())
    return make_error(errc::invalid_argument, "a job kind needs a name");
  if (!entry.run == !entry.start)
    return make_error(errc::invalid_argument,
                      "job kind " + entry.name + " needs exactly one of run and start");
  std::lock_guard<std::mutex> guard(mutex_);
  auto name = entry.name;
  auto [it, inserted] = kinds_.emplace(name, std::make_shared<const kind_entry>(std::move(entry)));
  if (!inserted)
    return make_error(errc::invalid_argument, "job kind " + name + " is already registered");
  return {};
}

kind_entry entry_of(job_kind kind) {
  kind_entry e;
  e.name = std::move(kind.name);
  e.run = std::move(kind.run);
  e.start = std::move(kind.start);
  if (kind.validate)
    e.validate = std::move(kind.validate);
  e.list = std::move(kind.list);
  e.describe = std::move(kind.describe);
  e.adaptive_concurrency = kind.adaptive_concurrency;
  e.keep_final_checkpoint = kind.keep_final_checkpoint;
  e.discard = std::move(kind.discard);
  e.stop = std::move(kind.stop);
  return e;
}

void kind_registry::stop_all() {
  std::map<std::string, std::shared_ptr<const kind_entry>, std::less<>> kinds;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    kinds = kinds_;
    stopping_ = true;
    background_done_.wait(lock, [this] { return background_ == 0; });
  }
  // Outside the lock: a stop hook may take long, and must not block find().
  for (const auto& [name, k] : kinds)
    if (k->stop)
      k->stop();
}

void kind_registry::run_in_background(std::function<void()> work) {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    if (stopping_)
      return;
    ++background_;
  }
  // Detached, and counted instead of joined: a long-lived process that cancels many jobs
  // keeps no finished threads around. stop_all() waits for the count to reach zero.
  std::thread([this, work = std::move(work)] {
    work();
    std::lock_guard<std::mutex> guard(mutex_);
    --background_;
    background_done_.notify_all();
  }).detach();
}

std::shared_ptr<const kind_entry> kind_registry::find(const std::string& name) const {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = kinds_.find(name);
  return it == kinds_.end() ? nullptr : it->second;
}

} // namespace haul
