#pragma once

// Typed values of a job's params (the strings of its [[job]] table), with errors that name
// the key and what was expected: "part_size: expected a size such as \"64MiB\", found 'x'".
// Each getter returns the fallback when the key is absent.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

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

/// True when the environment variable is set and not empty.
bool env_set(const std::string& name);

/// Splits "scheme://host[:port]/rest" into scheme, host[:port] and rest (without the '/').
bool split_url(std::string_view url, std::string& scheme, std::string& host, std::string& rest);

} // namespace haul
