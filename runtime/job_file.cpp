#include "runtime/job_file.hpp"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "runtime/duration.hpp"
#include "runtime/job_identity.hpp"
#include "runtime/param_values.hpp"
#include "runtime/retry_policy.hpp"

namespace haul {

namespace {

class problems {
 public:
  explicit problems(std::string path)
      : path_(std::move(path)) {}

  void add(const toml::source_region& where, const std::string& what) {
    list_.push_back(path_ + ":" + std::to_string(where.begin.line) + ":" +
                    std::to_string(where.begin.column) + ": " + what);
  }
  void add_at_file(const std::string& what) { list_.push_back(path_ + ": " + what); }
  bool empty() const { return list_.empty(); }
  std::string text() const {
    std::string out;
    for (const auto& p : list_)
      out += (out.empty() ? "" : "\n") + p;
    return out;
  }

 private:
  std::string path_;
  std::vector<std::string> list_;
};

file_place place_of(const toml::node& n) {
  return {static_cast<std::uint32_t>(n.source().begin.line),
          static_cast<std::uint32_t>(n.source().begin.column)};
}

const char* type_name(const toml::node& n) {
  switch (n.type()) {
  case toml::node_type::string:
    return "a string";
  case toml::node_type::integer:
    return "an integer";
  case toml::node_type::floating_point:
    return "a number";
  case toml::node_type::boolean:
    return "a boolean";
  case toml::node_type::table:
    return "a table";
  case toml::node_type::array:
    return "an array";
  default:
    return "a date or time";
  }
}

/// Reads the keys of one table, checking types; remembers which keys were consumed so the
/// rest can be reported as unknown.
class table_reader {
 public:
  table_reader(const toml::table& t, std::string where, problems& p)
      : t_(t)
      , where_(std::move(where))
      , p_(p) {}

  const toml::node* get(std::string_view key) {
    seen_.emplace_back(key);
    return t_.get(key);
  }

  std::optional<std::string> string(std::string_view key) {
    auto* n = get(key);
    if (!n)
      return std::nullopt;
    if (auto v = n->value<std::string>(); v && n->is_string())
      return *v;
    expected_type(*n, key, "a string");
    return std::nullopt;
  }

  std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max) {
    auto* n = get(key);
    if (!n)
      return std::nullopt;
    if (!n->is_integer()) {
      expected_type(*n, key, "an integer");
      return std::nullopt;
    }
    auto v = *n->value<std::int64_t>();
    if (v < min || v > max) {
      p_.add(n->source(), where_ + key_text(key) + ": expected an integer from " +
                              std::to_string(min) + " to " + std::to_string(max) + ", found " +
                              std::to_string(v));
      return std::nullopt;
    }
    return v;
  }

  std::optional<double> number(std::string_view key, double min) {
    auto* n = get(key);
    if (!n)
      return std::nullopt;
    if (!n->is_number()) {
      expected_type(*n, key, "a number");
      return std::nullopt;
    }
    auto v = *n->value<double>();
    if (!(v >= min)) {
      p_.add(n->source(), where_ + key_text(key) + ": expected a number of at least " +
                              std::to_string(min) + ", found " + std::to_string(v));
      return std::nullopt;
    }
    return v;
  }

  std::optional<std::int64_t> duration(std::string_view key) {
    auto* n = get(key);
    if (!n)
      return std::nullopt;
    auto text = n->value<std::string>();
    if (!n->is_string() || !text) {
      expected_type(*n, key, "a duration string such as \"250ms\", \"30s\", \"5m\"");
      return std::nullopt;
    }
    auto ms = parse_duration_ms(*text);
    if (!ms)
      p_.add(n->source(), where_ + key_text(key) +
                              ": expected a duration such as \"250ms\", \"30s\", \"5m\", \"24h\", "
                              "found \"" +
                              *text + "\"");
    return ms;
  }

  /// Keys present in the table that no get() asked for.
  void reject_unknown(const std::vector<std::string_view>& also_allowed = {}) {
    for (const auto& [k, v] : t_) {
      auto key = k.str();
      if (std::find(seen_.begin(), seen_.end(), key) != seen_.end() ||
          std::find(also_allowed.begin(), also_allowed.end(), key) != also_allowed.end())
        continue;
      p_.add(v.source(), where_ + ": unknown key '" + std::string(key) + "'" + suggest(key));
    }
  }

  std::string suggest(std::string_view key) const { return did_you_mean(key, seen_); }

  const std::string& where() const { return where_; }

 private:
  static std::string key_text(std::string_view key) { return "." + std::string(key); }

  void expected_type(const toml::node& n, std::string_view key, const char* want) {
    p_.add(n.source(), where_ + key_text(key) + ": expected " + want + ", found " + type_name(n));
  }

  const toml::table& t_;
  std::string where_;
  problems& p_;
  std::vector<std::string_view> seen_;
};

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

std::string scalar_text(const toml::node& n) {
  if (auto s = n.value<std::string>(); n.is_string() && s)
    return *s;
  if (n.is_integer())
    return std::to_string(*n.value<std::int64_t>());
  if (n.is_boolean())
    return *n.value<bool>() ? "true" : "false";
  if (n.is_floating_point()) {
    // The shortest text that reads back as the same double: 2.0 -> "2", 0.1 -> "0.1".
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof(buf), *n.value<double>());
    return std::string(buf, r.ptr);
  }
  return {};
}

/// Params are strings, numbers or booleans; a date, time, array or deeper table is not.
bool is_param_scalar(const toml::node& n) {
  return n.is_string() || n.is_integer() || n.is_boolean() || n.is_floating_point();
}

/// Kind parameters that name local files: relative ones are relative to the job file (as is
/// [runtime] store), so that `haul run` works, and gives the same job ids, from any directory.
const std::set<std::string, std::less<>> path_keys = {"source", "manifest", "database", "output"};

std::string resolve_path(const std::string& value, const std::string& job_file_path) {
  std::filesystem::path v(value);
  if (value.empty() || v.is_absolute() || job_file_path.empty())
    return value;
  auto base = std::filesystem::absolute(std::filesystem::path(job_file_path)).parent_path();
  return (base / v).lexically_normal().string();
}

service::server_settings read_server(const toml::table& t, const std::string& path, problems& p) {
  service::server_settings out;
  table_reader r(t, "server", p);
  if (auto* n = r.get("listen")) {
    auto v = n->value<std::string>();
    if (!n->is_string() || !v) {
      p.add(n->source(), "server.listen: expected a string such as \"127.0.0.1:8700\"");
    } else if (auto a = service::parse_listen(*v); !a) {
      p.add(n->source(), "server.listen: " + a.error().message);
    } else {
      out.listen = *v;
    }
  }
  if (auto* n = r.get("export_roots")) {
    auto* roots = n->as_array();
    if (!roots)
      p.add(n->source(), "server.export_roots: expected an array of directory paths");
    else
      for (std::size_t i = 0; i < roots->size(); ++i) {
        const auto& e = (*roots)[i];
        auto v = e.value<std::string>();
        if (!e.is_string() || !v || v->empty())
          p.add(e.source(), "server.export_roots[" + std::to_string(i) +
                                "]: expected a directory path, found " +
                                (v ? "an empty string" : type_name(e)));
        else
          out.export_roots.push_back(resolve_path(*v, path));
      }
  }
  if (auto v = r.string("token_env")) {
    if (v->empty())
      p.add(t.source(), "server.token_env: expected the name of an environment variable");
    out.token_env = *v;
  }
  if (auto* n = r.get("s3")) {
    if (auto* s3 = n->as_table()) {
      for (const auto& [k, v] : *s3) {
        if (is_param_scalar(v))
          out.s3["s3." + std::string(k.str())] = scalar_text(v);
        else
          p.add(v.source(), "server.s3." + std::string(k.str()) +
                                ": expected a string, number or boolean, found " + type_name(v));
      }
    } else {
      p.add(n->source(), "server.s3: expected a table ([server.s3])");
    }
  }
  r.reject_unknown();
  return out;
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
  problems p(path);
  job_file out;
  out.path = path;
  table_reader top(root, "", p);

  if (auto* rt_node = top.get("runtime")) {
    if (auto* rt = rt_node->as_table()) {
      table_reader r(*rt, "runtime", p);
      if (auto v = r.string("store")) {
        out.runtime.store = resolve_path(*v, path);
        out.store_set = true;
      }
      if (auto v = r.integer("parallelism", 0, 1'000'000))
        out.runtime.parallelism = static_cast<std::uint32_t>(*v);
      if (auto* n = r.get("sync")) {
        auto v = n->value<std::string>();
        if (v && *v == "batch")
          out.runtime.sync = sync_mode::batch;
        else if (v && *v == "always")
          out.runtime.sync = sync_mode::always;
        else if (v && *v == "off")
          out.runtime.sync = sync_mode::off;
        else
          p.add(n->source(), "runtime.sync: expected \"batch\", \"always\" or \"off\"");
      }
      read_retry(r, out.runtime.retry);
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
      if (auto* n = r.get("log_level")) {
        auto v = n->value<std::string>();
        auto lvl = v ? log::parse_level(*v) : std::nullopt;
        if (lvl) {
          out.log_level = *lvl;
          out.log_level_set = true;
        }
        else
          p.add(n->source(),
                "runtime.log_level: expected \"debug\", \"info\", \"warn\" or \"error\"");
      }
      if (auto* n = r.get("log_format")) {
        auto v = n->value<std::string>();
        auto fmt = v ? log::parse_format(*v) : std::nullopt;
        if (fmt)
          out.log_format = *fmt;
        else
          p.add(n->source(), "runtime.log_format: expected \"text\" or \"json\"");
      }
      if (auto why = validate(out.runtime.retry); !why.empty())
        p.add(rt->source(), "runtime: " + why);
      r.reject_unknown();
    } else {
      p.add(rt_node->source(), "runtime: expected a table ([runtime])");
    }
  }

  if (auto* jobs_node = top.get("job")) {
    auto* jobs = jobs_node->as_array();
    if (!jobs) {
      p.add(jobs_node->source(), "job: expected an array of tables ([[job]])");
    } else {
      std::vector<std::string> names;
      for (std::size_t i = 0; i < jobs->size(); ++i) {
        auto* t = (*jobs)[i].as_table();
        if (!t) {
          p.add((*jobs)[i].source(), "job[" + std::to_string(i) + "]: expected a table");
          continue;
        }
        table_reader r(*t, "job[" + std::to_string(i) + "]", p);
        job_spec spec;
        job_places places;
        places.table = place_of(*t);
        if (auto* k = t->get("kind"))
          places.kind = place_of(*k);
        auto name = r.string("name");
        if (!name) {
          if (!t->get("name"))
            p.add(t->source(), r.where() + ": missing key 'name'");
        } else if (auto why = validate_job_name(*name); !why.empty()) {
          p.add(t->get("name")->source(), r.where() + ".name: " + why);
        } else if (std::find(names.begin(), names.end(), *name) != names.end()) {
          p.add(t->get("name")->source(),
                r.where() + ".name: job name '" + *name + "' is used twice; names must be unique");
        } else {
          names.push_back(*name);
          spec.name = *name;
        }
        auto kind = r.string("kind");
        if (!kind && !t->get("kind"))
          p.add(t->source(), r.where() + ": missing key 'kind'");
        spec.kind = kind.value_or("");
        if (auto v = r.integer("tasks", 0, std::numeric_limits<std::int64_t>::max()))
          spec.tasks = static_cast<std::uint64_t>(*v);
        if (auto v = r.integer("parallelism", 0, 1'000'000))
          spec.parallelism = static_cast<std::uint32_t>(*v);
        retry_policy policy = out.runtime.retry;
        bool policy_set = t->get("max_attempts") || t->get("initial_backoff") ||
                          t->get("backoff_base") || t->get("max_backoff");
        read_retry(r, policy);
        if (policy_set) {
          if (auto why = validate(policy); !why.empty())
            p.add(t->source(), r.where() + ": " + why);
          spec.retry = policy;
        }
        if (auto v = r.duration("task_timeout"))
          spec.task_timeout = std::chrono::milliseconds(*v);
        if (auto v = r.string("fingerprint"))
          spec.fingerprint = *v;
        // Every other scalar key is a kind-specific parameter; the kind validates them.
        for (const auto& [k, v] : *t) {
          auto key = std::string(k.str());
          static const char* const common[] = {"name",         "kind",         "tasks",
                                               "parallelism",  "max_attempts", "initial_backoff",
                                               "backoff_base", "max_backoff",  "task_timeout",
                                               "fingerprint"};
          if (std::find(std::begin(common), std::end(common), key) != std::end(common))
            continue;
          if (auto* sub = v.as_table()) {
            // One level of sub-tables ([job.s3], [job.headers]) arrives as "s3.endpoint".
            for (const auto& [sk, sv] : *sub) {
              auto full = key + "." + std::string(sk.str());
              if (!is_param_scalar(sv))
                p.add(sv.source(),
                      r.where() + "." + full + ": expected a string, number or boolean");
              else
                spec.params[full] = scalar_text(sv);
              places.params[full] = place_of(sv);
            }
            continue;
          }
          if (!is_param_scalar(v)) {
            p.add(v.source(), r.where() + "." + key + ": expected a string, number or boolean");
            continue;
          }
          spec.params[key] = path_keys.count(key) != 0 && v.is_string()
                                 ? resolve_path(scalar_text(v), path)
                                 : scalar_text(v);
          places.params[key] = place_of(v);
        }
        out.jobs.push_back(std::move(spec));
        out.places.push_back(std::move(places));
      }
    }
  }
  if (auto* server_node = top.get("server")) {
    if (auto* t = server_node->as_table())
      out.server = read_server(*t, path, p);
    else
      p.add(server_node->source(), "server: expected a table ([server])");
  }
  top.reject_unknown();
  if (out.jobs.empty() && !out.server && p.empty())
    p.add_at_file("no [[job]] entries: nothing to run");
  if (!p.empty())
    return make_error(errc::invalid_argument, p.text());
  return out;
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
