#pragma once

// One process per store: an exclusive open-file-description lock (fcntl F_OFD_SETLK) on
// STORE/haul.lock, held for the life of the process's store handle. The lock file records
// the owner's pid so that the second process can say who holds the store. The kernel
// releases the lock when the owner dies, SIGKILL included, so a crashed owner never leaves
// a stale lock behind. Unlike flock, the lock can be tested without being taken
// (F_OFD_GETLK), so `haul status --watch` polling the store never makes an owner that
// starts at that instant fail as busy.

#include <string>

#include "haul/expected.hpp"

namespace haul::storage {

class store_lock {
 public:
  /// Creates the directory if needed and takes the lock without waiting.
  /// Fails with store_busy naming the store and the owner's pid when another process has it.
  static expected<store_lock> acquire(const std::string& dir);

  /// True when some process holds the store's lock now. Takes no lock itself.
  static bool held(const std::string& dir);

  store_lock(store_lock&& other) noexcept;
  store_lock& operator=(store_lock&& other) noexcept;
  ~store_lock();

 private:
  explicit store_lock(int fd)
      : fd_(fd) {}
  int fd_ = -1;
};

} // namespace haul::storage
