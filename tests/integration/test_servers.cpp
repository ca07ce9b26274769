#include "test_servers.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iostream>
#include <spawn.h>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <utility>

#ifndef HAUL_SOURCE_DIR
#error "HAUL_SOURCE_DIR must name the project root (target_compile_definitions)"
#endif

extern char** environ;

namespace haul::test {

namespace {

namespace fs = std::filesystem;

struct script_result {
  int exit_code = -1; // 128 + N when killed by signal N
  std::string out;
  std::string err;
};

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs `bash scripts/test-servers/SCRIPT ARGS...`. Its stdout comes back through a pipe; its
// stderr goes to a file in the run directory, so a chatty script (npm ci) can never block on
// a pipe nobody reads, and the file stays for a look after a failure.
script_result run_script(const std::string& script, const std::vector<std::string>& args,
                         const fs::path& err_file) {
  const auto path = fs::path(HAUL_SOURCE_DIR) / "scripts" / "test-servers" / script;
  std::vector<std::string> argv_s{"bash", path.string()};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s)
    argv.push_back(a.data());
  argv.push_back(nullptr);

  // The scripts stop the server by themselves once this process is gone, should a test die
  // before its destructor runs.
  const std::string owner_var = "HAUL_TEST_SERVER_OWNER=";
  std::string owner = owner_var + std::to_string(::getpid());
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::string_view(*e).substr(0, owner_var.size()) != owner_var)
      envp.push_back(*e);
  }
  envp.push_back(owner.data());
  envp.push_back(nullptr);

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    throw std::system_error(errno, std::generic_category(), "pipe2");

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  pid_t child = 0;
  const int rc = ::posix_spawnp(&child, "bash", &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    throw std::system_error(rc, std::generic_category(), "posix_spawnp bash " + path.string());
  }

  // EOF comes when the script exits: the servers it starts hold none of its descriptors.
  script_result result;
  char buf[4096];
  for (;;) {
    const auto n = ::read(fds[0], buf, sizeof buf);
    if (n > 0)
      result.out.append(buf, static_cast<std::size_t>(n));
    else if (n == 0 || errno != EINTR)
      break;
  }
  ::close(fds[0]);

  int status = 0;
  while (::waitpid(child, &status, 0) < 0) {
    if (errno != EINTR)
      throw std::system_error(errno, std::generic_category(), "waitpid");
  }
  if (WIFEXITED(status))
    result.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    result.exit_code = 128 + WTERMSIG(status);
  result.err = read_file(err_file);
  return result;
}

[[noreturn]] void fail(const std::string& what, const script_result& r) {
  throw std::runtime_error(what + " (exit " + std::to_string(r.exit_code) + "): " + r.err +
                           (r.out.empty() ? "" : "\nstdout: " + r.out));
}

// Parses "METHOD URI STATUS LENGTH" from the right, so that only the URI can hold anything
// unexpected.
bool parse_line(std::string_view line, logged_request& req) {
  const auto s3 = line.rfind(' ');
  if (s3 == std::string_view::npos || s3 == 0)
    return false;
  const auto s2 = line.rfind(' ', s3 - 1);
  const auto s1 = line.find(' ');
  if (s2 == std::string_view::npos || s1 >= s2)
    return false;
  try {
    req.method = std::string(line.substr(0, s1));
    req.uri = std::string(line.substr(s1 + 1, s2 - s1 - 1));
    req.status = std::stoi(std::string(line.substr(s2 + 1, s3 - s2 - 1)));
    req.length = std::stoull(std::string(line.substr(s3 + 1)));
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

} // namespace

test_server test_server::launch(const std::string& script, const std::filesystem::path& rundir,
                                const std::vector<std::string>& extra_args) {
  std::filesystem::create_directories(rundir);
  const auto abs = std::filesystem::absolute(rundir);
  std::vector<std::string> args{"start", abs.string()};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  const auto r = run_script(script, args, abs / (script + ".start.stderr"));
  if (r.exit_code != 0)
    fail(script + " start " + abs.string() + " failed", r);

  // The script prints exactly one line; anything before it would be a script bug, but the
  // last line is what counts.
  int port = 0;
  int pid = 0;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    int a = 0;
    int b = 0;
    char tail = 0;
    if (std::sscanf(line.c_str(), "port=%d pid=%d%c", &a, &b, &tail) == 2) {
      port = a;
      pid = b;
    }
  }
  if (port <= 0 || pid <= 0)
    fail(script + " start printed no 'port=N pid=P' line", r);
  return test_server(script, abs, port, pid);
}

test_server::test_server(std::string script, std::filesystem::path rundir, int port, int pid)
    : script_(std::move(script))
    , rundir_(std::move(rundir))
    , port_(port)
    , pid_(pid)
    , running_(true) {}

test_server test_server::start_nginx(const std::filesystem::path& rundir, int flaky_percent) {
  return launch("nginx.sh", rundir, {std::to_string(flaky_percent)});
}

test_server test_server::start_s3rver(const std::filesystem::path& rundir,
                                      std::vector<std::string> buckets) {
  return launch("s3rver.sh", rundir, buckets);
}

test_server::test_server(test_server&& other) noexcept
    : script_(std::move(other.script_))
    , rundir_(std::move(other.rundir_))
    , port_(other.port_)
    , pid_(other.pid_)
    , running_(std::exchange(other.running_, false)) {}

test_server& test_server::operator=(test_server&& other) noexcept {
  if (this != &other) {
    stop_quietly();
    script_ = std::move(other.script_);
    rundir_ = std::move(other.rundir_);
    port_ = other.port_;
    pid_ = other.pid_;
    running_ = std::exchange(other.running_, false);
  }
  return *this;
}

test_server::~test_server() {
  stop_quietly();
}

void test_server::stop_quietly() noexcept {
  try {
    stop();
  } catch (const std::exception& e) {
    std::cerr << "test_server: " << e.what() << '\n';
  } catch (...) {
    std::cerr << "test_server: stopping the server failed\n";
  }
}

void test_server::stop() {
  if (!running_)
    return;
  running_ = false;
  const auto r =
      run_script(script_, {"stop", rundir_.string()}, rundir_ / (script_ + ".stop.stderr"));
  if (r.exit_code != 0)
    fail(script_ + " stop " + rundir_.string() + " failed", r);
}

std::string test_server::base_url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

std::vector<logged_request> test_server::requests() const {
  std::vector<logged_request> out;
  const auto text = read_file(rundir_ / "access.log");
  std::string_view rest(text);
  // A line without its newline is still being written: it is left for the next read.
  for (auto nl = rest.find('\n'); nl != std::string_view::npos; nl = rest.find('\n')) {
    logged_request req;
    if (parse_line(rest.substr(0, nl), req))
      out.push_back(std::move(req));
    rest.remove_prefix(nl + 1);
  }
  return out;
}

std::size_t test_server::count_requests(std::string_view method, std::string_view uri_prefix,
                                        int status) const {
  std::size_t n = 0;
  for (const auto& req : requests()) {
    if ((method.empty() || req.method == method) && req.uri.starts_with(uri_prefix) &&
        (status == 0 || req.status == status))
      ++n;
  }
  return n;
}

std::size_t test_server::wait_for_requests(std::string_view method, std::string_view uri_prefix,
                                           int status, std::size_t expected,
                                           std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto n = count_requests(method, uri_prefix, status);
    if (n >= expected || std::chrono::steady_clock::now() >= deadline)
      return n;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

} // namespace haul::test
