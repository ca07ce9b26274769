#include "storage/store_lock.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <string>
#include <unistd.h>

namespace haul::storage {

namespace {

/// The whole file, for writing: what the owner holds, and what a probe asks about.
struct flock whole_file(short type) {
  struct flock l {};
  l.l_type = type;
  l.l_whence = SEEK_SET;
  l.l_start = 0;
  l.l_len = 0; // to the end of the file, however long
  return l;
}

} // namespace

expected<store_lock> store_lock::acquire(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return make_error(errc::store_io, "cannot create store directory " + dir + ": " + ec.message());
  auto path = dir + "/haul.lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return make_error(errc::store_io, "cannot open " + path + ": " + std::strerror(errno));
  auto want = whole_file(F_WRLCK);
  if (::fcntl(fd, F_OFD_SETLK, &want) != 0) {
    int err = errno;
    char buf[32] = {};
    auto n = ::pread(fd, buf, sizeof(buf) - 1, 0);
    ::close(fd);
    if (err == EAGAIN || err == EACCES) {
      std::string owner = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "unknown";
      while (!owner.empty() && (owner.back() == '\n' || owner.back() == ' '))
        owner.pop_back();
      return make_error(errc::store_busy, "store " + dir +
                                              " is in use by another haul process (pid " + owner +
                                              "); one process owns a store at a time");
    }
    return make_error(errc::store_io, "cannot lock " + path + ": " + std::strerror(err));
  }
  auto pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    // The pid is only for the message a second process prints; the lock itself holds.
  }
  return store_lock(fd);
}

bool store_lock::held(const std::string& dir) {
  int fd = ::open((dir + "/haul.lock").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  auto probe = whole_file(F_WRLCK);
  bool held = ::fcntl(fd, F_OFD_GETLK, &probe) == 0 && probe.l_type != F_UNLCK;
  ::close(fd);
  return held;
}

store_lock::store_lock(store_lock&& other) noexcept
    : fd_(other.fd_) {
  other.fd_ = -1;
}

store_lock& store_lock::operator=(store_lock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

store_lock::~store_lock() {
  if (fd_ >= 0)
    ::close(fd_); // closing the last descriptor releases the lock
}

} // namespace haul::storage
