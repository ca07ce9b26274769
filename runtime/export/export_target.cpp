#include "runtime/export/export_target.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <future>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/logging.hpp"
#include "runtime/upload/http_outcome.hpp"
#include "runtime/upload/s3_requests.hpp"
#include "runtime/upload/transfer_engine.hpp"

namespace haul::exporter {

namespace {

std::string errno_text(int e) {
  return std::strerror(e);
}

/// Disk errors that may pass (full, I/O) are retried; the rest (permissions, a missing
/// directory) need a person.
outcome disk_failure(const std::string& what, int e) {
  auto why = what + ": " + errno_text(e);
  if (e == ENOSPC || e == EIO || e == EINTR || e == EDQUOT)
    return outcome::retry(why);
  return outcome::fail(why);
}

std::string directory_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

class file_target final : public export_target {
 public:
  explicit file_target(const export_config& c)
      : final_(c.file_path)
      , partial_(partial_path(c)) {}
  ~file_target() override {
    if (fd_ >= 0)
      ::close(fd_);
  }

  std::optional<outcome> open(export_checkpoint& cp) override {
    auto expect = cp.bytes();
    fd_ = ::open(partial_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0)
      return disk_failure("cannot open " + partial_, errno);
    struct stat st {};
    if (::fstat(fd_, &st) != 0)
      return disk_failure("cannot stat " + partial_, errno);
    if (static_cast<std::uint64_t>(st.st_size) < expect) {
      // Parts the checkpoint records are missing (the machine lost unsynced data, or someone
      // cut the file): the output cannot be continued, only started again, at once.
      log::warn("export restarts from the beginning",
                {log::str("why", partial_ + " is shorter than the " + std::to_string(expect) +
                                     " bytes already exported")});
      cp.restart();
      expect = 0;
    }
    if (::ftruncate(fd_, static_cast<off_t>(expect)) != 0)
      return disk_failure("cannot truncate " + partial_, errno);
    offset_ = expect;
    return std::nullopt;
  }

  std::optional<outcome> append(std::string_view bytes) override {
    const char* p = bytes.data();
    auto left = bytes.size();
    while (left > 0) {
      auto n = ::pwrite(fd_, p, left, static_cast<off_t>(offset_));
      if (n < 0) {
        if (errno == EINTR)
          continue;
        return disk_failure("cannot write " + partial_, errno);
      }
      p += n;
      left -= static_cast<std::size_t>(n);
      offset_ += static_cast<std::uint64_t>(n);
    }
    part_bytes_ += bytes.size();
    return std::nullopt;
  }

  std::uint64_t part_bytes() const override { return part_bytes_; }

  std::function<part_receipt()> seal_part(std::uint32_t) override {
    part_bytes_ = 0;
    // The sync covers the sealed part (and whatever of the next is written by then).
    return [fd = fd_, path = partial_]() -> part_receipt {
      if (::fdatasync(fd) != 0)
        return {disk_failure("cannot sync " + path, errno), {}};
      return {};
    };
  }

  std::optional<outcome> finish(export_checkpoint& cp) override {
    struct stat st {};
    if (::stat(partial_.c_str(), &st) != 0) {
      // Renamed already by a run that was killed before it could record the end.
      struct stat done {};
      if (errno == ENOENT && ::stat(final_.c_str(), &done) == 0 &&
          static_cast<std::uint64_t>(done.st_size) == cp.bytes())
        return std::nullopt;
      return outcome::retry("cannot find " + partial_ + ": " + errno_text(errno));
    }
    if (static_cast<std::uint64_t>(st.st_size) < cp.bytes()) {
      // Every part was written and synced, and the file lost some since (as open() finds
      // for an unfinished export): never rename a dump with a hole into place.
      auto why = partial_ + " is shorter than the " + std::to_string(cp.bytes()) +
                 " bytes exported; starting the export again";
      cp.restart();
      return outcome::retry(why);
    }
    if (fd_ >= 0 && ::fsync(fd_) != 0)
      return disk_failure("cannot sync " + partial_, errno);
    if (::rename(partial_.c_str(), final_.c_str()) != 0)
      return disk_failure("cannot rename " + partial_ + " to " + final_, errno);
    auto dir = directory_of(final_);
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd); // the rename survives a crash only once its directory is synced
      ::close(dfd);
    }
    return std::nullopt;
  }

  std::string discard(const export_checkpoint&) override {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
    if (::unlink(partial_.c_str()) != 0 && errno != ENOENT)
      return "cannot remove " + partial_ + ": " + errno_text(errno);
    return {};
  }

 private:
  std::string final_;
  std::string partial_;
  int fd_ = -1;
  std::uint64_t offset_ = 0;
  std::uint64_t part_bytes_ = 0;
};

/// Two unnamed temporary files (in TMPDIR) holding the part being built and the part being
/// sent, so that an S3 part costs page cache, not process memory, whatever the part size.
/// Unnamed: nothing is left behind by a kill. The request reads a part through
/// /proc/self/fd, as it reads an upload's file.
class part_spool {
 public:
  part_spool() = default;
  part_spool(const part_spool&) = delete;
  part_spool& operator=(const part_spool&) = delete;
  ~part_spool() {
    for (int fd : fds_)
      if (fd >= 0)
        ::close(fd);
  }

  std::optional<outcome> open() {
    auto dir = std::filesystem::temp_directory_path().string();
    for (int& fd : fds_) {
      if (fd >= 0)
        continue;
      fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
      if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR)) {
        // A file system without O_TMPFILE: a named file, unlinked at once.
        auto name = dir + "/haul-part-XXXXXX";
        fd = ::mkostemp(name.data(), O_CLOEXEC);
        if (fd >= 0)
          ::unlink(name.c_str());
      }
      if (fd < 0)
        return disk_failure("cannot create a spool file for S3 parts in " + dir, errno);
    }
    return std::nullopt;
  }

  std::optional<outcome> append(std::string_view bytes) {
    while (!bytes.empty()) {
      auto n = ::pwrite(fds_[current_], bytes.data(), bytes.size(),
                        static_cast<off_t>(sizes_[current_]));
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return disk_failure("spool file for S3 parts", errno);
      sizes_[current_] += static_cast<std::uint64_t>(n);
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return std::nullopt;
  }

  std::uint64_t size() const { return sizes_[current_]; }

  /// The part built so far, for a request body; the next part is built in the other file
  /// (which the caller has finished sending: one part is in flight at a time).
  upload::file_range seal() {
    upload::file_range part{"/proc/self/fd/" + std::to_string(fds_[current_]), 0, sizes_[current_]};
    current_ ^= 1;
    sizes_[current_] = 0;
    return part;
  }

 private:
  int fds_[2] = {-1, -1};
  std::uint64_t sizes_[2] = {0, 0};
  int current_ = 0;
};

class s3_target final : public export_target {
 public:
  s3_target(const export_config& c, upload::sigv4_credentials creds, target_services services)
      : config_(c)
      , requests_(config_.upload, std::move(creds))
      , services_(std::move(services)) {}

  std::optional<outcome> open(export_checkpoint& cp) override {
    if (auto failed = spool_.open())
      return failed;
    upload_id_ = cp.upload_id;
    if (!upload_id_.empty())
      return std::nullopt;
    auto result = perform(requests_.create_multipart(config_.s3_key, content_type(), now()));
    if (auto failed = judge(result, "CreateMultipartUpload " + url()))
      return failed;
    auto id = upload::xml_element(result.body, "UploadId");
    if (!id || id->empty())
      return outcome::retry("CreateMultipartUpload " + url() + ": no UploadId in the answer");
    cp.upload_id = upload_id_ = *id;
    return std::nullopt;
  }

  std::optional<outcome> append(std::string_view bytes) override { return spool_.append(bytes); }

  std::uint64_t part_bytes() const override { return spool_.size(); }

  std::function<part_receipt()> seal_part(std::uint32_t number) override {
    return [this, number, body = spool_.seal()] { return send_part(number, body); };
  }

  part_receipt send_part(std::uint32_t number, const upload::file_range& body) {
    // Sent up to part_attempts times within this run, read from the spool each time.
    outcome last;
    for (std::uint32_t attempt = 1; attempt <= config_.part_attempts; ++attempt) {
      auto request = requests_.upload_part(config_.s3_key, upload_id_, number, body, now());
      auto result = perform(std::move(request));
      auto what = "UploadPart " + std::to_string(number) + " of " + url();
      auto failed = judge(result, what);
      if (!failed) {
        if (!result.etag)
          return {outcome::retry(what + ": no ETag in the answer"), {}};
        return {std::nullopt, *result.etag};
      }
      last = *failed;
      if (last.kind != outcome_kind::retryable || attempt == config_.part_attempts)
        break;
      auto wait = last.retry_after.value_or(std::chrono::milliseconds(250 << (attempt - 1)));
      for (auto until = std::chrono::steady_clock::now() + wait;
           std::chrono::steady_clock::now() < until;) {
        if (services_.cancelled && services_.cancelled())
          return {outcome::cancelled(), {}};
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    return {last, {}};
  }

  std::optional<outcome> finish(export_checkpoint& cp) override {
    std::vector<std::string> etags;
    for (const auto& p : cp.parts)
      etags.push_back(p.etag);
    auto result = perform(requests_.complete_multipart(config_.s3_key, cp.upload_id, etags, now()));
    auto what = "CompleteMultipartUpload " + url();
    if (result.status == 404 || (result.status >= 200 && result.status < 300 &&
                                 result.body.find("<Error>") != std::string::npos)) {
      // The upload is gone: completed by an earlier run whose answer was lost, or aborted.
      // The object tells which.
      auto head = perform(requests_.head_object(config_.s3_key, now()));
      if (head.status == 200 && head.content_length == cp.bytes())
        return std::nullopt;
      auto code = upload::xml_element(result.body, "Code").value_or("an error");
      return outcome::fail(what + ": " + code + ", and the object is not the exported size");
    }
    return judge(result, what);
  }

  std::string discard(const export_checkpoint& cp) override {
    if (cp.upload_id.empty())
      return {};
    // Not cancellable: a cancelled export discards its output because it was stopped.
    auto result = perform(requests_.abort_multipart(config_.s3_key, cp.upload_id, now()), false);
    if (result.status == 204 || result.status == 200 || result.status == 404)
      return {};
    if (result.status == 405 || result.status == 501)
      return "the server does not support aborting multipart uploads (HTTP " +
             std::to_string(result.status) + "); upload " + cp.upload_id +
             " stays until its lifecycle rule removes it";
    return "AbortMultipartUpload " + url() + ": HTTP " + std::to_string(result.status) + " " +
           result.curl_error;
  }

 private:
  std::string_view content_type() const {
    switch (config_.codec) {
    case compression::gzip:
      return "application/gzip";
    case compression::zstd:
      return "application/zstd";
    default:
      return "application/sql";
    }
  }
  std::string url() const { return requests_.object_url(config_.s3_key); }
  std::chrono::system_clock::time_point now() const { return services_.now(); }

  upload::transfer_result perform(upload::transfer_request r, bool cancellable = true) {
    std::promise<upload::transfer_result> done;
    auto future = done.get_future();
    if (cancellable)
      r.cancelled = services_.cancelled;
    r.on_done = [&done](upload::transfer_result result) { done.set_value(std::move(result)); };
    services_.engine->submit(std::move(r));
    return future.get();
  }

  std::optional<outcome> judge(const upload::transfer_result& r, const std::string& what) {
    upload::http_response_facts f;
    f.curl_code = r.curl_code;
    f.curl_error = r.curl_error;
    f.status = r.status;
    f.retry_after = r.retry_after;
    f.body_excerpt = r.body.substr(0, 512);
    auto o = upload::classify(f, now(), what);
    if (o.kind == outcome_kind::ok)
      return std::nullopt;
    return o;
  }

  const export_config& config_;
  upload::s3_requests requests_;
  target_services services_;
  std::string upload_id_;
  part_spool spool_;
};

} // namespace

expected<std::unique_ptr<export_target>> make_export_target(const export_config& config,
                                                            target_services services) {
  if (config.target == export_config::target_type::file)
    return std::unique_ptr<export_target>(std::make_unique<file_target>(config));
  auto creds = upload::s3_requests::credentials_from_env(config.upload.s3);
  if (!creds)
    return creds.error();
  return std::unique_ptr<export_target>(
      std::make_unique<s3_target>(config, std::move(*creds), std::move(services)));
}

} // namespace haul::exporter
