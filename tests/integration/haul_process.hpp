#pragma once

// `haul` child processes for the tests that drive the real binary (HAUL_BINARY), their
// output appended to a log file.

#include <chrono>
#include <cstdint>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace haul::test {

/// In a forked child: becomes `haul ARGS...` (exit 127 when it cannot).
[[noreturn]] inline void exec_haul(const std::vector<std::string>& args) {
  std::vector<char*> argv{const_cast<char*>("haul")};
  for (const auto& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execv(HAUL_BINARY, argv.data());
  ::_exit(127);
}

/// Forks and execs `haul ARGS...`; returns the child's pid.
inline pid_t start_haul_with(const std::vector<std::string>& args, const std::string& log) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    exec_haul(args);
  }
  return pid;
}

/// Forks and execs `haul run jobs`; returns the child's pid.
inline pid_t start_haul(const std::string& jobs, const std::string& log) {
  return start_haul_with({"run", jobs}, log);
}

/// Runs `haul ARGS...` to the end; returns its exit code (-1 when it did not exit normally).
inline int run_haul(const std::vector<std::string>& args, const std::string& log) {
  int status = 0;
  ::waitpid(start_haul_with(args, log), &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Lets haul run until `progress()` reaches `target`, then kills it with SIGKILL. False
/// when haul exited first (the job finished).
inline bool kill_at(pid_t pid, const std::function<std::uint64_t()>& progress,
                    std::uint64_t target) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (progress() < target) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid)
      return false;
    BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "haul made no progress");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  BOOST_REQUIRE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  return true;
}

/// Runs `haul run jobs` to the end and requires exit code 0.
inline void run_to_the_end(const std::string& jobs, const std::string& log) {
  BOOST_REQUIRE_MESSAGE(run_haul({"run", jobs}, log) == 0, "the final run failed:\n"
                                                               << read_text(log));
}

} // namespace haul::test
