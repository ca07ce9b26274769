// The promise haul makes: SIGKILL at any moment loses no finished work and repeats at most
// the tasks in flight. A real `haul run` child process runs a 100K-task noop job whose every
// execution is appended to a witness file (generation, task index); the test kills it at
// several random moments, reruns it to the end, and audits the witness.

#define BOOST_TEST_MODULE haul_crash
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdint>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <signal.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "../unit/temp_dir.hpp"
#include "haul_process.hpp"

namespace {

using haul::test::start_haul;

constexpr std::uint64_t tasks = 100'000;
constexpr std::uint64_t parallelism = 64;
constexpr int kills = 5;

std::uintmax_t file_size(const std::string& path) {
  std::error_code ec;
  auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : n;
}

struct execution {
  std::uint64_t generation;
  std::uint64_t index;
};

std::vector<execution> read_witness(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<execution> out;
  unsigned char rec[16];
  while (in.read(reinterpret_cast<char*>(rec), sizeof(rec))) {
    execution e{0, 0};
    for (int i = 0; i < 8; ++i) {
      e.generation |= static_cast<std::uint64_t>(rec[i]) << (8 * i);
      e.index |= static_cast<std::uint64_t>(rec[8 + i]) << (8 * i);
    }
    out.push_back(e);
  }
  return out;
}

} // namespace

BOOST_AUTO_TEST_CASE(
    sigkill_at_random_moments_loses_nothing_and_repeats_at_most_the_tasks_in_flight) {
  haul::test::temp_dir dir;
  auto jobs = dir.sub("jobs.toml");
  auto witness = dir.sub("witness.bin");
  auto log = dir.sub("haul.log");
  {
    std::ofstream f(jobs);
    f << "[runtime]\nstore = \"" << dir.sub("store") << "\"\nparallelism = " << parallelism
      << "\nreport_interval = \"1h\"\n[[job]]\nname = \"many\"\nkind = \"noop\"\ntasks = " << tasks
      << "\nwitness = \"" << witness << "\"\n";
  }
  auto seed = std::random_device{}();
  BOOST_TEST_MESSAGE("seed " << seed);
  std::mt19937 rng(seed);

  int killed = 0;
  for (int k = 0; k < kills; ++k) {
    // Kill once the witness holds a random number of further executions.
    auto before = file_size(witness) / 16;
    std::uniform_int_distribution<std::uint64_t> step(1, tasks / (kills + 2));
    auto target = before + step(rng);
    auto pid = start_haul(jobs, log);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    bool exited = false;
    while (file_size(witness) / 16 < target) {
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        exited = true; // finished before reaching the target: nothing left to kill
        break;
      }
      BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "haul made no progress");
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    if (exited)
      break;
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    BOOST_REQUIRE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    ++killed;
  }
  BOOST_TEST_MESSAGE("killed " << killed << " times");
  BOOST_TEST(killed >= 3);

  auto pid = start_haul(jobs, log);
  int status = 0;
  ::waitpid(pid, &status, 0);
  BOOST_REQUIRE_MESSAGE(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                        "the final run failed; see " << log);

  // Audit: every task ran; none ran twice in one process; a later process repeated at most
  // `parallelism` tasks of each killed one.
  auto runs = read_witness(witness);
  std::vector<std::vector<std::uint64_t>> gens(tasks);
  for (const auto& e : runs) {
    BOOST_REQUIRE(e.index < tasks);
    gens[e.index].push_back(e.generation);
  }
  std::map<std::uint64_t, std::uint64_t> repeated_after; // generation -> tasks repeated later
  std::uint64_t never_ran = 0;
  std::uint64_t twice_in_one_process = 0;
  for (const auto& g : gens) {
    if (g.empty())
      ++never_ran;
    for (std::size_t i = 1; i < g.size(); ++i) {
      if (g[i] == g[i - 1])
        ++twice_in_one_process;
      else
        ++repeated_after[g[i - 1]];
    }
  }
  BOOST_TEST(never_ran == 0u);
  BOOST_TEST(twice_in_one_process == 0u);
  std::uint64_t total_repeats = 0;
  for (const auto& [gen, n] : repeated_after) {
    BOOST_TEST_MESSAGE("generation " << gen << ": " << n << " tasks repeated by a later one");
    BOOST_TEST(n <= parallelism, "generation " << gen << " repeated " << n);
    total_repeats += n;
  }
  BOOST_TEST(runs.size() == tasks + total_repeats);
  BOOST_TEST(total_repeats <= parallelism * static_cast<std::uint64_t>(killed));
}
