#pragma once

// The store: a RocksDB directory with one column family per key space.
//
//   default  meta: format version, generation, next job sequence number
//   jobs     job seq (u32 BE)                      -> job_record
//   job_ids  job id (text)                         -> job seq (u32 BE)
//   tasks    job seq, task index (u32, u64 BE)     -> task_record (only tasks with news)
//   due      job seq, due ms, task index (u32, u64, u64 BE) -> empty: the backoff queues
//   done     job seq, chunk (u32, u64 BE)          -> 512-byte bitmap, merged with OR
//   inputs   job id, NUL, task index (u64 BE)      -> the task's input (kinds that list)
//
// docs/storage-format.md is the reference. A store_batch collects every change of one
// supervisor turn and store::commit writes it atomically. Thread context: the scheduling
// state is written by one actor at a time (the supervisor, or the recovery actor before the
// supervisor starts); inputs are written by runtime::submit on the caller's thread before
// the job exists, and read by workers. RocksDB makes all of these safe together. Const
// readers may also run on a reader store opened in another process.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "haul/expected.hpp"
#include "haul/runtime.hpp"
#include "storage/records.hpp"
#include "storage/store_lock.hpp"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
} // namespace rocksdb

namespace haul::storage {

/// DO NOT CHANGE without a migration: stores of another version are refused. Version 1
/// stores are upgraded in place when opened by their owner (docs/storage-format.md).
inline constexpr std::uint32_t format_version = 2;

struct due_entry {
  std::uint32_t job = 0;
  std::int64_t due_ms = 0;
  std::uint64_t index = 0;
};

/// The changes of one turn, applied atomically by store::commit. A plain list of changes:
/// building one needs no store, which keeps the scheduler free of RocksDB.
class store_batch {
 public:
  void put_job(const job_record& r);
  void put_job_id(const std::string& id, std::uint32_t seq);
  void put_task(std::uint32_t job, std::uint64_t index, const task_record& r);
  void delete_task(std::uint32_t job, std::uint64_t index);
  void put_due(const due_entry& e);
  void delete_due(const due_entry& e);
  void delete_all_due(std::uint32_t job);
  /// Marks the task succeeded in the done bitmap. Bits of one chunk are merged into one write.
  void mark_done(std::uint32_t job, std::uint64_t index);
  /// Deletes everything the job has in the store: record, id, tasks, due queue, done bits,
  /// inputs.
  void delete_job(std::uint32_t seq, const std::string& id);
  void put_input(const std::string& id, std::uint64_t index, std::string_view input);
  void delete_inputs(const std::string& id);
  void put_generation(std::uint64_t generation);
  void put_next_job_seq(std::uint32_t seq);

  /// Number of changes staged (done bits count once per chunk).
  std::size_t size() const { return ops_.size() + done_chunks_.size(); }
  bool empty() const { return size() == 0; }
  void clear();

  /// One staged change. `family` indexes the store's column families.
  struct op {
    enum class type : std::uint8_t { put, del, del_range } what;
    std::uint8_t family;
    std::string key;
    std::string value; ///< del_range: the end key (exclusive).
  };

 private:
  friend class store;
  void add(op::type what, std::uint8_t family, std::string key, std::string value = {});
  std::vector<op> ops_;
  std::map<std::pair<std::uint32_t, std::uint64_t>, std::string> done_chunks_;
};

class store {
 public:
  /// Opens or creates the store at dir and owns it until destroyed.
  /// Fails with store_busy (another process owns it), store_incompatible (unknown format
  /// version, or a directory that is not a haul store) or store_io.
  static expected<std::unique_ptr<store>> open(const std::string& dir, sync_mode sync);
  /// Opens a read-only view that works while another process owns the store (a RocksDB
  /// secondary instance). Fails with not_found when there is no store at dir. A store that
  /// its owner is creating at this moment is waited for (up to 2 s), not reported broken.
  static expected<std::unique_ptr<store>> open_reader(const std::string& dir);

  ~store();
  store(const store&) = delete;
  store& operator=(const store&) = delete;

  const std::string& path() const { return path_; }
  sync_mode sync() const { return sync_; }

  /// Writes the batch atomically; with sync, returns only once it is on disk. Clears it.
  expected<void> commit(store_batch& batch, bool sync);

  expected<std::uint64_t> generation() const;
  expected<std::uint32_t> next_job_seq() const;
  expected<std::vector<job_record>> load_jobs() const;
  expected<std::optional<std::uint32_t>> find_job(const std::string& id) const;
  /// The record of the job with this id, through job_ids: two point reads, not a listing.
  /// nullopt when there is no such job.
  expected<std::optional<job_record>> load_job(const std::string& id) const;
  expected<std::vector<std::pair<std::uint64_t, task_record>>>
  load_task_records(std::uint32_t job) const;
  /// Up to limit due entries of the job strictly after `after` (or from its first), in due
  /// order.
  expected<std::vector<due_entry>>
  load_due(std::uint32_t job, const std::optional<due_entry>& after, std::size_t limit) const;
  /// The done bitmap chunk, done_chunk_bytes long (all zero when nothing is stored).
  expected<std::string> load_done_chunk(std::uint32_t job, std::uint64_t chunk) const;
  expected<std::optional<task_record>> load_task_record(std::uint32_t job,
                                                        std::uint64_t index) const;
  /// The task's input; not_found when the store has none. Safe from any thread.
  expected<std::string> load_input(const std::string& id, std::uint64_t index) const;

 private:
  store() = default;
  expected<void> check_format(bool created);
  /// One try of open_reader. `incomplete`: it failed the way a store being created does
  /// (column families or the format version not there yet).
  static expected<std::unique_ptr<store>> open_reader_once(const std::string& dir,
                                                           bool& incomplete);

  std::string path_;
  sync_mode sync_ = sync_mode::batch;
  std::optional<store_lock> lock_;
  std::string secondary_dir_; ///< Reader stores only: RocksDB's scratch directory.
  std::vector<rocksdb::ColumnFamilyHandle*> cfs_;
  std::unique_ptr<rocksdb::DB> db_;
};

} // namespace haul::storage
