// No-op throughput, memory and start-up of `haul run`, side by side with a raw baseline.
//
//   build/bench/noop_bench [--haul build/haul] [--tasks N] [--quick]
//
// For each parallelism (1, 64, 1024) and sync mode (batch, off) it runs a real `haul run`
// child process over a fresh store and reports tasks/s and peak RSS (wait4). The baseline is
// the least work any durable runtime must do for the same job: a loop with no actors that
// commits one done-bit per task through haul's own store, in batches of `parallelism`, with
// the same sync mode. The ratio haul/raw says what the actors and the scheduling cost on top.
// Last, start-up: time from exec to the first task execution on a store that holds a
// half-finished 1M-task job (the recovery pass scans it first).

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "storage/store.hpp"

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

namespace {

struct run_result {
  double seconds = 0;
  long max_rss_kb = 0;
  int status = 0;
};

std::string make_temp_dir() {
  auto tmpl = (fs::temp_directory_path() / "haul-bench-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr)
    throw std::runtime_error("mkdtemp failed");
  return tmpl;
}

void write_job(const std::string& path, const std::string& store, std::uint64_t tasks,
               unsigned parallelism, const char* sync, const std::string& witness = {}) {
  std::ofstream f(path);
  f << "[runtime]\nstore = \"" << store << "\"\nparallelism = " << parallelism << "\nsync = \""
    << sync << "\"\nreport_interval = \"1h\"\n[[job]]\nname = \"bench\"\n"
    << "kind = \"noop\"\ntasks = " << tasks << "\nfingerprint = \"bench\"\n";
  if (!witness.empty())
    f << "witness = \"" << witness << "\"\n";
}

pid_t spawn(const std::string& haul, const std::string& job) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    ::execl(haul.c_str(), "haul", "run", job.c_str(), "--quiet", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

run_result run_haul(const std::string& haul, const std::string& job) {
  auto start = clock_type::now();
  auto pid = spawn(haul, job);
  run_result r;
  struct rusage ru {};
  ::wait4(pid, &r.status, 0, &ru);
  r.seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  r.max_rss_kb = ru.ru_maxrss;
  return r;
}

/// The raw baseline: commit `tasks` done-bits in batches of `group`, nothing else.
double run_raw(const std::string& dir, std::uint64_t tasks, unsigned group, bool sync) {
  auto s = haul::storage::store::open(dir, sync ? haul::sync_mode::batch : haul::sync_mode::off);
  if (!s)
    throw std::runtime_error(s.error().message);
  auto start = clock_type::now();
  haul::storage::store_batch batch;
  haul::storage::job_record job;
  job.seq = 1;
  for (std::uint64_t i = 0; i < tasks;) {
    for (unsigned k = 0; k < group && i < tasks; ++k, ++i) {
      batch.mark_done(1, i);
      ++job.succeeded;
    }
    job.next_fresh = i;
    batch.put_job(job);
    if (!(*s)->commit(batch, sync))
      throw std::runtime_error("commit failed");
  }
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

} // namespace

int main(int argc, char** argv) {
  std::string haul = "build/haul";
  std::uint64_t big = 1'000'000;
  std::uint64_t small = 20'000; // parallelism 1 with sync = batch is one fsync per task
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--haul" && i + 1 < argc)
      haul = argv[++i];
    else if (a == "--tasks" && i + 1 < argc)
      big = std::stoull(argv[++i]);
    else if (a == "--quick") {
      big = 100'000;
      small = 2'000;
    }
  }
  if (!fs::exists(haul)) {
    std::fprintf(stderr, "no haul binary at %s (use --haul PATH)\n", haul.c_str());
    return 2;
  }

  std::printf("| parallelism | sync | tasks | haul tasks/s | raw loop tasks/s | haul/raw | "
              "haul peak RSS |\n|---:|---|---:|---:|---:|---:|---:|\n");
  for (unsigned p : {1u, 64u, 1024u}) {
    for (const char* sync : {"batch", "off"}) {
      auto tasks = p == 1 ? small : big;
      auto dir = make_temp_dir();
      write_job(dir + "/job.toml", dir + "/store", tasks, p, sync);
      auto r = run_haul(haul, dir + "/job.toml");
      if (!WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0) {
        std::fprintf(stderr, "haul run failed (status %d)\n", r.status);
        return 1;
      }
      double raw = run_raw(dir + "/raw", tasks, p, std::strcmp(sync, "batch") == 0);
      double haul_rate = static_cast<double>(tasks) / r.seconds;
      double raw_rate = static_cast<double>(tasks) / raw;
      std::printf("| %u | %s | %llu | %.0f | %.0f | %.2f | %.1f MB |\n", p, sync,
                  static_cast<unsigned long long>(tasks), haul_rate, raw_rate, haul_rate / raw_rate,
                  static_cast<double>(r.max_rss_kb) / 1024.0);
      std::fflush(stdout);
      fs::remove_all(dir);
    }
  }

  // Start-up with 1M stored tasks: half of them done, the run killed; then time to the first
  // task execution of the resumed run.
  auto dir = make_temp_dir();
  write_job(dir + "/job.toml", dir + "/store", big, 64, "batch", dir + "/w1");
  auto pid = spawn(haul, dir + "/job.toml");
  while (fs::exists(dir + "/w1") ? fs::file_size(dir + "/w1") / 16 < big / 2 : true)
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  write_job(dir + "/job.toml", dir + "/store", big, 64, "batch", dir + "/w2");
  auto start = clock_type::now();
  pid = spawn(haul, dir + "/job.toml");
  while (!fs::exists(dir + "/w2") || fs::file_size(dir + "/w2") == 0)
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  double first = std::chrono::duration<double>(clock_type::now() - start).count();
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::printf("\nstart to first dispatch, %llu-task job half done and killed: %.3f s "
              "(process start, recovery pass and first turn included)\n",
              static_cast<unsigned long long>(big), first);
  fs::remove_all(dir);
  return 0;
}
