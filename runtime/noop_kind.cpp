#include "runtime/noop_kind.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <thread>
#include <unistd.h>
#include <unordered_map>

#include "runtime/param_values.hpp"

namespace haul {

namespace {

std::uint64_t param_u64(const job_params& p, std::string_view key) {
  auto it = p.find(key);
  return it == p.end() ? 0 : std::stoull(it->second);
}

/// One descriptor per witness path for the life of the process: an O_APPEND write of 16
/// bytes is atomic, and a SIGKILL cannot tear it.
int witness_fd(const std::string& path) {
  static std::mutex mutex;
  static std::unordered_map<std::string, int> fds;
  std::lock_guard<std::mutex> guard(mutex);
  auto it = fds.find(path);
  if (it != fds.end())
    return it->second;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  fds.emplace(path, fd);
  return fd;
}

outcome run_noop(task_context& ctx) {
  const auto& p = ctx.params();
  if (auto it = p.find("witness"); it != p.end()) {
    int fd = witness_fd(it->second);
    if (fd < 0)
      return outcome::fail("noop: cannot open witness " + it->second + ": " + std::strerror(errno));
    unsigned char rec[16];
    auto gen = ctx.generation();
    auto idx = ctx.index();
    for (int i = 0; i < 8; ++i) {
      rec[i] = static_cast<unsigned char>(gen >> (8 * i));
      rec[8 + i] = static_cast<unsigned char>(idx >> (8 * i));
    }
    if (::write(fd, rec, sizeof(rec)) != static_cast<ssize_t>(sizeof(rec)))
      return outcome::fail("noop: witness write failed");
  }
  // Permanent failures for a share of the tasks: a job that completes with failures.
  if (auto every = param_u64(p, "fail_every"); every > 0 && ctx.index() % every == 0)
    return outcome::fail("noop: task " + std::to_string(ctx.index()) + " fails by fail_every");
  auto fail_first = param_u64(p, "fail_first");
  if (ctx.attempt() <= fail_first)
    return outcome::retry("noop: injected failure " + std::to_string(ctx.attempt()) + " of " +
                          std::to_string(fail_first));
  if (auto sleep = param_u64(p, "sleep_ms"); sleep > 0) {
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(sleep);
    bool stubborn = param_u64(p, "ignore_stop") != 0; // a task that outlasts shutdown_grace
    while (std::chrono::steady_clock::now() < until) {
      if (ctx.stop_requested() && !stubborn)
        return outcome::cancelled();
      auto left = until - std::chrono::steady_clock::now();
      std::this_thread::sleep_for(
          std::min<std::chrono::steady_clock::duration>(left, std::chrono::milliseconds(20)));
      ctx.heartbeat();
    }
  }
  return outcome::success();
}

std::string validate_noop(const job_params& p) {
  std::vector<std::string_view> noop_keys = {"sleep_ms", "fail_first", "fail_every", "ignore_stop",
                                             "witness"};
  noop_keys.insert(noop_keys.end(), common_job_keys().begin(), common_job_keys().end());
  problem_list problems;
  for (const auto& [key, value] : p) {
    if (key == "witness") {
      if (value.empty())
        problems.add("witness: expected a file path, found an empty string");
      continue;
    }
    if (key != "sleep_ms" && key != "fail_first" && key != "fail_every" && key != "ignore_stop") {
      problems.add(
          "unknown key '" + key + "'" + did_you_mean(key, noop_keys) +
          " for kind noop (expected sleep_ms, fail_first, fail_every, ignore_stop, witness)");
      continue;
    }
    if (value.empty() || value.find_first_not_of("0123456789") != std::string::npos)
      problems.add(key + ": expected a non-negative integer, found " + shown_value(value));
    else if (value.size() > 18)
      problems.add(key + ": expected an integer of at most 18 digits, found " + value);
  }
  if (!problems.empty())
    return problems.to_error().message;
  return {};
}

} // namespace

kind_entry make_noop_kind() {
  kind_entry k;
  k.name = "noop";
  k.run = run_noop;
  k.runs_inline = [](const job_params& p) { return param_u64(p, "sleep_ms") == 0; };
  k.validate = validate_noop;
  return k;
}

} // namespace haul
