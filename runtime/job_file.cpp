#include "runtime/job_file.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "runtime/duration.hpp"
#include "runtime/job_identity.hpp"
#include "runtime/param_values.hpp"
#include "runtime/retry_policy.hpp"
#include "runtime/toml_reader.hpp"

namespace haul {

namespace {

std::optional<sync_mode> parse_sync(std::string_view text) {
  if (text == "batch")
    return sync_mode::batch;
  if (text == "always")
    return sync_mode::always;
  if (text == "off")
    return sync_mode::off;
  return std::nullopt;
}

void read_retry(table_reader& r, retry_policy& policy) {
  if (auto v = r.integer("max_attempts", 1, 1'000'000))
    policy.max_attempts = static_cast<std::uint32_t>(*v);
  if (auto v = r.duration("initial_backoff"))
    policy.initial_backoff = std::chrono::milliseconds(*v);
  if (auto v = r.number("backoff_base", 1.0))
    policy.backoff_base = *v;
  if (auto v = r.duration("max_backoff"))
    policy.max_backoff = std::chrono::milliseconds(*v);
}

/// A duration in its largest whole unit, as a job file would spell it: 90000 -> "90s".
std::string duration_text(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms == 0)
    return "0s";
  for (auto [factor, unit] : {std::pair<std::int64_t, const char*>{86'400'000, "d"},
                              {3'600'000, "h"},
                              {60'000, "m"},
                              {1'000, "s"}})
    if (ms % factor == 0)
      return std::to_string(ms / factor) + unit;
  return std::to_string(ms) + "ms";
}

/// The retry policy's check across keys, made when every key read well: placed at the
/// backoff key this table sets (the other may come from [runtime] or the defaults). When
/// neither is set here, both came from [runtime], whose own check reported them.
void check_backoffs(const toml::table& t, const std::string& where, const retry_policy& policy,
                    file_problems& p) {
  if (policy.max_backoff < policy.initial_backoff) {
    if (auto* n = t.get("max_backoff"))
      p.add(n->source(), where + ".max_backoff: expected at least initial_backoff (\"" +
                             duration_text(policy.initial_backoff) + "\"), found \"" +
                             n->value_or<std::string>("") + "\"");
    else if (auto* n = t.get("initial_backoff"))
      p.add(n->source(), where + ".initial_backoff: expected at most max_backoff (\"" +
                             duration_text(policy.max_backoff) + "\"), found \"" +
                             n->value_or<std::string>("") + "\"");
    return;
  }
  // The reader's bounds cover validate()'s other rules; this keeps a new one from being lost.
  if (auto why = validate(policy); !why.empty())
    p.add(t.source(), where + ": " + why);
}

/// Kind parameters that name local files: relative ones are relative to the job file (as is
/// [runtime] store), so that `haul run` works, and gives the same job ids, from any directory.
const std::set<std::string, std::less<>> path_keys = {"source", "manifest"};

std::string resolve_path(const std::string& value, const std::string& job_file_path) {
  std::filesystem::path v(value);
  if (value.empty() || v.is_absolute() || job_file_path.empty())
    return value;
  auto base = std::filesystem::absolute(std::filesystem::path(job_file_path)).parent_path();
  return (base / v).lexically_normal().string();
}

service::server_settings read_server(const toml::table& t, const std::string& path,
                                     file_problems& p, server_places& at) {
  service::server_settings out;
  table_reader r(t, "server", p);
  at.table = place_of(t);
  if (auto* n = r.get("listen")) {
    at.listen = place_of(*n);
    auto v = n->value<std::string>();
    if (!n->is_string() || !v) {
      p.add(n->source(), std::string("server.listen: expected a string such as "
                                     "\"127.0.0.1:8700\", found ") +
                             type_name(*n));
    } else if (auto a = service::parse_listen(*v); !a) {
      p.add(n->source(), "server.listen: " + a.error().message);
    } else {
      out.listen = *v;
    }
  }
  if (auto* n = r.get("export_roots")) {
    auto* roots = n->as_array();
    if (!roots)
      p.add(n->source(),
            std::string("server.export_roots: expected an array of directory paths, found ") +
                type_name(*n));
    else
      for (std::size_t i = 0; i < roots->size(); ++i) {
        const auto& e = (*roots)[i];
        auto v = e.value<std::string>();
        if (!e.is_string() || !v || v->empty()) {
          p.add(e.source(), "server.export_roots[" + std::to_string(i) +
                                "]: expected a directory path, found " +
                                (v ? "an empty string" : type_name(e)));
        } else {
          out.export_roots.push_back(resolve_path(*v, path));
          at.export_roots.push_back(place_of(e));
        }
      }
  }
  if (auto v = r.string("token_env")) {
    const auto* n = t.get("token_env");
    at.token_env = place_of(*n);
    if (auto why = env_name_problem(*v); !why.empty())
      p.add(n->source(), "server.token_env: " + why);
    else
      out.token_env = *v;
  }
  if (auto* n = r.get("s3")) {
    at.s3 = place_of(*n);
    if (auto* s3 = n->as_table()) {
      for (const auto& [k, v] : *s3) {
        auto key = "s3." + std::string(k.str());
        at.s3_keys[key] = place_of(v);
        if (is_param_scalar(v))
          out.s3[key] = scalar_text(v);
        else
          p.add(v.source(),
                "server." + key + ": expected a string, number or boolean, found " + type_name(v));
      }
    } else {
      p.add(n->source(),
            std::string("server.s3: expected a table ([server.s3]), found ") + type_name(*n));
    }
  }
  r.reject_unknown();
  return out;
}

/// [runtime] into `out` (runtime options, log settings).
void read_runtime(const toml::table& rt, const std::string& path, file_problems& p, job_file& out) {
  table_reader r(rt, "runtime", p);
  if (auto v = r.string("store")) {
    out.runtime.store = resolve_path(*v, path);
    out.store_set = true;
  }
  if (auto v = r.integer("parallelism", 0, 1'000'000))
    out.runtime.parallelism = static_cast<std::uint32_t>(*v);
  if (auto v = r.choice("sync", "\"batch\", \"always\" or \"off\"", parse_sync))
    out.runtime.sync = *v;
  auto before_retry = p.count();
  read_retry(r, out.runtime.retry);
  auto retry_read = p.count() == before_retry;
  if (auto v = r.duration("task_timeout"))
    out.runtime.task_timeout = std::chrono::milliseconds(*v);
  if (auto v = r.duration("retention"))
    out.runtime.retention = std::chrono::milliseconds(*v);
  if (auto v = r.duration("report_interval"))
    out.runtime.report_interval = std::chrono::milliseconds(std::max<std::int64_t>(*v, 1));
  if (auto v = r.duration("shutdown_grace"))
    out.runtime.shutdown_grace = std::chrono::milliseconds(*v);
  if (auto v = r.integer("threads", 0, 256))
    out.runtime.scheduler_threads = static_cast<std::uint32_t>(*v);
  if (auto v =
          r.choice("log_level", "\"debug\", \"info\", \"warn\" or \"error\"", log::parse_level)) {
    out.log_level = *v;
    out.log_level_set = true;
  }
  if (auto v = r.choice("log_format", "\"text\" or \"json\"", log::parse_format))
    out.log_format = *v;
  if (retry_read)
    check_backoffs(rt, "runtime", out.runtime.retry, p);
  r.reject_unknown();
}

/// One [[job]] table, the i-th. `names` are those of the jobs before it; `defaults` is the
/// [runtime] retry policy, which keys of the job override one by one.
std::pair<job_spec, job_places> read_job(const toml::table& t, std::size_t i,
                                         const std::string& path, const retry_policy& defaults,
                                         std::vector<std::string>& names, file_problems& p) {
  table_reader r(t, "job[" + std::to_string(i) + "]", p);
  job_spec spec;
  job_places places;
  places.table = place_of(t);
  if (auto* k = t.get("kind"))
    places.kind = place_of(*k);
  auto name = r.string("name");
  if (!name) {
    if (!t.get("name"))
      p.add(t.source(), r.where() + ": missing key 'name'");
  } else if (auto why = validate_job_name(*name); !why.empty()) {
    p.add(t.get("name")->source(), r.where() + ".name: " + why);
  } else if (std::find(names.begin(), names.end(), *name) != names.end()) {
    p.add(t.get("name")->source(),
          r.where() + ".name: job name '" + *name + "' is used twice; names must be unique");
  } else {
    names.push_back(*name);
    spec.name = *name;
  }
  auto kind = r.string("kind");
  if (!kind && !t.get("kind"))
    p.add(t.source(), r.where() + ": missing key 'kind'");
  spec.kind = kind.value_or("");
  if (auto v = r.integer("tasks", 0, std::numeric_limits<std::int64_t>::max()))
    spec.tasks = static_cast<std::uint64_t>(*v);
  if (auto v = r.integer("parallelism", 0, 1'000'000))
    spec.parallelism = static_cast<std::uint32_t>(*v);
  retry_policy policy = defaults;
  bool policy_set = t.get("max_attempts") || t.get("initial_backoff") || t.get("backoff_base") ||
                    t.get("max_backoff");
  auto before_retry = p.count();
  read_retry(r, policy);
  if (policy_set) {
    if (p.count() == before_retry)
      check_backoffs(t, r.where(), policy, p);
    spec.retry = policy;
  }
  if (auto v = r.duration("task_timeout"))
    spec.task_timeout = std::chrono::milliseconds(*v);
  if (auto v = r.string("fingerprint"))
    spec.fingerprint = *v;
  // Every other scalar key is a kind-specific parameter; the kind validates them.
  auto add_param = [&](const std::string& key, const toml::node& v, bool top_level) {
    if (!is_param_scalar(v)) {
      p.add(v.source(), r.where() + "." + key + ": expected a string, number or boolean, found " +
                            type_name(v));
      return;
    }
    // A quoted "s3.region" and [job.s3] region are the same param: one would be lost.
    if (places.params.count(key) != 0) {
      p.add(v.source(), r.where() + "." + key +
                            ": set twice, as a quoted dotted key and in a sub-table; keep one");
      return;
    }
    spec.params[key] = top_level && path_keys.count(key) != 0 && v.is_string()
                           ? resolve_path(scalar_text(v), path)
                           : scalar_text(v);
    places.params[key] = place_of(v);
  };
  for (const auto& [k, v] : t) {
    auto key = std::string(k.str());
    const auto& common = common_job_keys();
    if (std::find(common.begin(), common.end(), key) != common.end())
      continue;
    if (auto* sub = v.as_table()) {
      // One level of sub-tables ([job.s3], [job.headers]) arrives as "s3.endpoint".
      for (const auto& [sk, sv] : *sub)
        add_param(key + "." + std::string(sk.str()), sv, false);
      continue;
    }
    add_param(key, v, true);
  }
  return {std::move(spec), std::move(places)};
}

} // namespace

expected<job_file> parse_job_file(const std::string& text, const std::string& path) {
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return make_error(errc::invalid_argument,
                      path + ":" + std::to_string(where.line) + ":" + std::to_string(where.column) +
                          ": invalid TOML: " + std::string(e.description()));
  }
  file_problems p(path);
  job_file out;
  out.path = path;
  table_reader top(root, "", p);

  if (auto* rt_node = top.get("runtime")) {
    if (auto* rt = rt_node->as_table()) {
      read_runtime(*rt, path, p, out);
    } else {
      p.add(rt_node->source(),
            std::string("runtime: expected a table ([runtime]), found ") + type_name(*rt_node));
    }
  }

  if (auto* jobs_node = top.get("job")) {
    auto* jobs = jobs_node->as_array();
    if (!jobs) {
      p.add(jobs_node->source(), std::string("job: expected an array of tables ([[job]]), found ") +
                                     type_name(*jobs_node));
    } else {
      std::vector<std::string> names;
      for (std::size_t i = 0; i < jobs->size(); ++i) {
        auto* t = (*jobs)[i].as_table();
        if (!t) {
          p.add((*jobs)[i].source(),
                "job[" + std::to_string(i) + "]: expected a table, found " + type_name((*jobs)[i]));
          continue;
        }
        auto [spec, places] = read_job(*t, i, path, out.runtime.retry, names, p);
        out.jobs.push_back(std::move(spec));
        out.places.push_back(std::move(places));
      }
    }
  }
  if (auto* server_node = top.get("server")) {
    if (auto* t = server_node->as_table())
      out.server = read_server(*t, path, p, out.server_at);
    else
      p.add(server_node->source(),
            std::string("server: expected a table ([server]), found ") + type_name(*server_node));
  }
  top.reject_unknown();
  if (out.jobs.empty() && !out.server && p.empty())
    p.add_at_file("no [[job]] entries: nothing to run");
  if (!p.empty())
    return make_error(errc::invalid_argument, p.text());
  return out;
}

std::string place_text(const std::string& path, file_place at) {
  if (at.line == 0)
    return path + ": ";
  return path + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) + ": ";
}

expected<job_file> load_job_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return make_error(errc::invalid_argument, path + ": cannot read the job file");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_job_file(text.str(), path);
}

} // namespace haul
