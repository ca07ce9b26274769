#include "storage/encoding.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

using namespace haul::storage;

namespace {

/// RocksDB's default comparator: memcmp, then length.
bool bytewise_less(const std::string& a, const std::string& b) {
  auto n = std::min(a.size(), b.size());
  if (auto c = std::memcmp(a.data(), b.data(), n); c != 0)
    return c < 0;
  return a.size() < b.size();
}

std::string varint_bytes(std::uint64_t v) {
  value_writer w(0);
  w.varint(v);
  return w.take().substr(1); // drop the version byte
}

std::string svarint_bytes(std::int64_t v) {
  value_writer w(0);
  w.svarint(v);
  return w.take().substr(1);
}

constexpr auto u64_max = std::numeric_limits<std::uint64_t>::max();
constexpr auto u32_max = std::numeric_limits<std::uint32_t>::max();

} // namespace

BOOST_AUTO_TEST_SUITE(encoding_tests)

BOOST_AUTO_TEST_CASE(task_keys_sort_bytewise_in_numeric_order) {
  // Listed in numeric order; the interesting pairs cross a byte boundary or a job boundary.
  const std::vector<task_key_parts> ordered = {
      {0, 0},      {0, 1},           {0, 255},           {0, 256},     {0, 65'535},
      {0, 65'536}, {0, 0xffff'ffff}, {0, 0x1'0000'0000}, {0, u64_max}, {1, 0},
      {1, 2},      {255, 0},         {256, 0},           {u32_max, 0}, {u32_max, u64_max},
  };
  for (std::size_t i = 1; i < ordered.size(); ++i) {
    auto lo = task_key(ordered[i - 1].job, ordered[i - 1].index);
    auto hi = task_key(ordered[i].job, ordered[i].index);
    BOOST_TEST_CONTEXT("between entries " << i - 1 << " and " << i) {
      BOOST_TEST(bytewise_less(lo, hi));
      BOOST_TEST(!bytewise_less(hi, lo));
    }
  }
}

BOOST_AUTO_TEST_CASE(due_keys_sort_by_job_then_due_time_then_index) {
  const std::vector<due_key_parts> ordered = {
      {1, 0, 0},
      {1, 0, 256},
      {1, 255, 0},
      {1, 256, 0},
      {1, 256, 1},
      {1, 1'700'000'000'000, 0},
      {1, std::numeric_limits<std::int64_t>::max(), u64_max},
      {2, 0, 0},
      {256, 5, 5},
  };
  for (std::size_t i = 1; i < ordered.size(); ++i) {
    const auto& a = ordered[i - 1];
    const auto& b = ordered[i];
    BOOST_TEST_CONTEXT("between entries " << i - 1 << " and " << i) {
      BOOST_TEST(
          bytewise_less(due_key(a.job, a.due_ms, a.index), due_key(b.job, b.due_ms, b.index)));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_job_key_is_a_prefix_of_its_task_and_due_keys_only) {
  auto prefix = job_key(7);
  BOOST_TEST(task_key(7, 123).starts_with(prefix));
  BOOST_TEST(due_key(7, 9, 123).starts_with(prefix));
  BOOST_TEST(!task_key(8, 0).starts_with(prefix));
  // The end of a job's range is the next job's key: every key of the job sorts before it.
  BOOST_TEST(bytewise_less(task_key(7, u64_max), job_key(8)));
  BOOST_TEST(
      bytewise_less(due_key(7, std::numeric_limits<std::int64_t>::max(), u64_max), job_key(8)));
}

BOOST_AUTO_TEST_CASE(task_keys_parse_back_to_their_parts) {
  for (auto [job, index] : std::vector<std::pair<std::uint32_t, std::uint64_t>>{
           {0, 0}, {1, 2}, {256, 255}, {u32_max, u64_max}}) {
    auto parts = parse_task_key(task_key(job, index));
    BOOST_TEST_REQUIRE(parts.has_value());
    BOOST_TEST(parts->job == job);
    BOOST_TEST(parts->index == index);
  }
}

BOOST_AUTO_TEST_CASE(due_keys_parse_back_to_their_parts) {
  auto parts = parse_due_key(due_key(u32_max, 1'700'000'000'123, u64_max));
  BOOST_TEST_REQUIRE(parts.has_value());
  BOOST_TEST(parts->job == u32_max);
  BOOST_TEST(parts->due_ms == 1'700'000'000'123);
  BOOST_TEST(parts->index == u64_max);
}

BOOST_AUTO_TEST_CASE(keys_of_the_wrong_length_do_not_parse) {
  BOOST_TEST(!parse_task_key(task_key(1, 2).substr(0, 11)).has_value());
  BOOST_TEST(!parse_task_key(task_key(1, 2) + '\0').has_value());
  BOOST_TEST(!parse_due_key(due_key(1, 2, 3).substr(0, 19)).has_value());
  BOOST_TEST(!parse_due_key(task_key(1, 2)).has_value());
}

BOOST_AUTO_TEST_CASE(a_due_time_before_the_epoch_is_stored_as_zero) {
  BOOST_TEST(due_key(1, -5, 3) == due_key(1, 0, 3));
}

BOOST_AUTO_TEST_CASE(big_endian_integers_round_trip) {
  std::string s;
  put_u32_be(s, 0x0102'0304);
  put_u64_be(s, 0x0a0b'0c0d'0e0f'1011);
  BOOST_TEST(to_hex(s) == "010203040a0b0c0d0e0f1011");
  BOOST_TEST(get_u32_be(s) == 0x0102'0304u);
  BOOST_TEST(get_u64_be(std::string_view(s).substr(4)) == 0x0a0b'0c0d'0e0f'1011u);
}

BOOST_AUTO_TEST_CASE(varints_round_trip_over_the_whole_range) {
  const std::vector<std::uint64_t> values = {
      0,           1,      127, 128, 255, 256, 16'383, 16'384, u32_max, std::uint64_t{1} << 63,
      u64_max - 1, u64_max};
  value_writer w(1);
  for (auto v : values)
    w.varint(v);
  auto bytes = w.take();
  value_reader r(bytes);
  std::uint8_t version = 0;
  BOOST_TEST_REQUIRE(r.u8(version));
  for (auto v : values) {
    std::uint64_t got = 0;
    BOOST_TEST_REQUIRE(r.varint(got));
    BOOST_TEST(got == v);
  }
  BOOST_TEST(r.at_end());
}

BOOST_AUTO_TEST_CASE(signed_varints_round_trip_including_the_extremes) {
  const std::vector<std::int64_t> values = {0,
                                            -1,
                                            1,
                                            -64,
                                            63,
                                            -65,
                                            64,
                                            std::numeric_limits<std::int64_t>::min(),
                                            std::numeric_limits<std::int64_t>::min() + 1,
                                            std::numeric_limits<std::int64_t>::max(),
                                            std::numeric_limits<std::int64_t>::max() - 1};
  value_writer w(1);
  for (auto v : values)
    w.svarint(v);
  auto bytes = w.take();
  value_reader r(std::string_view(bytes).substr(1));
  for (auto v : values) {
    std::int64_t got = 0;
    BOOST_TEST_REQUIRE(r.svarint(got));
    BOOST_TEST(got == v);
  }
  BOOST_TEST(r.at_end());
}

BOOST_AUTO_TEST_CASE(varints_are_little_endian_base_128) {
  BOOST_TEST(to_hex(varint_bytes(0)) == "00");
  BOOST_TEST(to_hex(varint_bytes(127)) == "7f");
  BOOST_TEST(to_hex(varint_bytes(128)) == "8001");
  BOOST_TEST(to_hex(varint_bytes(300)) == "ac02");
  BOOST_TEST(to_hex(varint_bytes(u64_max)) == "ffffffffffffffffff01");
}

BOOST_AUTO_TEST_CASE(signed_varints_are_zig_zag_encoded) {
  BOOST_TEST(to_hex(svarint_bytes(0)) == "00");
  BOOST_TEST(to_hex(svarint_bytes(-1)) == "01");
  BOOST_TEST(to_hex(svarint_bytes(1)) == "02");
  BOOST_TEST(to_hex(svarint_bytes(-2)) == "03");
  BOOST_TEST(to_hex(svarint_bytes(std::numeric_limits<std::int64_t>::max())) ==
             "feffffffffffffffff01");
  BOOST_TEST(to_hex(svarint_bytes(std::numeric_limits<std::int64_t>::min())) ==
             "ffffffffffffffffff01");
}

BOOST_AUTO_TEST_CASE(strings_are_length_prefixed) {
  value_writer w(9);
  w.str("abc");
  w.str("");
  BOOST_TEST(to_hex(w.take()) == "0903616263"
                                 "00");
}

BOOST_AUTO_TEST_CASE(the_reader_refuses_a_varint_cut_after_a_continuation_byte) {
  std::string bytes = "\x80\x80";
  value_reader r(bytes);
  std::uint64_t v = 0;
  BOOST_TEST(!r.varint(v));
}

BOOST_AUTO_TEST_CASE(the_reader_refuses_a_varint_longer_than_ten_bytes) {
  std::string bytes(11, '\x80');
  bytes.push_back('\x01');
  value_reader r(bytes);
  std::uint64_t v = 0;
  BOOST_TEST(!r.varint(v));
}

BOOST_AUTO_TEST_CASE(the_reader_refuses_a_string_longer_than_what_is_left) {
  std::string bytes = "\x04"
                      "abc";
  value_reader r(bytes);
  std::string s;
  BOOST_TEST(!r.str(s));
}

BOOST_AUTO_TEST_CASE(the_reader_refuses_to_read_past_the_end) {
  value_reader r(std::string_view{});
  std::uint8_t b = 0;
  std::uint64_t u = 0;
  std::int64_t i = 0;
  std::string s;
  BOOST_TEST(r.at_end());
  BOOST_TEST(!r.u8(b));
  BOOST_TEST(!r.varint(u));
  BOOST_TEST(!r.svarint(i));
  BOOST_TEST(!r.str(s));
}

BOOST_AUTO_TEST_SUITE_END()
