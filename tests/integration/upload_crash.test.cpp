// The upload kind's promise under SIGKILL: a real `haul run` child process uploads to a
// real server, is killed at random moments, and is run again to the end. The server's own
// request log is the witness: every file arrives, and the PUTs beyond one per file are at
// most the transfers that were in flight at each kill.

#define BOOST_TEST_MODULE haul_upload_crash
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <signal.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "../unit/temp_dir.hpp"
#include "haul_process.hpp"
#include "test_servers.hpp"

namespace fs = std::filesystem;
using haul::test::temp_dir;
using haul::test::test_server;

namespace {

using haul::test::kill_at;
using haul::test::read_text;
using haul::test::run_haul;
using haul::test::run_to_the_end;
using haul::test::start_haul;

} // namespace

BOOST_AUTO_TEST_CASE(killed_uploads_resume_and_repeat_at_most_the_transfers_in_flight) {
  constexpr int files = 3000;
  constexpr int parallelism = 16;
  constexpr int kills = 3;
  temp_dir dir;
  fs::path src = dir.sub("src");
  for (int i = 0; i < files; ++i) {
    fs::create_directories(src / std::to_string(i % 30));
    std::ofstream(src / std::to_string(i % 30) / ("f" + std::to_string(i)))
        << std::string(100 + i % 900, static_cast<char>('a' + i % 26));
  }
  auto nginx = test_server::start_nginx(dir.sub("nginx"));
  auto jobs = dir.sub("jobs.toml");
  std::ofstream(jobs) << "[runtime]\nstore = \"" << dir.sub("store")
                      << "\"\nparallelism = " << parallelism
                      << "\nreport_interval = \"1h\"\n[[job]]\nname = \"tree\"\n"
                      << "kind = \"upload\"\nsource = \"" << src.string() << "\"\ntarget = \""
                      << nginx.base_url() << "/put/\"\n";
  auto seed = std::random_device{}();
  BOOST_TEST_MESSAGE("seed " << seed);
  std::mt19937 rng(seed);
  auto puts = [&] { return nginx.count_requests("PUT", "/put/"); };
  int killed = 0;
  for (int k = 0; k < kills; ++k) {
    auto target = puts() + std::uniform_int_distribution<std::size_t>(1, files / (kills + 1))(rng);
    if (!kill_at(start_haul(jobs, dir.sub("haul.log")), puts, target))
      break;
    ++killed;
  }
  BOOST_TEST(killed == kills);
  run_to_the_end(jobs, dir.sub("haul.log"));

  std::size_t missing = 0;
  for (int i = 0; i < files; ++i) {
    auto p = fs::path(dir.sub("nginx")) / "root" / "put" / std::to_string(i % 30) /
             ("f" + std::to_string(i));
    if (read_text(p) != std::string(100 + i % 900, static_cast<char>('a' + i % 26)))
      ++missing;
  }
  BOOST_TEST(missing == 0u);
  auto total = nginx.wait_for_requests("PUT", "/put/", 0, files);
  BOOST_TEST_MESSAGE(total << " PUTs for " << files << " files after " << killed << " kills");
  BOOST_TEST(total >= static_cast<std::size_t>(files));
  BOOST_TEST(total <= static_cast<std::size_t>(files + parallelism * killed));
}

BOOST_AUTO_TEST_CASE(a_killed_multipart_upload_resumes_with_the_parts_already_sent) {
  constexpr std::size_t part = 5u << 20;
  constexpr std::size_t parts = 8;
  temp_dir dir;
  fs::create_directories(dir.sub("src"));
  ::setenv("HAUL_TEST_KEY", "S3RVER", 1); // the only access key s3rver accepts; haul inherits it
  ::setenv("HAUL_TEST_SECRET", "S3RVER", 1);
  std::string content(parts * part - 12345, '\0');
  std::mt19937 rng(11);
  for (auto& c : content)
    c = static_cast<char>(rng());
  std::ofstream(fs::path(dir.sub("src")) / "dump.bin", std::ios::binary) << content;
  auto s3 = test_server::start_s3rver(dir.sub("s3"));
  auto jobs = dir.sub("jobs.toml");
  std::ofstream(jobs)
      << "[runtime]\nstore = \"" << dir.sub("store")
      << "\"\nreport_interval = \"1h\"\n[[job]]\nname = \"big\"\n"
      << "kind = \"upload\"\nsource = \"" << dir.sub("src")
      << "\"\ntarget = \"s3://haul-test/backups/\"\nmultipart_threshold = "
         "\"5MiB\"\npart_size = \"5MiB\"\npart_concurrency = 1\n[job.s3]\n"
      << "endpoint = \"" << s3.base_url() << "\"\npath_style = true\n"
      << "access_key_env = \"HAUL_TEST_KEY\"\nsecret_key_env = \"HAUL_TEST_SECRET\"\n";
  auto uploaded_parts = [&] {
    return s3.count_requests("PUT", "/haul-test/backups/dump.bin?", 200);
  };
  BOOST_REQUIRE(kill_at(start_haul(jobs, dir.sub("haul.log")), uploaded_parts, 3));
  auto before = uploaded_parts();
  BOOST_TEST_MESSAGE(before << " parts had been sent at the kill");
  run_to_the_end(jobs, dir.sub("haul.log"));

  BOOST_TEST(read_text(fs::path(dir.sub("s3")) / "data" / "haul-test" / "backups" /
                       "dump.bin._S3rver_object") == content);
  // One multipart upload, never restarted: the second run continued it.
  BOOST_TEST(s3.count_requests("POST", "/haul-test/backups/dump.bin?uploads") == 1u);
  BOOST_TEST(s3.count_requests("POST", "/haul-test/backups/dump.bin?uploadId=") == 1u);
  // Each part once, but for the one in flight at the kill and the one sent just before it,
  // whose checkpoint may not have been committed yet (it reaches the store with the next
  // turn, while the next part is already on its way).
  auto sent = s3.count_requests("PUT", "/haul-test/backups/dump.bin?");
  BOOST_TEST_MESSAGE(sent << " part uploads for " << parts << " parts");
  BOOST_TEST(sent >= parts);
  BOOST_TEST(sent <= parts + 2);
}

BOOST_AUTO_TEST_CASE(the_cli_lists_refused_keys_and_haul_retry_sends_them_once_accepted) {
  temp_dir dir;
  fs::path src = dir.sub("src");
  fs::create_directories(src / "a");
  for (const auto* name : {"a/ok-1", "a/deny-1", "ok-2", "deny-2", "ok-3"})
    std::ofstream(src / name) << name;
  auto nginx = test_server::start_nginx(dir.sub("nginx"));
  auto jobs = dir.sub("jobs.toml");
  std::ofstream(jobs) << "[runtime]\nstore = \"store\"\n[[job]]\nname = \"strict\"\n"
                      << "kind = \"upload\"\nsource = \"src\"\ntarget = \"" << nginx.base_url()
                      << "/deny/\"\n";
  auto log = dir.sub("haul.log");
  BOOST_TEST(run_haul({"run", jobs, "--quiet"}, log) == 3); // completed_with_failures
  auto out = read_text(log);
  BOOST_TEST(out.find("failed: a/deny-1 (1 attempts): PUT") != std::string::npos, out);
  BOOST_TEST(out.find("failed: deny-2 (1 attempts)") != std::string::npos, out);
  BOOST_TEST(out.find("HTTP 403") != std::string::npos, out);
  auto id_at = out.find("haul retry ");
  BOOST_REQUIRE(id_at != std::string::npos);
  auto id = out.substr(id_at + 11, out.find('\'', id_at) - id_at - 11);

  std::ofstream(fs::path(dir.sub("nginx")) / "allow") << "";
  auto store = dir.sub("store");
  BOOST_TEST(run_haul({"retry", "strict", "--store", store}, log) == 0); // by name
  BOOST_TEST(read_text(log).find(id + ": 2 tasks queued again") != std::string::npos);
  BOOST_TEST(run_haul({"run", jobs, "--quiet"}, log) == 0);
  BOOST_TEST(read_text(fs::path(dir.sub("nginx")) / "root" / "deny" / "a" / "deny-1") ==
             "a/deny-1");
  // Five files, two refused once: seven PUTs, nothing sent twice that had arrived.
  BOOST_TEST(nginx.wait_for_requests("PUT", "/deny/", 0, 7) == 7u);
  BOOST_TEST(run_haul({"retry", "no-such-job", "--store", store}, log) == 2);
}
