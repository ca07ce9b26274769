#include "storage/store.hpp"

#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <rocksdb/db.h>

#include "storage/encoding.hpp"
#include "storage/store_lock.hpp"
#include "temp_dir.hpp"
#include "test_util.hpp"

using namespace haul;
using namespace haul::storage;

namespace {

std::unique_ptr<store> must_open(const std::string& dir) {
  auto s = store::open(dir, sync_mode::off);
  BOOST_REQUIRE_MESSAGE(s.has_value(), "cannot open " << dir << ": " << test::why(s));
  return std::move(*s);
}

job_record some_job(std::uint32_t seq, const std::string& id) {
  job_record r;
  r.seq = seq;
  r.id = id;
  r.name = id;
  r.kind = "noop";
  r.total = 10;
  return r;
}

/// Runs `use` on the store's RocksDB database opened behind haul's back (every column family
/// opened, none used but the default), as another program or a future haul would.
template <typename Use>
void with_raw_db(const std::string& dir, bool read_only, Use use) {
  std::vector<std::string> names;
  BOOST_REQUIRE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const auto& n : names)
    cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  auto opened = read_only
                    ? rocksdb::DB::OpenForReadOnly(rocksdb::Options(), dir, cfs, &handles, &raw)
                    : rocksdb::DB::Open(rocksdb::Options(), dir, cfs, &handles, &raw);
  BOOST_REQUIRE(opened.ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  use(*db);
  for (auto* h : handles)
    BOOST_REQUIRE(db->DestroyColumnFamilyHandle(h).ok());
  BOOST_REQUIRE(db->Close().ok());
}

std::string get_meta(const std::string& dir, const std::string& key) {
  std::string value;
  with_raw_db(dir, true, [&](rocksdb::DB& db) {
    BOOST_REQUIRE(db.Get(rocksdb::ReadOptions(), key, &value).ok());
  });
  return value;
}

void put_meta(const std::string& dir, const std::string& key, const std::string& value) {
  with_raw_db(dir, false, [&](rocksdb::DB& db) {
    BOOST_REQUIRE(db.Put(rocksdb::WriteOptions(), key, value).ok());
  });
}

bool bit(const std::string& chunk, std::uint64_t index) {
  return ((static_cast<unsigned char>(chunk[index / 8]) >> (index % 8)) & 1u) != 0;
}

} // namespace

BOOST_AUTO_TEST_SUITE(store_tests)

// --- ownership and format ----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(opening_a_missing_directory_creates_an_empty_store) {
  test::temp_dir dir;
  auto s = must_open(dir.sub("new"));
  BOOST_TEST(*s->generation() == 0u);
  BOOST_TEST(*s->next_job_seq() == 1u);
  BOOST_TEST(s->load_jobs()->empty());
}

BOOST_AUTO_TEST_CASE(a_second_open_of_an_owned_store_fails_with_store_busy) {
  // The lock belongs to an open file description, so a second open in the same process
  // conflicts just as another process would.
  test::temp_dir dir;
  auto first = must_open(dir.path());
  auto second = store::open(dir.path(), sync_mode::off);
  BOOST_TEST_REQUIRE(!second.has_value());
  BOOST_TEST((second.error().code == errc::store_busy));
  BOOST_TEST(second.error().message.find(std::to_string(::getpid())) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_stores_lock_is_seen_held_only_while_its_owner_has_it_open) {
  test::temp_dir dir;
  BOOST_TEST(!store_lock::held(dir.path())); // no lock file yet
  auto owner = must_open(dir.path());
  BOOST_TEST(store_lock::held(dir.path()));
  owner.reset();
  BOOST_TEST(!store_lock::held(dir.path()));
  BOOST_TEST(store::open(dir.path(), sync_mode::off).has_value());
}

/// What an owner creating a store has written a moment after RocksDB made CURRENT: the
/// default column family, none of haul's, no format version.
void half_created_store(const std::string& dir) {
  rocksdb::Options o;
  o.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  BOOST_REQUIRE(rocksdb::DB::Open(o, dir, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  BOOST_REQUIRE(db->Close().ok());
}

BOOST_AUTO_TEST_CASE(a_reader_waits_for_a_store_its_owner_is_still_creating) {
  // Regression: `haul status` right after `haul run` started on a new store failed with
  // "Column family not found".
  test::temp_dir dir;
  half_created_store(dir.path());
  auto lock = store_lock::acquire(dir.path()); // the owner, mid-creation
  BOOST_REQUIRE(lock.has_value());
  expected<std::unique_ptr<store>> reader = make_error(errc::internal, "not run");
  std::thread reader_thread([&] { reader = store::open_reader(dir.path()); });
  // The owner finishes, still holding the lock: haul's column families (their on-disk
  // names, docs/storage-format.md) and the format version.
  {
    rocksdb::Options o;
    o.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const char* name : {"default", "jobs", "job_ids", "tasks", "due", "done", "inputs"})
      cfs.emplace_back(name, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    BOOST_REQUIRE(rocksdb::DB::Open(o, dir.path(), cfs, &handles, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    BOOST_REQUIRE(
        db->Put(rocksdb::WriteOptions(), "format_version", std::string("\0\0\0\2", 4)).ok());
    for (auto* h : handles)
      BOOST_REQUIRE(db->DestroyColumnFamilyHandle(h).ok());
    BOOST_REQUIRE(db->Close().ok());
  }
  reader_thread.join();
  BOOST_TEST_REQUIRE(reader.has_value(), (reader ? "" : reader.error().message));
  BOOST_TEST((*reader)->load_jobs()->empty());
}

BOOST_AUTO_TEST_CASE(a_half_created_store_with_no_owner_is_an_error_at_once) {
  test::temp_dir dir;
  half_created_store(dir.path());
  auto reader = store::open_reader(dir.path());
  BOOST_TEST_REQUIRE(!reader.has_value());
  BOOST_TEST((reader.error().code == errc::store_io));
}

BOOST_AUTO_TEST_CASE(a_store_can_be_opened_again_once_its_owner_closes_it) {
  test::temp_dir dir;
  must_open(dir.path()).reset();
  auto again = store::open(dir.path(), sync_mode::off);
  BOOST_TEST(again.has_value());
}

BOOST_AUTO_TEST_CASE(a_directory_holding_other_files_is_refused_as_incompatible) {
  test::temp_dir dir;
  std::ofstream(dir.sub("notes.txt")) << "not a store\n";
  auto s = store::open(dir.path(), sync_mode::off);
  BOOST_TEST_REQUIRE(!s.has_value());
  BOOST_TEST((s.error().code == errc::store_incompatible));
}

BOOST_AUTO_TEST_CASE(a_store_of_another_format_version_is_refused_as_incompatible) {
  test::temp_dir dir;
  must_open(dir.path()).reset();
  std::string v2;
  put_u32_be(v2, format_version + 1);
  put_meta(dir.path(), "format_version", v2);
  auto s = store::open(dir.path(), sync_mode::off);
  BOOST_TEST_REQUIRE(!s.has_value());
  BOOST_TEST((s.error().code == errc::store_incompatible));
}

BOOST_AUTO_TEST_CASE(a_version_1_store_is_upgraded_in_place_by_its_owner) {
  test::temp_dir dir;
  must_open(dir.path()).reset();
  std::string v1;
  put_u32_be(v1, 1);
  put_meta(dir.path(), "format_version", v1);
  BOOST_TEST_REQUIRE(store::open_reader(dir.path()).has_value());
  BOOST_TEST(get_u32_be(get_meta(dir.path(), "format_version")) == 1u); // readers never write
  BOOST_TEST_REQUIRE(store::open(dir.path(), sync_mode::off).has_value());
  BOOST_TEST(get_u32_be(get_meta(dir.path(), "format_version")) == format_version);
  std::vector<std::string> names;
  BOOST_REQUIRE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir.path(), &names).ok());
  BOOST_TEST((std::find(names.begin(), names.end(), "inputs") != names.end()));
}

BOOST_AUTO_TEST_CASE(a_rocksdb_database_that_is_not_a_haul_store_is_refused_as_incompatible) {
  test::temp_dir dir;
  {
    rocksdb::Options o;
    o.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    BOOST_REQUIRE(rocksdb::DB::Open(o, dir.path(), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    BOOST_REQUIRE(db->Put(rocksdb::WriteOptions(), "hello", "world").ok());
    BOOST_REQUIRE(db->Close().ok());
  }
  auto s = store::open(dir.path(), sync_mode::off);
  BOOST_TEST_REQUIRE(!s.has_value());
  BOOST_TEST((s.error().code == errc::store_incompatible));
}

BOOST_AUTO_TEST_CASE(a_reader_sees_what_the_owner_committed_while_the_owner_holds_the_store) {
  test::temp_dir dir;
  auto owner = must_open(dir.path());
  store_batch b;
  b.put_job(some_job(1, "a"));
  BOOST_TEST_REQUIRE(owner->commit(b, true).has_value());
  auto reader = store::open_reader(dir.path());
  BOOST_TEST_REQUIRE(reader.has_value(), test::why(reader));
  auto jobs = (*reader)->load_jobs();
  BOOST_TEST_REQUIRE(jobs.has_value());
  BOOST_TEST(jobs->size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_reader_of_a_missing_store_fails_with_not_found) {
  test::temp_dir dir;
  auto reader = store::open_reader(dir.sub("nothing"));
  BOOST_TEST_REQUIRE(!reader.has_value());
  BOOST_TEST((reader.error().code == errc::not_found));
}

// --- contents ----------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(committed_changes_survive_reopening) {
  test::temp_dir dir;
  {
    auto s = must_open(dir.path());
    store_batch b;
    b.put_job(some_job(4, "a"));
    b.put_job_id("a", 4);
    b.put_task(4, 2, {task_state::waiting, 1, 99, "e", "c"});
    b.put_generation(7);
    b.put_next_job_seq(5);
    BOOST_TEST_REQUIRE(s->commit(b, true).has_value());
    BOOST_TEST(b.empty());
  }
  auto s = must_open(dir.path());
  BOOST_TEST(*s->generation() == 7u);
  BOOST_TEST(*s->next_job_seq() == 5u);
  auto jobs = s->load_jobs();
  BOOST_TEST_REQUIRE(jobs->size() == 1u);
  BOOST_TEST(((*jobs)[0] == some_job(4, "a")));
  BOOST_TEST(**s->find_job("a") == 4u);
  auto one = s->load_job("a");
  BOOST_TEST_REQUIRE((one && one->has_value()));
  BOOST_TEST((**one == some_job(4, "a")));
  BOOST_TEST((s->load_job("b").has_value() && !s->load_job("b")->has_value()));
  auto task = s->load_task_record(4, 2);
  BOOST_TEST_REQUIRE(task->has_value());
  BOOST_TEST((**task == task_record{task_state::waiting, 1, 99, "e", "c"}));
}

BOOST_AUTO_TEST_CASE(done_bits_of_separate_commits_add_up) {
  test::temp_dir dir;
  auto s = must_open(dir.path());
  store_batch b;
  b.mark_done(1, 3);
  b.mark_done(1, 4'095);
  BOOST_TEST_REQUIRE(s->commit(b, false).has_value());
  b.mark_done(1, 5);
  b.mark_done(1, 4'096);
  BOOST_TEST_REQUIRE(s->commit(b, false).has_value());
  auto chunk0 = *s->load_done_chunk(1, 0);
  BOOST_TEST(chunk0.size() == done_chunk_bytes);
  BOOST_TEST(bit(chunk0, 3));
  BOOST_TEST(bit(chunk0, 5));
  BOOST_TEST(bit(chunk0, 4'095));
  BOOST_TEST(!bit(chunk0, 4));
  BOOST_TEST(bit(*s->load_done_chunk(1, 1), 0));
}

BOOST_AUTO_TEST_CASE(the_due_queue_pages_in_due_order_after_a_given_entry) {
  test::temp_dir dir;
  auto s = must_open(dir.path());
  store_batch b;
  b.put_due({1, 300, 0});
  b.put_due({1, 100, 9});
  b.put_due({1, 100, 2});
  b.put_due({1, 256, 1});
  b.put_due({2, 0, 0}); // another job's queue is never read
  BOOST_TEST_REQUIRE(s->commit(b, false).has_value());
  auto first = s->load_due(1, std::nullopt, 2);
  BOOST_TEST_REQUIRE(first->size() == 2u);
  BOOST_TEST((*first)[0].index == 2u);
  BOOST_TEST((*first)[1].index == 9u);
  auto rest = s->load_due(1, first->back(), 10);
  BOOST_TEST_REQUIRE(rest->size() == 2u);
  BOOST_TEST((*rest)[0].due_ms == 256);
  BOOST_TEST((*rest)[1].due_ms == 300);
  BOOST_TEST(s->load_due(1, rest->back(), 10)->empty());
}

BOOST_AUTO_TEST_CASE(deleting_a_job_removes_all_of_it_and_nothing_of_its_neighbours) {
  test::temp_dir dir;
  auto s = must_open(dir.path());
  store_batch b;
  for (std::uint32_t seq : {1, 2, 3}) {
    auto id = "job" + std::to_string(seq);
    b.put_job(some_job(seq, id));
    b.put_job_id(id, seq);
    b.put_task(seq, 0, {});
    b.put_due({seq, 10, 0});
    b.mark_done(seq, 1);
  }
  BOOST_TEST_REQUIRE(s->commit(b, false).has_value());
  b.mark_done(2, 2); // staged bits of a job deleted in the same batch must not come back
  b.delete_job(2, "job2");
  BOOST_TEST_REQUIRE(s->commit(b, false).has_value());

  BOOST_TEST(s->load_jobs()->size() == 2u);
  BOOST_TEST(!s->find_job("job2")->has_value());
  BOOST_TEST(s->load_task_records(2)->empty());
  BOOST_TEST(s->load_due(2, std::nullopt, 10)->empty());
  BOOST_TEST(*s->load_done_chunk(2, 0) == std::string(done_chunk_bytes, '\0'));
  for (std::uint32_t seq : {1, 3}) {
    BOOST_TEST_CONTEXT("job " << seq) {
      BOOST_TEST(s->load_task_records(seq)->size() == 1u);
      BOOST_TEST(s->load_due(seq, std::nullopt, 10)->size() == 1u);
      BOOST_TEST(bit(*s->load_done_chunk(seq, 0), 1));
    }
  }
}

BOOST_AUTO_TEST_CASE(emptying_a_jobs_due_queue_leaves_the_other_queues) {
  test::temp_dir dir;
  auto s = must_open(dir.path());
  store_batch b;
  b.put_due({1, 10, 0});
  b.put_due({1, 20, 5});
  b.put_due({2, 10, 0});
  BOOST_TEST_REQUIRE(s->commit(b, false).has_value());
  b.delete_all_due(1);
  BOOST_TEST_REQUIRE(s->commit(b, false).has_value());
  BOOST_TEST(s->load_due(1, std::nullopt, 10)->empty());
  BOOST_TEST(s->load_due(2, std::nullopt, 10)->size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
