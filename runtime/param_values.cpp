#include "runtime/param_values.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>

#include "runtime/duration.hpp"

namespace haul {

expected<bool> param_flag(const job_params& p, const std::string& key, bool fallback) {
  auto it = p.find(key);
  if (it == p.end())
    return fallback;
  if (it->second == "true")
    return true;
  if (it->second == "false")
    return false;
  return make_error(errc::invalid_argument,
                    key + ": expected true or false, found " + shown_value(it->second));
}

expected<std::uint64_t> param_size(const job_params& p, const std::string& key,
                                   std::uint64_t fallback) {
  auto it = p.find(key);
  if (it == p.end())
    return fallback;
  auto v = parse_size(it->second);
  if (!v)
    return make_error(errc::invalid_argument, key + ": expected " + v.error().message + ", found " +
                                                  shown_value(it->second));
  return *v;
}

expected<std::chrono::milliseconds> param_duration(const job_params& p, const std::string& key,
                                                   std::chrono::milliseconds fallback) {
  auto it = p.find(key);
  if (it == p.end())
    return fallback;
  auto v = parse_duration_ms(it->second);
  if (!v)
    return make_error(errc::invalid_argument, key + ": expected " + v.error().message + ", found " +
                                                  shown_value(it->second));
  return std::chrono::milliseconds(*v);
}

expected<std::uint32_t> param_count(const job_params& p, const std::string& key,
                                    std::uint32_t fallback, std::uint32_t lo, std::uint32_t hi) {
  auto it = p.find(key);
  if (it == p.end())
    return fallback;
  const auto& v = it->second;
  if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(v) < lo || std::stoul(v) > hi)
    return make_error(errc::invalid_argument, key + ": expected an integer from " +
                                                  std::to_string(lo) + " to " + std::to_string(hi) +
                                                  ", found " + shown_value(v));
  return static_cast<std::uint32_t>(std::stoul(v));
}

expected<std::string> param_choice(const job_params& p, const std::string& key,
                                   std::string fallback,
                                   std::initializer_list<std::string_view> choices) {
  auto it = p.find(key);
  if (it == p.end())
    return fallback;
  std::string list;
  for (auto c : choices) {
    if (c == it->second)
      return it->second;
    list += list.empty() ? "" : ", ";
    list += '"' + std::string(c) + '"';
  }
  return make_error(errc::invalid_argument,
                    key + ": expected one of " + list + ", found " + shown_value(it->second));
}

expected<std::string> param_secret_env(const job_params& p, const std::string& key,
                                       std::string fallback) {
  auto it = p.find(key);
  std::string name = it == p.end() ? std::move(fallback) : it->second;
  if (it == p.end() && name.empty())
    return name;
  if (auto why = env_name_problem(name); !why.empty())
    return make_error(errc::invalid_argument, key + ": " + why);
  if (!env_set(name))
    return make_error(errc::invalid_argument,
                      key + ": environment variable " + name + " is not set");
  return name;
}

std::string shown_value(std::string_view value) {
  if (value == "true" || value == "false")
    return std::string(value);
  // As scalar_text writes a TOML number: an optional '-', then digits.
  auto digits = value.starts_with('-') ? value.substr(1) : value;
  if (!digits.empty() && digits.front() >= '0' && digits.front() <= '9') {
    double d = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), d);
    if (ec == std::errc() && end == value.data() + value.size())
      return std::string(value);
  }
  return '"' + std::string(value) + '"';
}

std::string env_name_problem(std::string_view name) {
  if (name.empty())
    return "expected the name of an environment variable, found an empty string";
  bool ok = !(name.front() >= '0' && name.front() <= '9') &&
            std::all_of(name.begin(), name.end(), [](char c) {
              return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '_';
            });
  // The value is not repeated: someone may have written the secret itself here.
  return ok ? std::string()
            : "expected the name of an environment variable (letters, digits and '_'), found "
              "other text; the secret goes in that variable, never in the job file";
}

bool env_set(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  return v && *v;
}

bool split_url(std::string_view url, std::string& scheme, std::string& host, std::string& rest) {
  auto sep = url.find("://");
  if (sep == std::string_view::npos)
    return false;
  scheme = std::string(url.substr(0, sep));
  auto after = url.substr(sep + 3);
  auto slash = after.find('/');
  host = std::string(after.substr(0, slash));
  rest = slash == std::string_view::npos ? std::string() : std::string(after.substr(slash + 1));
  return !host.empty() && host.find_first_of(" @?#") == std::string::npos;
}

namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

} // namespace

const std::vector<std::string_view>& common_job_keys() {
  static const std::vector<std::string_view> keys = {"name",         "kind",
                                                     "tasks",        "parallelism",
                                                     "max_attempts", "initial_backoff",
                                                     "backoff_base", "max_backoff",
                                                     "task_timeout", "fingerprint"};
  return keys;
}

std::string nearest_key(std::string_view key, const std::vector<std::string_view>& candidates) {
  std::string_view best;
  std::size_t best_d = 3;
  for (auto cand : candidates) {
    auto d = edit_distance(key, cand);
    if (d < best_d) {
      best_d = d;
      best = cand;
    }
  }
  return std::string(best);
}

std::string did_you_mean(std::string_view key, const std::vector<std::string_view>& candidates) {
  auto best = nearest_key(key, candidates);
  return best.empty() ? std::string() : " (did you mean '" + best + "'?)";
}

error problem_list::to_error() const {
  std::string text;
  for (const auto& m : messages_)
    text += (text.empty() ? "" : "\n") + m;
  return error{errc::invalid_argument, std::move(text)};
}

} // namespace haul
