#pragma once

// `haul` child processes for the tests that drive the real binary (HAUL_BINARY), their
// output appended to a log file.

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace haul::test {

/// Forks and execs `haul ARGS...`; returns the child's pid.
inline pid_t start_haul_with(const std::vector<std::string>& args, const std::string& log) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> argv{const_cast<char*>("haul")};
    for (const auto& a : args)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(HAUL_BINARY, argv.data());
    ::_exit(127);
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

} // namespace haul::test
