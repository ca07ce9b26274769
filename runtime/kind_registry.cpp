#include "runtime/kind_registry.hpp"

namespace haul {

expected<void> kind_registry::add(kind_entry entry) {
  if (entry.name.empty())
    return make_error(errc::invalid_argument, "a job kind needs a name");
  if (!entry.run)
    return make_error(errc::invalid_argument, "job kind " + entry.name + " has no task function");
  std::lock_guard<std::mutex> guard(mutex_);
  auto name = entry.name;
  auto [it, inserted] = kinds_.emplace(name, std::make_shared<const kind_entry>(std::move(entry)));
  if (!inserted)
    return make_error(errc::invalid_argument, "job kind " + name + " is already registered");
  return {};
}

std::shared_ptr<const kind_entry> kind_registry::find(const std::string& name) const {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = kinds_.find(name);
  return it == kinds_.end() ? nullptr : it->second;
}

} // namespace haul
