// Many small files PUT to a local nginx: `haul run` side by side with `curl --parallel` and a
// raw libcurl multi loop, in the same run.
//
//   build/bench/upload_bench --haul build/haul [--files N] [--parallel P] [--reps R] [--quick]
//
// It writes N files of 1-20 KB (uniform sizes, fixed seed) into a temporary directory on disk,
// 1000 to a subdirectory, and starts two private nginx instances (scripts/test-servers/nginx.sh)
// whose run directories are in /dev/shm: nginx then stores the uploads in memory, so its writes
// neither compete with haul's fsyncs for the disk nor make the server the bottleneck. Each
// client is a child process timed from fork to exit, with its peak RSS from wait4:
//
//   curl      curl --parallel --parallel-max P, one config file listing every upload
//   raw loop  this binary again (--raw-child): one thread, P PUTs in flight on libcurl's multi
//             interface, no persistence, no listing; the ceiling for any client
//   haul      haul run over a fresh store: listing, a durable completion per file
//             (sync = "batch"), and a rerun of the finished job, which must send nothing
//   haul off  the same with sync = "off": a diagnostic row that separates the fsyncs' cost
//   flaky     haul against /flaky/ of a second nginx that answers 10% of the requests 503
//             (Retry-After: 1) or 502, compared with the clean haul run
//
// These run interleaved for R repetitions (the order rotates each repetition) and the table
// gives the medians: on a 2-core machine one busy neighbour moves a single run by a third. The
// CPU columns say where the machine's time went during each run, so a run slowed by other work
// shows. Every run uploads under a fresh URL prefix so that nginx creates each file (201) and
// never overwrites one, and the bench checks that every file arrived with its size before it
// deletes them again.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "bench/raw_multi_put.hpp"
#include "tests/integration/test_servers.hpp"

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr unsigned files_per_dir = 1000;
constexpr std::uint64_t min_size = 1024;
constexpr std::uint64_t max_size = 20 * 1024;

struct run_result {
  double seconds = 0;
  long max_rss_kb = 0;
  int status = 0;
  double cpu = 0;        // the client's user + system time
  double server_cpu = 0; // nginx's, master and workers
  double other_cpu = 0;  // everything else the machine ran meanwhile
};

bool exited_ok(const run_result& r) {
  return WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0;
}

/// Removes its directory when it goes out of scope, on failure too.
struct temp_dir {
  explicit temp_dir(const fs::path& parent, const std::string& prefix) {
    auto tmpl = (parent / (prefix + "XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) == nullptr)
      throw std::runtime_error("mkdtemp in " + parent.string() + ": " + std::strerror(errno));
    path = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  fs::path path;
};

/// The name of file i relative to the source directory; also its key on the server.
std::string relative_name(std::uint64_t i) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "d%03llu/%06llu",
                static_cast<unsigned long long>(i / files_per_dir),
                static_cast<unsigned long long>(i));
  return buf;
}

/// Writes the files and returns their total size. Sizes and contents come from a fixed seed,
/// so every run of the bench uploads the same bytes.
std::uint64_t generate_files(const fs::path& dir, std::uint64_t count) {
  std::mt19937_64 rng(20261123);
  std::vector<std::uint64_t> buf(max_size / 8);
  std::uint64_t total = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    if (i % files_per_dir == 0)
      fs::create_directories((dir / relative_name(i)).parent_path());
    auto size = min_size + rng() % (max_size - min_size + 1);
    for (std::size_t w = 0; w < (size + 7) / 8; ++w)
      buf[w] = rng();
    auto path = dir / relative_name(i);
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || ::write(fd, buf.data(), size) != static_cast<ssize_t>(size))
      throw std::runtime_error("cannot write " + path.string() + ": " + std::strerror(errno));
    ::close(fd);
    total += size;
  }
  return total;
}

/// Busy CPU seconds of the whole machine (all cores), from /proc/stat.
double machine_cpu() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  double user = 0, nice = 0, sys = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  in >> cpu >> user >> nice >> sys >> idle >> iowait >> irq >> softirq >> steal;
  return (user + nice + sys + irq + softirq + steal) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

/// CPU seconds of process `pid` and its children (nginx's master and its workers).
double tree_cpu(int pid) {
  auto ticks = [](const std::string& p) {
    std::ifstream in("/proc/" + p + "/stat");
    std::string line;
    std::getline(in, line);
    auto close = line.rfind(')'); // the command name may hold spaces
    if (close == std::string::npos)
      return 0.0;
    std::istringstream rest(line.substr(close + 2));
    std::string field;
    double utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14)
        utime = std::stod(field);
      if (i == 15)
        stime = std::stod(field);
    }
    return utime + stime;
  };
  auto self = std::to_string(pid);
  double total = ticks(self);
  std::ifstream children("/proc/" + self + "/task/" + self + "/children");
  for (std::string child; children >> child;)
    total += ticks(child);
  return total / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

/// Runs argv[0] (looked up on PATH) with stdout and stderr to `log`: wall time from fork to
/// exit, the child's peak RSS, and where the machine's CPU time went meanwhile. The CPU split
/// tells a slow client from a busy server or from other work on the machine.
run_result run_process(const std::vector<std::string>& args, const fs::path& log, int server_pid) {
  std::vector<char*> argv;
  for (const auto& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  auto machine_before = machine_cpu();
  auto server_before = tree_cpu(server_pid);
  auto start = clock_type::now();
  pid_t pid = ::fork();
  if (pid < 0)
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    int in = ::open("/dev/null", O_RDONLY);
    int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  run_result r;
  struct rusage ru {};
  while (::wait4(pid, &r.status, 0, &ru) < 0 && errno == EINTR) {
  }
  r.seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  r.max_rss_kb = ru.ru_maxrss;
  r.cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
          static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  r.server_cpu = tree_cpu(server_pid) - server_before;
  r.other_cpu = std::max(0.0, machine_cpu() - machine_before - r.cpu - r.server_cpu);
  return r;
}

std::string tail_of(const fs::path& log) {
  std::ifstream in(log);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return text.size() > 2000 ? text.substr(text.size() - 2000) : text;
}

void require_ok(const std::string& what, const run_result& r, const fs::path& log) {
  if (!exited_ok(r))
    throw std::runtime_error(what + " failed (wait status " + std::to_string(r.status) +
                             "); the end of its output:\n" + tail_of(log));
}

/// Checks that nginx stored all `count` files under `dir` with `bytes` in all, then deletes
/// them: the run directory is in memory, and every run uploads the whole set again.
void check_and_remove(const std::string& what, const fs::path& dir, std::uint64_t count,
                      std::uint64_t bytes) {
  std::uint64_t n = 0;
  std::uint64_t total = 0;
  if (fs::exists(dir))
    for (const auto& e : fs::recursive_directory_iterator(dir))
      if (e.is_regular_file()) {
        ++n;
        total += e.file_size();
      }
  if (n != count || total != bytes)
    throw std::runtime_error(what + ": nginx holds " + std::to_string(n) + " files of " +
                             std::to_string(total) + " bytes under " + dir.string() +
                             ", expected " + std::to_string(count) + " files of " +
                             std::to_string(bytes) + " bytes");
  fs::remove_all(dir);
}

struct haul_job {
  fs::path store;
  fs::path source;
  std::string target;
  unsigned parallel = 64;
  const char* sync = "batch";
  unsigned max_attempts = 0; // 0: haul's default
};

void write_job(const fs::path& path, const haul_job& j) {
  std::ofstream f(path);
  f << "[runtime]\nstore = \"" << j.store.string() << "\"\nparallelism = " << j.parallel
    << "\nsync = \"" << j.sync << "\"\nreport_interval = \"1h\"\n";
  if (j.max_attempts != 0)
    f << "max_attempts = " << j.max_attempts << "\n";
  f << "[[job]]\nname = \"upload\"\nkind = \"upload\"\nsource = \"" << j.source.string()
    << "\"\ntarget = \"" << j.target << "\"\n";
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/// One row of the table: every repetition's measurements.
struct series {
  std::string label;
  std::vector<double> seconds;
  std::vector<double> rss_mb;
  std::vector<double> cpu;
  std::vector<double> server_cpu;
  std::vector<double> other_cpu;
  double rate(std::uint64_t files) const { return static_cast<double>(files) / median(seconds); }
};

int raw_child(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: upload_bench --raw-child BASE_URL SOURCE_DIR COUNT PARALLEL\n");
    return 2;
  }
  std::string base = argv[2];
  std::string source = argv[3];
  auto count = std::stoull(argv[4]);
  auto parallel = static_cast<unsigned>(std::stoul(argv[5]));
  auto r = haul::bench::raw_multi_put(count, parallel,
                                      [&](std::uint64_t i, std::string& path, std::string& url) {
                                        auto name = relative_name(i);
                                        path.assign(source).append("/").append(name);
                                        url.assign(base).append(name);
                                      });
  if (r.failed != 0) {
    std::fprintf(stderr, "%llu of %llu PUTs failed; the first: %s\n",
                 static_cast<unsigned long long>(r.failed), static_cast<unsigned long long>(count),
                 r.first_error.c_str());
    return 1;
  }
  return 0;
}

void usage() {
  std::fprintf(stderr, "usage: upload_bench --haul PATH [--files N] [--parallel P] [--reps R] "
                       "[--quick]\n");
}

int bench(int argc, char** argv) {
  std::string haul;
  std::uint64_t files = 100'000;
  unsigned parallel = 64;
  unsigned reps = 2;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--haul" && i + 1 < argc)
      haul = argv[++i];
    else if (a == "--files" && i + 1 < argc)
      files = std::stoull(argv[++i]);
    else if (a == "--parallel" && i + 1 < argc)
      parallel = static_cast<unsigned>(std::stoul(argv[++i]));
    else if (a == "--reps" && i + 1 < argc)
      reps = static_cast<unsigned>(std::stoul(argv[++i]));
    else if (a == "--quick")
      files = 10'000;
    else {
      usage();
      return 2;
    }
  }
  if (haul.empty() || !fs::exists(haul) || files == 0 || parallel == 0 || reps == 0) {
    usage();
    return 2;
  }
  haul = fs::absolute(haul).string();
  auto self = fs::read_symlink("/proc/self/exe").string();
  if (!fs::is_directory("/dev/shm"))
    throw std::runtime_error("/dev/shm is missing: nginx's run directory must be in memory");

  // Declared before the servers, so that each server stops before its directory goes.
  temp_dir work(fs::temp_directory_path(), "haul-upload-bench-");
  temp_dir clean_dir("/dev/shm", "haul-upload-bench-nginx-");
  temp_dir flaky_dir("/dev/shm", "haul-upload-bench-flaky-");
  auto source = work.path / "src";

  auto t0 = clock_type::now();
  auto bytes = generate_files(source, files);
  // The kernel would otherwise write the new files back in the middle of the timed runs.
  ::sync();
  std::fprintf(stderr, "generated %llu files, %.1f MB, in %.1f s under %s\n",
               static_cast<unsigned long long>(files), static_cast<double>(bytes) / 1e6,
               std::chrono::duration<double>(clock_type::now() - t0).count(),
               source.string().c_str());

  auto clean = haul::test::test_server::start_nginx(clean_dir.path, 0);
  auto flaky = haul::test::test_server::start_nginx(flaky_dir.path, 10);
  const auto base = clean.base_url();
  const auto put_root = clean.rundir() / "root" / "put";

  series curl{"curl --parallel --parallel-max " + std::to_string(parallel), {}, {}, {}, {}, {}};
  series raw{"raw libcurl multi loop (ceiling)", {}, {}, {}, {}, {}};
  series haul_batch{"haul run (sync = \"batch\")", {}, {}, {}, {}, {}};
  series haul_off{"haul run, sync = \"off\" (diagnostic)", {}, {}, {}, {}, {}};
  series haul_flaky{"haul run, 10% 503/502 on /flaky/", {}, {}, {}, {}, {}};
  std::vector<double> rerun_seconds;
  std::uint64_t rerun_puts = 0;

  auto record = [&](series& s, const run_result& r) {
    s.seconds.push_back(r.seconds);
    s.rss_mb.push_back(static_cast<double>(r.max_rss_kb) / 1024.0);
    s.cpu.push_back(r.cpu);
    s.server_cpu.push_back(r.server_cpu);
    s.other_cpu.push_back(r.other_cpu);
    std::fprintf(stderr, "  %-40s %8.2f s %9.0f files/s %7.1f MB, CPU s %.1f / %.1f / %.1f\n",
                 s.label.c_str(), r.seconds, static_cast<double>(files) / r.seconds,
                 static_cast<double>(r.max_rss_kb) / 1024.0, r.cpu, r.server_cpu, r.other_cpu);
  };

  auto run_curl = [&](unsigned rep) {
    auto prefix = "curl-" + std::to_string(rep);
    auto config = work.path / (prefix + ".curlrc");
    {
      std::ofstream f(config);
      for (std::uint64_t i = 0; i < files; ++i)
        f << "upload-file = \"" << (source / relative_name(i)).string() << "\"\nurl = \"" << base
          << "/put/" << prefix << "/" << relative_name(i) << "\"\n";
    }
    auto log = work.path / (prefix + ".log");
    auto r = run_process({"curl", "--parallel", "--parallel-max", std::to_string(parallel), "-s",
                          "-o", "/dev/null", "-H", "Expect:", "-K", config.string()},
                         log, clean.pid());
    require_ok("curl --parallel", r, log);
    record(curl, r);
    check_and_remove("curl --parallel", put_root / prefix, files, bytes);
    fs::remove(config);
  };

  auto run_raw = [&](unsigned rep) {
    auto prefix = "raw-" + std::to_string(rep);
    auto log = work.path / (prefix + ".log");
    auto r = run_process({self, "--raw-child", base + "/put/" + prefix + "/", source.string(),
                          std::to_string(files), std::to_string(parallel)},
                         log, clean.pid());
    require_ok("the raw loop", r, log);
    record(raw, r);
    check_and_remove("the raw loop", put_root / prefix, files, bytes);
  };

  auto run_haul = [&](unsigned rep, const char* sync) {
    bool durable = std::strcmp(sync, "batch") == 0;
    auto prefix = std::string(durable ? "haul-" : "hauloff-") + std::to_string(rep);
    auto job = work.path / (prefix + ".toml");
    auto store = work.path / (prefix + "-store");
    write_job(job, {store, source, base + "/put/" + prefix + "/", parallel, sync, 0});
    auto log = work.path / (prefix + ".log");
    auto r = run_process({haul, "run", job.string(), "--quiet"}, log, clean.pid());
    require_ok("haul run (sync = " + std::string(sync) + ")", r, log);
    record(durable ? haul_batch : haul_off, r);
    if (durable) {
      // The finished job again: it must only find that everything is done.
      // nginx logs a request just after answering it: wait for this run's last lines first.
      clean.wait_for_requests("PUT", "/put/" + prefix + "/", 201, files);
      auto before = clean.count_requests("", "/");
      auto again =
          run_process({haul, "run", job.string(), "--quiet"}, log.string() + ".rerun", clean.pid());
      require_ok("the rerun of haul's finished job", again, log.string() + ".rerun");
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      auto after = clean.count_requests("", "/");
      rerun_puts += after - before;
      rerun_seconds.push_back(again.seconds);
      std::fprintf(stderr, "  %-40s %8.3f s, %llu requests reached nginx\n", "haul rerun",
                   again.seconds, static_cast<unsigned long long>(after - before));
    }
    check_and_remove(durable ? haul_batch.label : haul_off.label, put_root / prefix, files, bytes);
    fs::remove_all(store);
  };

  std::uint64_t flaky_requests = 0;
  std::uint64_t answered_503 = 0;
  std::uint64_t answered_502 = 0;
  std::uint64_t files_retried = 0;
  unsigned most_failures = 0; // of one file in one run: its waits make the run's tail
  auto run_flaky = [&](unsigned rep) {
    auto prefix = "haul-" + std::to_string(rep);
    auto job = work.path / ("flaky-" + prefix + ".toml");
    auto store = work.path / ("flaky-" + prefix + "-store");
    // max_attempts = 20: at 10% per request no file should run out of attempts.
    write_job(job,
              {store, source, flaky.base_url() + "/flaky/" + prefix + "/", parallel, "batch", 20});
    auto log = work.path / ("flaky-" + prefix + ".log");
    auto r = run_process({haul, "run", job.string(), "--quiet"}, log, flaky.pid());
    require_ok("haul run against /flaky/", r, log);
    record(haul_flaky, r);
    flaky.wait_for_requests("PUT", "/flaky/" + prefix + "/", 201, files);
    std::map<std::string, unsigned> failures;
    for (const auto& req : flaky.requests()) {
      if (!req.uri.starts_with("/flaky/" + prefix + "/"))
        continue;
      ++flaky_requests;
      answered_503 += req.status == 503 ? 1 : 0;
      answered_502 += req.status == 502 ? 1 : 0;
      if (req.status != 201)
        ++failures[req.uri];
    }
    files_retried += failures.size();
    for (const auto& [uri, n] : failures)
      most_failures = std::max(most_failures, n);
    check_and_remove(haul_flaky.label, flaky.rundir() / "root" / "flaky" / prefix, files, bytes);
    fs::remove_all(store);
  };

  for (unsigned rep = 0; rep < reps; ++rep) {
    std::fprintf(stderr, "repetition %u of %u\n", rep + 1, reps);
    // Rotated, so that no client always follows the same one (disk writeback, warm caches).
    for (unsigned k = 0; k < 5; ++k) {
      switch ((k + rep) % 5) {
      case 0:
        run_curl(rep);
        break;
      case 1:
        run_raw(rep);
        break;
      case 2:
        run_haul(rep, "batch");
        break;
      case 3:
        run_haul(rep, "off");
        break;
      default:
        run_flaky(rep);
        break;
      }
    }
  }

  auto curl_rate = curl.rate(files);
  auto raw_rate = raw.rate(files);
  std::printf("%llu files of 1-20 KB (%.1f MB), parallelism %u, median of %u runs each; nginx "
              "run directory in /dev/shm\n\n",
              static_cast<unsigned long long>(files), static_cast<double>(bytes) / 1e6, parallel,
              reps);
  std::printf("| run | files | seconds | files/s | vs curl --parallel | vs raw loop | peak RSS | "
              "CPU s: client / nginx / other | each run (s) |\n"
              "|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
  for (const auto* s : {&curl, &raw, &haul_batch, &haul_off, &haul_flaky}) {
    std::string each;
    for (auto sec : s->seconds) {
      char b[32];
      std::snprintf(b, sizeof b, "%s%.2f", each.empty() ? "" : ", ", sec);
      each += b;
    }
    auto rate = s->rate(files);
    std::printf("| %s | %llu | %.2f | %.0f | %.2f | %.2f | %.1f MB | %.1f / %.1f / %.1f | %s |\n",
                s->label.c_str(), static_cast<unsigned long long>(files), median(s->seconds), rate,
                rate / curl_rate, rate / raw_rate,
                *std::max_element(s->rss_mb.begin(), s->rss_mb.end()), median(s->cpu),
                median(s->server_cpu), median(s->other_cpu), each.c_str());
  }
  auto per_run = [reps](std::uint64_t n) {
    return static_cast<unsigned long long>((n + reps / 2) / reps);
  };
  std::printf("\n- haul rerun of the finished job (median of %u): %.3f s; requests that reached "
              "nginx: %llu\n",
              reps, median(rerun_seconds), static_cast<unsigned long long>(rerun_puts));
  std::printf("- haul with 10%% injected 503/502 (max_attempts = 20): %.2f× the clean haul run "
              "(medians); per run nginx answered %llu requests, %llu × 503 (Retry-After: 1) and "
              "%llu × 502, on %llu files; the unluckiest file failed %u times in a row\n",
              median(haul_flaky.seconds) / median(haul_batch.seconds), per_run(flaky_requests),
              per_run(answered_503), per_run(answered_502), per_run(files_retried), most_failures);
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--raw-child") == 0)
    return raw_child(argc, argv);
  try {
    return bench(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "upload_bench: %s\n", e.what());
    return 1;
  }
}
