#include "storage/store.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <rocksdb/db.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include "storage/encoding.hpp"

namespace haul::storage {

namespace {

// Indexes into store::cfs_, in the order of cf_names. DO NOT CHANGE the names: on-disk.
enum cf : std::size_t {
  cf_meta = 0,
  cf_jobs,
  cf_job_ids,
  cf_tasks,
  cf_due,
  cf_done,
  cf_inputs,
  cf_count
};
const char* const cf_names[cf_count] = {"default", "jobs", "job_ids", "tasks",
                                        "due",     "done", "inputs"};

const char* const meta_format = "format_version";
const char* const meta_generation = "generation";
const char* const meta_next_job = "next_job_seq";

/// Done bitmaps are only ever OR-ed: a task that succeeded stays succeeded.
class bitmap_or final : public rocksdb::AssociativeMergeOperator {
 public:
  bool Merge(const rocksdb::Slice&, const rocksdb::Slice* existing, const rocksdb::Slice& value,
             std::string* new_value, rocksdb::Logger*) const override {
    std::string out = existing ? existing->ToString() : std::string();
    if (out.size() < value.size())
      out.resize(value.size(), '\0');
    for (std::size_t i = 0; i < value.size(); ++i)
      out[i] = static_cast<char>(out[i] | value[i]);
    *new_value = std::move(out);
    return true;
  }
  const char* Name() const override { return "haul.bitmap_or"; }
};

error io_error(const std::string& what, const rocksdb::Status& s) {
  return make_error(errc::store_io, what + ": " + s.ToString());
}

std::vector<rocksdb::ColumnFamilyDescriptor> descriptors() {
  rocksdb::ColumnFamilyOptions cfo;
  std::vector<rocksdb::ColumnFamilyDescriptor> out;
  for (std::size_t i = 0; i < cf_count; ++i) {
    auto o = cfo;
    if (i == cf_done)
      o.merge_operator = std::make_shared<bitmap_or>();
    // 8 MiB memtables instead of RocksDB's 64 MiB: inputs are written once in bulk (a
    // 1M-entry listing would sit in memory), and the done bitmaps and job records take a
    // small write every turn, which adds up to tens of MB over a long job. Measured: peak
    // RSS of a 1M-entry upload 188 MB with the default, see docs/benchmarks.md.
    o.write_buffer_size = 8 << 20;
    out.emplace_back(cf_names[i], o);
  }
  return out;
}

rocksdb::Options db_options() {
  rocksdb::Options o;
  o.create_if_missing = true;
  o.create_missing_column_families = true;
  o.IncreaseParallelism(2);
  o.keep_log_file_num = 3;
  o.max_log_file_size = 4 << 20;
  return o;
}

std::string u32_value(std::uint32_t v) {
  std::string s;
  put_u32_be(s, v);
  return s;
}

std::string u64_value(std::uint64_t v) {
  std::string s;
  put_u64_be(s, v);
  return s;
}

} // namespace

// ---- store_batch -------------------------------------------------------------------------

void store_batch::add(op::type what, std::uint8_t family, std::string key, std::string value) {
  ops_.push_back(op{what, family, std::move(key), std::move(value)});
}

void store_batch::put_job(const job_record& r) {
  add(op::type::put, cf_jobs, job_key(r.seq), encode(r));
}

void store_batch::put_job_id(const std::string& id, std::uint32_t seq) {
  add(op::type::put, cf_job_ids, id, u32_value(seq));
}

void store_batch::put_task(std::uint32_t job, std::uint64_t index, const task_record& r) {
  add(op::type::put, cf_tasks, task_key(job, index), encode(r));
}

void store_batch::delete_task(std::uint32_t job, std::uint64_t index) {
  add(op::type::del, cf_tasks, task_key(job, index));
}

void store_batch::put_due(const due_entry& e) {
  add(op::type::put, cf_due, due_key(e.job, e.due_ms, e.index));
}

void store_batch::delete_due(const due_entry& e) {
  add(op::type::del, cf_due, due_key(e.job, e.due_ms, e.index));
}

void store_batch::delete_all_due(std::uint32_t job) {
  add(op::type::del_range, cf_due, job_key(job), job_key(job + 1));
}

void store_batch::mark_done(std::uint32_t job, std::uint64_t index) {
  auto& chunk = done_chunks_[{job, index / done_chunk_bits}];
  if (chunk.empty())
    chunk.assign(done_chunk_bytes, '\0');
  auto bit = index % done_chunk_bits;
  chunk[bit / 8] = static_cast<char>(chunk[bit / 8] | (1u << (bit % 8)));
}

void store_batch::delete_job(std::uint32_t seq, const std::string& id) {
  for (auto family : {cf_due, cf_tasks, cf_done})
    add(op::type::del_range, family, job_key(seq), job_key(seq + 1));
  add(op::type::del, cf_jobs, job_key(seq));
  add(op::type::del, cf_job_ids, id);
  delete_inputs(id);
  // Staged done bits of this job would resurrect a deleted chunk.
  std::erase_if(done_chunks_, [&](const auto& kv) { return kv.first.first == seq; });
}

void store_batch::put_input(const std::string& id, std::uint64_t index, std::string_view input) {
  add(op::type::put, cf_inputs, input_key(id, index), std::string(input));
}

void store_batch::delete_inputs(const std::string& id) {
  add(op::type::del_range, cf_inputs, input_key(id, 0), input_key_end(id));
}

void store_batch::put_generation(std::uint64_t generation) {
  add(op::type::put, cf_meta, meta_generation, u64_value(generation));
}

void store_batch::put_next_job_seq(std::uint32_t seq) {
  add(op::type::put, cf_meta, meta_next_job, u32_value(seq));
}

void store_batch::clear() {
  ops_.clear();
  done_chunks_.clear();
}

// ---- store -------------------------------------------------------------------------------

store::~store() {
  for (auto* h : cfs_)
    if (h != nullptr && db_)
      db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  if (db_)
    db_->Close().PermitUncheckedError();
  db_.reset();
  if (!secondary_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(secondary_dir_, ec);
  }
}

expected<std::unique_ptr<store>> store::open(const std::string& dir, sync_mode sync) {
  auto lock = store_lock::acquire(dir);
  if (!lock)
    return lock.error();
  bool existed = std::filesystem::exists(dir + "/CURRENT");
  if (!existed) {
    // Refuse to turn a directory that holds something else into a store.
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (entry.path().filename() != "haul.lock")
        return make_error(errc::store_incompatible,
                          "store " + dir + " is not a haul store: it holds " +
                              entry.path().filename().string() +
                              " and no RocksDB database; use an empty or new directory");
    }
  }
  std::unique_ptr<store> s(new store());
  s->path_ = dir;
  s->sync_ = sync;
  s->lock_.emplace(std::move(*lock));
  rocksdb::DB* raw = nullptr;
  auto st = rocksdb::DB::Open(db_options(), dir, descriptors(), &s->cfs_, &raw);
  if (!st.ok())
    return io_error("cannot open store " + dir, st);
  s->db_.reset(raw);
  if (auto ok = s->check_format(!existed); !ok)
    return ok.error();
  return s;
}

expected<std::unique_ptr<store>> store::open_reader(const std::string& dir) {
  // An owner creating a store writes CURRENT before the column families, and those before
  // the format version; an owner opening one switches to a new MANIFEST. A reader that
  // comes in between waits (both take milliseconds), for 2 s at most and only while the
  // owner holds the lock, instead of calling the store broken.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  for (;;) {
    bool incomplete = false;
    auto s = open_reader_once(dir, incomplete);
    if (s || !incomplete || std::chrono::steady_clock::now() >= deadline || !store_lock::held(dir))
      return s;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

expected<std::unique_ptr<store>> store::open_reader_once(const std::string& dir, bool& incomplete) {
  if (!std::filesystem::exists(dir + "/CURRENT"))
    return make_error(errc::not_found, "no haul store at " + dir);
  std::unique_ptr<store> s(new store());
  s->path_ = dir;
  std::string tmpl = (std::filesystem::temp_directory_path() / "haul-reader-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr)
    return make_error(errc::store_io, "cannot create a scratch directory for reading " + dir);
  s->secondary_dir_ = tmpl;
  auto opts = db_options();
  opts.create_if_missing = false;
  opts.create_missing_column_families = false;
  opts.max_open_files = -1; // required by secondary instances
  rocksdb::DB* raw = nullptr;
  auto st =
      rocksdb::DB::OpenAsSecondary(opts, dir, s->secondary_dir_, descriptors(), &s->cfs_, &raw);
  if (!st.ok()) {
    // A column family missing, or the MANIFEST replaced while it was being read.
    incomplete = st.IsInvalidArgument() || st.IsTryAgain() || st.IsPathNotFound();
    return io_error("cannot read store " + dir, st);
  }
  s->db_.reset(raw);
  if (auto ok = s->check_format(false); !ok) {
    std::string value;
    incomplete =
        s->db_->Get(rocksdb::ReadOptions(), s->cfs_[cf_meta], meta_format, &value).IsNotFound();
    return ok.error();
  }
  return s;
}

expected<void> store::check_format(bool created) {
  std::string value;
  auto st = db_->Get(rocksdb::ReadOptions(), cfs_[cf_meta], meta_format, &value);
  if (st.IsNotFound()) {
    if (!created)
      return make_error(errc::store_incompatible,
                        "store " + path_ + " has no haul format version: not a haul store");
    rocksdb::WriteBatch b;
    b.Put(cfs_[cf_meta], meta_format, u32_value(format_version)).PermitUncheckedError();
    b.Put(cfs_[cf_meta], meta_generation, u64_value(0)).PermitUncheckedError();
    b.Put(cfs_[cf_meta], meta_next_job, u32_value(1)).PermitUncheckedError();
    rocksdb::WriteOptions wo;
    wo.sync = true;
    st = db_->Write(wo, &b);
    if (!st.ok())
      return io_error("cannot initialise store " + path_, st);
    return {};
  }
  if (!st.ok())
    return io_error("cannot read the format version of store " + path_, st);
  auto version = value.size() == 4 ? get_u32_be(value) : 0;
  if (version != format_version && version != 1)
    return make_error(errc::store_incompatible,
                      "store " + path_ + " has format version " +
                          (value.size() == 4 ? std::to_string(version) : "0x" + to_hex(value)) +
                          "; this haul reads versions 1 and " + std::to_string(format_version));
  if (version == 1 && lock_) {
    // Version 2 only added the inputs family (created on open) and job record version 2
    // (version 1 records still decode): upgrading is writing the new number.
    rocksdb::WriteOptions wo;
    wo.sync = true;
    st = db_->Put(wo, cfs_[cf_meta], meta_format, u32_value(format_version));
    if (!st.ok())
      return io_error("cannot upgrade store " + path_ + " to format version 2", st);
  }
  return {};
}

expected<void> store::commit(store_batch& batch, bool sync) {
  rocksdb::WriteBatch b;
  for (const auto& o : batch.ops_) {
    auto* h = cfs_[o.family];
    switch (o.what) {
    case store_batch::op::type::put:
      b.Put(h, o.key, o.value).PermitUncheckedError();
      break;
    case store_batch::op::type::del:
      b.Delete(h, o.key).PermitUncheckedError();
      break;
    case store_batch::op::type::del_range:
      b.DeleteRange(h, o.key, o.value).PermitUncheckedError();
      break;
    }
  }
  for (const auto& [chunk, bits] : batch.done_chunks_)
    b.Merge(cfs_[cf_done], done_key(chunk.first, chunk.second), bits).PermitUncheckedError();
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  auto st = db_->Write(wo, &b);
  batch.clear();
  if (!st.ok())
    return io_error("cannot write to store " + path_, st);
  return {};
}

expected<std::uint64_t> store::generation() const {
  std::string v;
  auto st = db_->Get(rocksdb::ReadOptions(), cfs_[cf_meta], meta_generation, &v);
  if (!st.ok() || v.size() != 8)
    return make_error(errc::store_incompatible, "store " + path_ + " has no valid generation");
  return get_u64_be(v);
}

expected<std::uint32_t> store::next_job_seq() const {
  std::string v;
  auto st = db_->Get(rocksdb::ReadOptions(), cfs_[cf_meta], meta_next_job, &v);
  if (!st.ok() || v.size() != 4)
    return make_error(errc::store_incompatible, "store " + path_ + " has no valid job sequence");
  return get_u32_be(v);
}

expected<std::vector<job_record>> store::load_jobs() const {
  std::vector<job_record> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cfs_[cf_jobs]));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto key = it->key();
    if (key.size() != 4)
      return make_error(errc::store_incompatible, "store " + path_ + " has a malformed job key");
    auto r = decode_job_record(it->value().ToStringView(), get_u32_be(key.ToStringView()));
    if (!r)
      return make_error(r.error().code, "store " + path_ + ": " + r.error().message);
    out.push_back(std::move(*r));
  }
  if (!it->status().ok())
    return io_error("cannot list jobs of store " + path_, it->status());
  return out;
}

expected<std::optional<std::uint32_t>> store::find_job(const std::string& id) const {
  std::string v;
  auto st = db_->Get(rocksdb::ReadOptions(), cfs_[cf_job_ids], id, &v);
  if (st.IsNotFound())
    return std::optional<std::uint32_t>();
  if (!st.ok())
    return io_error("cannot look up job " + id, st);
  if (v.size() != 4)
    return make_error(errc::store_incompatible, "job id entry of " + id + " is malformed");
  return std::optional<std::uint32_t>(get_u32_be(v));
}

expected<std::optional<job_record>> store::load_job(const std::string& id) const {
  auto seq = find_job(id);
  if (!seq || !*seq)
    return seq ? expected<std::optional<job_record>>(std::nullopt)
               : expected<std::optional<job_record>>(seq.error());
  std::string v;
  auto st = db_->Get(rocksdb::ReadOptions(), cfs_[cf_jobs], job_key(**seq), &v);
  if (st.IsNotFound()) // deleted between the two reads of a reader
    return std::optional<job_record>();
  if (!st.ok())
    return io_error("cannot read job " + id, st);
  auto r = decode_job_record(v, **seq);
  if (!r)
    return make_error(r.error().code, "store " + path_ + ": " + r.error().message);
  return std::optional<job_record>(std::move(*r));
}

expected<std::vector<std::pair<std::uint64_t, task_record>>>
store::load_task_records(std::uint32_t job) const {
  std::vector<std::pair<std::uint64_t, task_record>> out;
  auto prefix = job_key(job);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cfs_[cf_tasks]));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    auto parts = parse_task_key(it->key().ToStringView());
    auto rec = decode_task_record(it->value().ToStringView());
    if (!parts || !rec)
      return make_error(errc::store_incompatible, "store " + path_ +
                                                      " has a corrupt task record of job " +
                                                      std::to_string(job));
    out.emplace_back(parts->index, std::move(*rec));
  }
  if (!it->status().ok())
    return io_error("cannot read tasks of job " + std::to_string(job), it->status());
  return out;
}

expected<std::string> store::load_input(const std::string& id, std::uint64_t index) const {
  std::string v;
  auto st = db_->Get(rocksdb::ReadOptions(), cfs_[cf_inputs], input_key(id, index), &v);
  if (st.IsNotFound())
    return make_error(errc::not_found, "store " + path_ + " has no input for task " +
                                           std::to_string(index) + " of job " + id);
  if (!st.ok())
    return io_error("cannot read the input of task " + std::to_string(index) + " of job " + id, st);
  return v;
}

expected<std::optional<task_record>> store::load_task_record(std::uint32_t job,
                                                             std::uint64_t index) const {
  std::string v;
  auto st = db_->Get(rocksdb::ReadOptions(), cfs_[cf_tasks], task_key(job, index), &v);
  if (st.IsNotFound())
    return std::optional<task_record>();
  if (!st.ok())
    return io_error("cannot read a task record", st);
  auto rec = decode_task_record(v);
  if (!rec)
    return rec.error();
  return std::optional<task_record>(std::move(*rec));
}

expected<std::vector<due_entry>>
store::load_due(std::uint32_t job, const std::optional<due_entry>& after, std::size_t limit) const {
  std::vector<due_entry> out;
  auto prefix = job_key(job);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cfs_[cf_due]));
  if (after) {
    auto start = due_key(job, after->due_ms, after->index);
    it->Seek(start);
    if (it->Valid() && it->key() == start)
      it->Next();
  } else {
    it->Seek(prefix);
  }
  for (; it->Valid() && it->key().starts_with(prefix) && out.size() < limit; it->Next()) {
    auto parts = parse_due_key(it->key().ToStringView());
    if (!parts)
      return make_error(errc::store_incompatible, "store " + path_ + " has a malformed due key");
    out.push_back({parts->job, parts->due_ms, parts->index});
  }
  if (!it->status().ok())
    return io_error("cannot read the due queue", it->status());
  return out;
}

expected<std::string> store::load_done_chunk(std::uint32_t job, std::uint64_t chunk) const {
  std::string v;
  auto st = db_->Get(rocksdb::ReadOptions(), cfs_[cf_done], done_key(job, chunk), &v);
  if (st.IsNotFound())
    return std::string(done_chunk_bytes, '\0');
  if (!st.ok())
    return io_error("cannot read done bitmap", st);
  v.resize(done_chunk_bytes, '\0');
  return v;
}

} // namespace haul::storage
