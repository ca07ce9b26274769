// Golden bytes: these literals were derived by hand from the encoding rules (LEB128 varints,
// zig-zag for signed, length-prefixed strings) and pin the on-disk format. A failure here means
// the format changed: bump the record version and migrate, do not just update the literal.

#include "storage/records.hpp"

#include <string>

#include <boost/test/unit_test.hpp>

#include "storage/encoding.hpp"

using namespace haul;
using namespace haul::storage;

namespace {

std::string from_hex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

job_record golden_job() {
  job_record r;
  r.seq = 7;
  r.id = "id";
  r.name = "nm";
  r.kind = "k";
  r.params = {{"a", "1"}, {"b", "22"}};
  r.total = 300;
  r.state = job_state::completed_with_failures;
  r.next_fresh = 200;
  r.succeeded = 150;
  r.dead = 2;
  r.retries = 3;
  r.bytes = 1'000'000;
  r.running = 1;
  r.parallelism = 16;
  r.created_ms = 1000;
  r.updated_ms = 2000;
  r.finished_ms = 3000;
  r.last_error = "boom";
  r.concurrency = 12;
  r.run_started_ms = 500;
  r.run_base_succeeded = 100;
  r.run_base_bytes = 1000;
  return r;
}

// Version 1 lacks `concurrency`; stores written before it are still read.
const char* const golden_job_v1_hex = "01"          // record version
                                      "026964"      // id "id"
                                      "026e6d"      // name "nm"
                                      "016b"        // kind "k"
                                      "02"          // two params, in key order
                                      "01610131"    // "a" = "1"
                                      "0162023232"  // "b" = "22"
                                      "ac02"        // total 300
                                      "04"          // state completed_with_failures
                                      "c801"        // next_fresh 200
                                      "9601"        // succeeded 150
                                      "02"          // dead 2
                                      "03"          // retries 3
                                      "c0843d"      // bytes 1'000'000
                                      "01"          // running 1
                                      "10"          // parallelism 16
                                      "d00f"        // created_ms 1000, zig-zag 2000
                                      "a01f"        // updated_ms 2000, zig-zag 4000
                                      "f02e"        // finished_ms 3000, zig-zag 6000
                                      "04626f6f6d"; // last_error "boom"

// Version 2: the version byte changes and new fields follow the v1 ones.
const std::string golden_job_hex = "02" + std::string(golden_job_v1_hex + 2) +
                                   "0c"    // concurrency 12
                                   "e807"  // run_started_ms 500, zig-zag 1000
                                   "64"    // run_base_succeeded 100
                                   "e807"; // run_base_bytes 1000
constexpr std::size_t golden_job_state_offset = 21;

task_record golden_task() {
  return task_record{task_state::waiting, 3, 1000, "x", "cp"};
}

const char* const golden_task_hex = "01"      // record version
                                    "01"      // state waiting
                                    "03"      // failures 3
                                    "d00f"    // due_ms 1000, zig-zag 2000
                                    "0178"    // last_error "x"
                                    "026370"; // checkpoint "cp"
constexpr std::size_t golden_task_state_offset = 1;

} // namespace

BOOST_AUTO_TEST_SUITE(records_tests)

BOOST_AUTO_TEST_CASE(a_job_record_encodes_to_the_golden_bytes) {
  BOOST_TEST(to_hex(encode(golden_job())) == golden_job_hex);
}

BOOST_AUTO_TEST_CASE(a_task_record_encodes_to_the_golden_bytes) {
  BOOST_TEST(to_hex(encode(golden_task())) == golden_task_hex);
}

BOOST_AUTO_TEST_CASE(the_golden_job_bytes_decode_to_the_record) {
  auto r = decode_job_record(from_hex(golden_job_hex), 7);
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST((*r == golden_job()));
}

BOOST_AUTO_TEST_CASE(a_version_1_job_record_decodes_with_no_concurrency) {
  auto r = decode_job_record(from_hex(golden_job_v1_hex), 7);
  BOOST_TEST_REQUIRE(r.has_value());
  auto expected = golden_job();
  expected.concurrency = 0;
  expected.run_started_ms = 0;
  expected.run_base_succeeded = 0;
  expected.run_base_bytes = 0;
  BOOST_TEST((*r == expected));
}

BOOST_AUTO_TEST_CASE(status_rates_cover_the_current_run_only) {
  job_record r = golden_job();
  r.state = job_state::running;
  r.finished_ms = 0;
  r.total = 1000;
  r.succeeded = 300; // 200 in this run
  r.dead = 0;
  r.bytes = 21'000; // 20'000 in this run
  r.run_started_ms = 1'000;
  r.updated_ms = 3'000; // two seconds into the run
  auto s = status_of(r, 4);
  BOOST_TEST(s.tasks_per_second == 100.0);
  BOOST_TEST(s.bytes_per_second == 10'000.0);
  BOOST_TEST(s.eta_ms == 7'000); // 700 left at 100/s
  BOOST_TEST(s.tasks.running == 4u);
  BOOST_TEST(s.tasks.pending == 696u);
  r.state = job_state::succeeded;
  r.finished_ms = 3'000;
  BOOST_TEST(status_of(r, 0).eta_ms == -1);
}

BOOST_AUTO_TEST_CASE(the_golden_task_bytes_decode_to_the_record) {
  auto r = decode_task_record(from_hex(golden_task_hex));
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST((*r == golden_task()));
}

BOOST_AUTO_TEST_CASE(the_sequence_number_comes_from_the_key_not_the_value) {
  auto r = decode_job_record(from_hex(golden_job_hex), 42);
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST(r->seq == 42u);
}

BOOST_AUTO_TEST_CASE(keys_encode_to_the_golden_bytes) {
  BOOST_TEST(to_hex(job_key(258)) == "00000102");
  BOOST_TEST(to_hex(task_key(1, 2)) == "00000001"
                                       "0000000000000002");
  BOOST_TEST(to_hex(due_key(3, 1000, 5)) == "00000003"
                                            "00000000000003e8"
                                            "0000000000000005");
  BOOST_TEST(to_hex(done_key(4, 1)) == "00000004"
                                       "0000000000000001");
  BOOST_TEST(to_hex(input_key("ab", 2)) == "616200"
                                           "0000000000000002");
  BOOST_TEST(to_hex(input_key_end("ab")) == "616201");
}

BOOST_AUTO_TEST_CASE(a_job_record_of_another_version_is_refused) {
  auto bytes = from_hex(golden_job_hex);
  bytes[0] = 3;
  auto r = decode_job_record(bytes, 7);
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST((r.error().code == errc::store_incompatible));
}

BOOST_AUTO_TEST_CASE(a_task_record_of_another_version_is_refused) {
  auto bytes = from_hex(golden_task_hex);
  bytes[0] = 0;
  auto r = decode_task_record(bytes);
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST((r.error().code == errc::store_incompatible));
}

BOOST_AUTO_TEST_CASE(every_truncation_of_a_job_record_is_refused) {
  auto bytes = from_hex(golden_job_hex);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    auto r = decode_job_record(bytes.substr(0, n), 7);
    BOOST_TEST_CONTEXT("cut to " << n << " bytes") {
      BOOST_TEST_REQUIRE(!r.has_value());
      BOOST_TEST((r.error().code == errc::store_incompatible));
    }
  }
}

BOOST_AUTO_TEST_CASE(every_truncation_of_a_task_record_is_refused) {
  auto bytes = from_hex(golden_task_hex);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    auto r = decode_task_record(bytes.substr(0, n));
    BOOST_TEST_CONTEXT("cut to " << n << " bytes") {
      BOOST_TEST_REQUIRE(!r.has_value());
      BOOST_TEST((r.error().code == errc::store_incompatible));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_job_record_with_trailing_bytes_is_refused) {
  auto r = decode_job_record(from_hex(golden_job_hex) + '\0', 7);
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST((r.error().code == errc::store_incompatible));
}

BOOST_AUTO_TEST_CASE(a_task_record_with_trailing_bytes_is_refused) {
  auto r = decode_task_record(from_hex(golden_task_hex) + '\0');
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST((r.error().code == errc::store_incompatible));
}

BOOST_AUTO_TEST_CASE(a_job_record_with_an_unknown_state_is_refused) {
  auto bytes = from_hex(golden_job_hex);
  BOOST_TEST_REQUIRE(bytes[golden_job_state_offset] == '\x04');
  bytes[golden_job_state_offset] = 7; // one past cancelled
  auto r = decode_job_record(bytes, 7);
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST((r.error().code == errc::store_incompatible));
}

BOOST_AUTO_TEST_CASE(a_task_record_with_an_unknown_state_is_refused) {
  for (char state : {'\x00', '\x05'}) { // 5: one past done
    auto bytes = from_hex(golden_task_hex);
    bytes[golden_task_state_offset] = state;
    auto r = decode_task_record(bytes);
    BOOST_TEST_CONTEXT("state " << static_cast<int>(state)) {
      BOOST_TEST_REQUIRE(!r.has_value());
      BOOST_TEST((r.error().code == errc::store_incompatible));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_done_task_record_round_trips_with_its_checkpoint) {
  task_record rec{task_state::done, 1, 0, {}, "final"};
  auto r = decode_task_record(encode(rec));
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST((*r == rec));
}

BOOST_AUTO_TEST_CASE(an_empty_record_round_trips) {
  job_record job;
  job.seq = 1;
  auto decoded_job = decode_job_record(encode(job), 1);
  BOOST_TEST_REQUIRE(decoded_job.has_value());
  BOOST_TEST((*decoded_job == job));
  task_record task;
  auto decoded_task = decode_task_record(encode(task));
  BOOST_TEST_REQUIRE(decoded_task.has_value());
  BOOST_TEST((*decoded_task == task));
}

BOOST_AUTO_TEST_SUITE_END()
