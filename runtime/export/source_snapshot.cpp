#include "runtime/export/source_snapshot.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace haul::exporter {

namespace {

void add_number(std::string& out, unsigned long long v) {
  out += std::to_string(v);
  out += ':';
}

/// Appends bytes [from, from + n) of the file as hex; nothing when the file is shorter.
void add_header_bytes(std::string& out, const std::string& path, off_t from, std::size_t n) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return;
  unsigned char buf[16] = {};
  auto got = ::pread(fd, buf, n, from);
  ::close(fd);
  static const char* hex = "0123456789abcdef";
  for (ssize_t i = 0; i < got; ++i) {
    out += hex[buf[i] >> 4];
    out += hex[buf[i] & 15];
  }
  out += ':';
}

void add_stat(std::string& out, const struct stat& st) {
  add_number(out, static_cast<unsigned long long>(st.st_size));
  add_number(out, static_cast<unsigned long long>(st.st_mtim.tv_sec));
  add_number(out, static_cast<unsigned long long>(st.st_mtim.tv_nsec));
}

} // namespace

expected<std::string> source_fingerprint(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return make_error(errc::invalid_argument,
                      "source: cannot read " + path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode))
    return make_error(errc::invalid_argument, "source: " + path + " is not a file");
  std::string fp = "db:";
  add_number(fp, static_cast<unsigned long long>(st.st_dev));
  add_number(fp, static_cast<unsigned long long>(st.st_ino));
  add_stat(fp, st);
  add_header_bytes(fp, path, 24, 4); // file change counter
  add_header_bytes(fp, path, 40, 4); // schema cookie
  auto wal = path + "-wal";
  struct stat ws {};
  if (::stat(wal.c_str(), &ws) == 0) {
    fp += "wal:";
    add_stat(fp, ws);
    add_header_bytes(fp, wal, 12, 12); // checkpoint sequence, salt-1, salt-2
  }
  return fp;
}

expected<source_snapshot> open_snapshot(const std::string& path) {
  constexpr int attempts = 20;
  for (int i = 0;; ++i) {
    auto before = source_fingerprint(path);
    if (!before)
      return before.error();
    auto db = open_read_only(path);
    if (!db)
      return db.error();
    if (auto ok = execute(db->get(), "BEGIN"); !ok)
      return ok.error();
    // The first read starts the snapshot; the plan is read in it.
    auto plan = read_dump_plan(db->get());
    if (!plan)
      return plan.error();
    auto after = source_fingerprint(path);
    if (!after)
      return after.error();
    if (*before == *after)
      return source_snapshot{std::move(*db), std::move(*plan), std::move(*after)};
    if (i + 1 == attempts)
      return make_error(errc::failed_precondition,
                        "source: " + path + " changed " + std::to_string(attempts) +
                            " times while the export tried to start reading it; try again "
                            "when it is quieter");
  }
}

} // namespace haul::exporter
