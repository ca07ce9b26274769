// The upload kind against real servers started by scripts/test-servers: nginx (WebDAV PUT,
// with flaky, refusing and stalling locations) and s3rver. Each test runs an embedded
// runtime over a store in its own temporary directory.

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>

#include <boost/test/unit_test.hpp>

#include "haul/runtime.hpp"
#include "runtime_fixture.hpp"
#include "test_servers.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using haul::test::open_or_fail;
using haul::test::submit_or_fail;
using haul::test::temp_dir;
using haul::test::test_server;
using haul::test::wait_for;

namespace {

haul::runtime_options upload_options(const temp_dir& dir) {
  auto o = haul::test::options_for(dir);
  o.parallelism = 32;
  o.retry.max_attempts = 10;
  o.retry.initial_backoff = 5ms;
  o.retry.max_backoff = 50ms;
  o.report_interval = 1s;
  return o;
}

/// A tree of `files` files of 0..max_size random bytes in nested directories, with names
/// that need percent-encoding. Returns key -> content.
std::map<std::string, std::string> make_tree(const fs::path& root, int files, std::size_t max_size,
                                             unsigned seed = 7) {
  std::mt19937 rng(seed);
  static const char* const names[] = {"plain", "with space", "plus+sign", "caf\xc3\xa9",
                                      "a&b=c", "x~y_z",      "deny-me"};
  std::map<std::string, std::string> out;
  for (int i = 0; i < files; ++i) {
    auto dir = std::string("d") + std::to_string(i % 5) + "/" + names[i % 3];
    auto key = dir + "/" + names[i % 7] + "-" + std::to_string(i) + ".bin";
    std::string content(std::uniform_int_distribution<std::size_t>(0, max_size)(rng), '\0');
    for (auto& c : content)
      c = static_cast<char>(rng());
    fs::create_directories(root / dir);
    std::ofstream(root / key, std::ios::binary) << content;
    out[key] = content;
  }
  return out;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Every file of `tree` is under `dir` (with `suffix` appended to its name) with its bytes.
void check_arrived(const std::map<std::string, std::string>& tree, const fs::path& dir,
                   const std::string& suffix = "") {
  std::size_t missing = 0, different = 0;
  for (const auto& [key, content] : tree) {
    auto p = dir / (key + suffix);
    if (!fs::exists(p))
      ++missing;
    else if (read_file(p) != content)
      ++different;
  }
  BOOST_TEST(missing == 0u);
  BOOST_TEST(different == 0u);
}

haul::job_spec upload_job(const std::string& name, const fs::path& source,
                          const std::string& target) {
  haul::job_spec s;
  s.name = name;
  s.kind = "upload";
  s.params = {{"source", source.string()}, {"target", target}};
  return s;
}

/// An upload to the bucket haul-test of a test's s3rver.
haul::job_spec s3_job(const std::string& name, const fs::path& source, const std::string& target,
                      const test_server& s3) {
  ::setenv("HAUL_TEST_KEY", "S3RVER", 1); // the only access key s3rver accepts
  ::setenv("HAUL_TEST_SECRET", "S3RVER", 1);
  auto spec = upload_job(name, source, target);
  spec.params["s3.endpoint"] = s3.base_url();
  spec.params["s3.path_style"] = "true";
  spec.params["s3.access_key_env"] = "HAUL_TEST_KEY";
  spec.params["s3.secret_key_env"] = "HAUL_TEST_SECRET";
  return spec;
}

} // namespace

BOOST_AUTO_TEST_SUITE(upload)

BOOST_AUTO_TEST_CASE(a_tree_arrives_byte_identical_over_http_with_one_put_per_file) {
  temp_dir dir;
  auto tree = make_tree(dir.sub("src"), 300, 20'000);
  auto nginx = test_server::start_nginx(dir.sub("nginx"));
  auto rt = open_or_fail(upload_options(dir));
  auto id = submit_or_fail(rt, upload_job("site", dir.sub("src"), nginx.base_url() + "/put/"));
  auto st = wait_for(rt, id);
  BOOST_TEST((st.state == haul::job_state::succeeded));
  BOOST_TEST(st.tasks.total == tree.size());
  BOOST_TEST(st.tasks.succeeded == tree.size());
  std::uint64_t bytes = 0;
  for (const auto& [k, v] : tree)
    bytes += v.size();
  BOOST_TEST(st.bytes == bytes);
  BOOST_TEST(st.concurrency > 0u);
  check_arrived(tree, fs::path(dir.sub("nginx")) / "root" / "put");
  BOOST_TEST(nginx.wait_for_requests("PUT", "/put/", 0, tree.size()) == tree.size());
}

BOOST_AUTO_TEST_CASE(a_rerun_of_a_finished_job_sends_nothing) {
  temp_dir dir;
  auto tree = make_tree(dir.sub("src"), 50, 1000);
  auto nginx = test_server::start_nginx(dir.sub("nginx"));
  auto spec = upload_job("again", dir.sub("src"), nginx.base_url() + "/put/");
  std::string first;
  {
    auto rt = open_or_fail(upload_options(dir));
    first = submit_or_fail(rt, spec);
    BOOST_TEST((wait_for(rt, first).state == haul::job_state::succeeded));
  }
  nginx.wait_for_requests("PUT", "/put/", 0, tree.size());
  auto rt = open_or_fail(upload_options(dir));
  auto second = submit_or_fail(rt, spec);
  BOOST_TEST(second == first);
  BOOST_TEST((wait_for(rt, second).state == haul::job_state::succeeded));
  BOOST_TEST(nginx.count_requests("PUT", "/put/") == tree.size());
}

BOOST_AUTO_TEST_CASE(a_changed_source_is_a_new_job_and_the_stale_one_is_deleted) {
  temp_dir dir;
  auto tree = make_tree(dir.sub("src"), 20, 100);
  auto nginx = test_server::start_nginx(dir.sub("nginx"));
  auto rt = open_or_fail(upload_options(dir));
  auto spec = upload_job("changing", dir.sub("src"), nginx.base_url() + "/put/");
  auto first = submit_or_fail(rt, spec);
  wait_for(rt, first);
  std::ofstream(fs::path(dir.sub("src")) / "new-file.txt") << "new";
  auto second = submit_or_fail(rt, spec);
  BOOST_TEST(second != first);
  BOOST_TEST(wait_for(rt, second).tasks.total == tree.size() + 1);
  BOOST_TEST(!rt.status(first).has_value());
}

BOOST_AUTO_TEST_CASE(injected_502s_and_503s_are_retried_until_everything_arrives) {
  temp_dir dir;
  auto tree = make_tree(dir.sub("src"), 400, 2000);
  auto nginx = test_server::start_nginx(dir.sub("nginx"), 15);
  auto rt = open_or_fail(upload_options(dir));
  auto spec = upload_job("flaky", dir.sub("src"), nginx.base_url() + "/flaky/");
  spec.retry = haul::retry_policy{20, 5ms, 2.0, 50ms};
  auto id = submit_or_fail(rt, spec);
  auto st = wait_for(rt, id);
  BOOST_TEST((st.state == haul::job_state::succeeded));
  check_arrived(tree, fs::path(dir.sub("nginx")) / "root" / "flaky");
  auto failed =
      nginx.count_requests("PUT", "/flaky/", 503) + nginx.count_requests("PUT", "/flaky/", 502);
  BOOST_TEST(failed > 0u);
  // Every failed request was retried once, and nothing else was.
  BOOST_TEST(st.retries == failed);
  BOOST_TEST(nginx.wait_for_requests("PUT", "/flaky/", 0, tree.size() + failed) ==
             tree.size() + failed);
}

BOOST_AUTO_TEST_CASE(refused_keys_go_to_the_dead_letter_and_retry_sends_them_later) {
  temp_dir dir;
  auto tree = make_tree(dir.sub("src"), 70, 500);
  std::size_t refused = 0;
  for (const auto& [key, content] : tree)
    refused += key.find("deny") != std::string::npos ? 1 : 0;
  BOOST_REQUIRE(refused > 0u);
  auto nginx = test_server::start_nginx(dir.sub("nginx"));
  auto spec = upload_job("strict", dir.sub("src"), nginx.base_url() + "/deny/");
  std::string id;
  {
    auto rt = open_or_fail(upload_options(dir));
    id = submit_or_fail(rt, spec);
    auto st = wait_for(rt, id);
    BOOST_TEST((st.state == haul::job_state::completed_with_failures));
    BOOST_TEST(st.tasks.failed == refused);
    BOOST_TEST(st.retries == 0u); // a 403 is permanent: no retries
    auto dead = rt.dead_letter(id);
    BOOST_REQUIRE(dead.has_value());
    BOOST_TEST(dead->size() == refused);
    for (const auto& d : *dead) {
      BOOST_TEST(d.label.find("deny") != std::string::npos);
      BOOST_TEST(d.error.find("403") != std::string::npos);
    }
    std::ofstream(fs::path(dir.sub("nginx")) / "allow") << "";
    auto n = rt.retry(id);
    BOOST_REQUIRE(n.has_value());
    BOOST_TEST(*n == refused);
  }
  auto rt = open_or_fail(upload_options(dir));
  BOOST_TEST(submit_or_fail(rt, spec) == id);
  auto st = wait_for(rt, id);
  BOOST_TEST((st.state == haul::job_state::succeeded));
  BOOST_TEST(st.tasks.failed == 0u);
  check_arrived(tree, fs::path(dir.sub("nginx")) / "root" / "deny");
}

BOOST_AUTO_TEST_CASE(a_stalled_server_times_out_and_fails_the_entry_without_hanging) {
  temp_dir dir;
  auto tree = make_tree(dir.sub("src"), 2, 100);
  auto nginx = test_server::start_nginx(dir.sub("nginx"));
  auto rt = open_or_fail(upload_options(dir));
  auto spec = upload_job("stuck", dir.sub("src"), nginx.base_url() + "/stall/");
  spec.params["stall_timeout"] = "1s";
  spec.retry = haul::retry_policy{2, 5ms, 2.0, 10ms};
  auto started = std::chrono::steady_clock::now();
  auto st = wait_for(rt, submit_or_fail(rt, spec));
  auto took = std::chrono::steady_clock::now() - started;
  BOOST_TEST((st.state == haul::job_state::failed));
  BOOST_TEST(st.tasks.failed == tree.size());
  BOOST_TEST(st.last_error.find("timed out") != std::string::npos, st.last_error);
  BOOST_TEST(took < 20s);
}

BOOST_AUTO_TEST_CASE(keys_with_spaces_plus_and_unicode_arrive_on_s3) {
  temp_dir dir;
  auto tree = make_tree(dir.sub("src"), 60, 3000);
  auto s3 = test_server::start_s3rver(dir.sub("s3"));
  auto rt = open_or_fail(upload_options(dir));
  auto spec = s3_job("s3-tree", dir.sub("src"), "s3://haul-test/some prefix/", s3);
  auto st = wait_for(rt, submit_or_fail(rt, spec));
  BOOST_TEST((st.state == haul::job_state::succeeded), st.last_error);
  check_arrived(tree, fs::path(dir.sub("s3")) / "data" / "haul-test" / "some prefix",
                "._S3rver_object");
}

BOOST_AUTO_TEST_CASE(a_big_file_goes_as_a_multipart_upload_and_arrives_whole) {
  temp_dir dir;
  fs::create_directories(dir.sub("src"));
  std::string content(12u << 20, '\0');
  std::mt19937 rng(3);
  for (auto& c : content)
    c = static_cast<char>(rng());
  std::ofstream(fs::path(dir.sub("src")) / "big.bin", std::ios::binary) << content;
  auto s3 = test_server::start_s3rver(dir.sub("s3"));
  auto rt = open_or_fail(upload_options(dir));
  auto spec = s3_job("big", dir.sub("src"), "s3://haul-test/", s3);
  spec.params["multipart_threshold"] = "5MiB";
  spec.params["part_size"] = "5MiB";
  auto st = wait_for(rt, submit_or_fail(rt, spec));
  BOOST_TEST((st.state == haul::job_state::succeeded), st.last_error);
  BOOST_TEST(read_file(fs::path(dir.sub("s3")) / "data" / "haul-test" / "big.bin._S3rver_object") ==
             content);
  BOOST_TEST(s3.count_requests("POST", "/haul-test/big.bin?uploads") == 1u);
  BOOST_TEST(s3.count_requests("PUT", "/haul-test/big.bin?partNumber=") == 3u);
  BOOST_TEST(s3.count_requests("POST", "/haul-test/big.bin?uploadId=") == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
