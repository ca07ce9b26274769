#include "runtime/job_validation.hpp"

#include "runtime/export/export_kind.hpp"
#include "runtime/noop_kind.hpp"
#include "runtime/upload/upload_kind.hpp"

namespace haul {

file_place place_for(const job_places& places, const std::string& message) {
  // "unknown key 'key' (did you mean 'other'?)": the first quoted key, never the suggestion.
  const std::string unknown = "unknown key '";
  if (message.starts_with(unknown)) {
    auto end = message.find('\'', unknown.size());
    if (end != std::string::npos)
      if (auto it = places.params.find(message.substr(unknown.size(), end - unknown.size()));
          it != places.params.end())
        return it->second;
  }
  // "key: what": the key the kind names first.
  if (auto colon = message.find(": "); colon != std::string::npos)
    if (auto it = places.params.find(message.substr(0, colon)); it != places.params.end())
      return it->second;
  // "key must be ...": the key, then a space.
  if (auto space = message.find(' '); space != std::string::npos)
    if (auto it = places.params.find(message.substr(0, space)); it != places.params.end())
      return it->second;
  // "unknown key 'key' ...": a quoted key.
  for (const auto& [key, place] : places.params)
    if (message.find("'" + key + "'") != std::string::npos)
      return place;
  return places.table;
}

std::vector<std::string> check_job_kinds(const job_file& file, const kind_registry& kinds) {
  std::vector<std::string> out;
  auto at = [&](file_place p) { return place_text(file.path, p); };
  for (std::size_t i = 0; i < file.jobs.size() && i < file.places.size(); ++i) {
    const auto& spec = file.jobs[i];
    const auto& places = file.places[i];
    auto kind = kinds.find(spec.kind);
    if (!kind) {
      out.push_back(at(places.kind) + "job " + spec.name + ": unknown kind '" + spec.kind +
                    "' (built in: export, noop, upload)");
      continue;
    }
    // One problem a line: each at the key it names.
    auto why = kind->validate(spec.params);
    std::size_t start = 0;
    while (start < why.size()) {
      auto end = why.find('\n', start);
      if (end == std::string::npos)
        end = why.size();
      auto problem = why.substr(start, end - start);
      if (!problem.empty())
        out.push_back(at(place_for(places, problem)) + "job " + spec.name + ": " + problem);
      start = end + 1;
    }
  }
  return out;
}

void add_builtin_kinds(kind_registry& kinds) {
  for (auto&& kind : {make_noop_kind(), make_upload_kind(), make_export_kind()})
    (void)kinds.add(kind); // distinct names: cannot fail
}

} // namespace haul
