#pragma once

// The hand-over between the thread that reads the database into SQL text and the task's
// thread that compresses it into parts: a small bounded queue, so the reader runs ahead by
// at most a few chunks (memory stays bounded) while both cores work.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

#include "haul/expected.hpp"
#include "runtime/export/dump_reader.hpp"

namespace haul::exporter {

/// Whole statements of the dump, and where they end.
struct dump_chunk {
  std::string text;
  dump_position end;
  std::uint32_t tables_done = 0;
  bool last = false;
  std::optional<error> failure; ///< Reading failed here; nothing follows.
};

class chunk_queue {
 public:
  explicit chunk_queue(std::size_t capacity)
      : capacity_(capacity) {}

  /// Blocks while full. False once closed (the chunk is dropped).
  bool push(dump_chunk c) {
    std::unique_lock lock(mutex_);
    not_full_.wait(lock, [&] { return closed_ || items_.size() < capacity_; });
    if (closed_)
      return false;
    items_.push_back(std::move(c));
    not_empty_.notify_one();
    return true;
  }

  /// Blocks while empty; nullopt once closed and drained.
  std::optional<dump_chunk> pop() {
    std::unique_lock lock(mutex_);
    not_empty_.wait(lock, [&] { return closed_ || !items_.empty(); });
    if (items_.empty())
      return std::nullopt;
    auto c = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return c;
  }

  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    not_full_.notify_all();
    not_empty_.notify_all();
  }

 private:
  std::size_t capacity_;
  std::mutex mutex_;
  std::condition_variable not_full_, not_empty_;
  std::deque<dump_chunk> items_;
  bool closed_ = false;
};

} // namespace haul::exporter
