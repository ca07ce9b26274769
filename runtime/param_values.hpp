#pragma once

// Typed values of a job's params (the strings of its [[job]] table), with errors that name
// the key, what was expected and what was found: `part_size: expected a size such as
// "512", "64KiB", "16MiB", "1GiB", found "x"`. Each getter returns the fallback when the key
// is absent.

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "haul/expected.hpp"
#include "haul/task.hpp"

namespace haul {

expected<bool> param_flag(const job_params& p, const std::string& key, bool fallback);
expected<std::uint64_t> param_size(const job_params& p, const std::string& key,
                                   std::uint64_t fallback);
expected<std::chrono::milliseconds> param_duration(const job_params& p, const std::string& key,
                                                   std::chrono::milliseconds fallback);
/// An integer in [lo, hi].
expected<std::uint32_t> param_count(const job_params& p, const std::string& key,
                                    std::uint32_t fallback, std::uint32_t lo, std::uint32_t hi);
/// One of `choices` (listed in the error).
expected<std::string> param_choice(const job_params& p, const std::string& key,
                                   std::string fallback,
                                   std::initializer_list<std::string_view> choices);
/// The name of an environment variable holding a secret; the variable must be set and not
/// empty. An empty `fallback` makes the key optional (then "" when absent). A value that is
/// not a variable's name is never echoed: it may be the secret itself.
expected<std::string> param_secret_env(const job_params& p, const std::string& key,
                                       std::string fallback);

/// A param's value as messages show it after "found": numbers and booleans bare, as TOML
/// writes them, other text in double quotes. A job's params have lost their TOML type, so
/// this is how the value most likely looked in the file.
std::string shown_value(std::string_view value);

/// Empty when `name` can name an environment variable (letters, digits, '_', not starting
/// with a digit), else what is wrong, completing "KEY: ".
std::string env_name_problem(std::string_view name);

/// A params parser's problems, collected so that validation reports every problem of a job
/// rather than the first: each check records its error and the parser goes on.
class problem_list {
 public:
  void add(std::string message) { messages_.push_back(std::move(message)); }
  void add(const error& e) { messages_.push_back(e.message); }
  /// Records the error of `e`, if any; true when `e` holds a value.
  template <class T>
  bool ok(const expected<T>& e) {
    if (e)
      return true;
    add(e.error());
    return false;
  }
  bool empty() const { return messages_.empty(); }
  /// invalid_argument with one problem a line, in the order they were found.
  error to_error() const;

 private:
  std::vector<std::string> messages_;
};

/// The keys of a [[job]] table that are not params (name, kind, tasks, parallelism, the retry
/// policy, task_timeout, fingerprint). A misspelt one arrives at the kind as a param, so a
/// kind's unknown-key message suggests from these too.
const std::vector<std::string_view>& common_job_keys();

/// Of `candidates`, the one closest to `key` by edit distance when it is a likely typo (at
/// most two edits away); empty when none is.
std::string nearest_key(std::string_view key, const std::vector<std::string_view>& candidates);
/// " (did you mean 'KEY'?)" for nearest_key's answer; empty when there is none.
std::string did_you_mean(std::string_view key, const std::vector<std::string_view>& candidates);

/// True when the environment variable is set and not empty.
bool env_set(const std::string& name);

/// Splits "scheme://host[:port]/rest" into scheme, host[:port] and rest (without the '/').
bool split_url(std::string_view url, std::string& scheme, std::string& host, std::string& rest);

} // namespace haul
