#pragma once

// A `haul run` child process for the crash tests, its output appended to a log file.

#include <string>

#include <fcntl.h>
#include <unistd.h>

namespace haul::test {

/// Forks and execs `haul run jobs` (HAUL_BINARY); returns the child's pid.
inline pid_t start_haul(const std::string& jobs, const std::string& log) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execl(HAUL_BINARY, "haul", "run", jobs.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

} // namespace haul::test
