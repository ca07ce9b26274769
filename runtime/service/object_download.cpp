#include "runtime/service/object_download.hpp"

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "runtime/export/export_config.hpp"
#include "runtime/upload/s3_requests.hpp"

namespace haul::service {

namespace {

constexpr std::size_t piece = 256 * 1024;

std::string last_segment(std::string_view path) {
  auto slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

class file_download final : public object_download {
 public:
  file_download(int fd, std::uint64_t size, std::string path)
      : fd_(fd)
      , size_(size)
      , path_(std::move(path)) {}
  ~file_download() override { ::close(fd_); }

  std::uint64_t size() const override { return size_; }
  std::string file_name() const override { return last_segment(path_); }

  expected<void> stream(std::uint64_t offset, std::uint64_t length, const sink& out) override {
    std::string buf(piece, '\0');
    auto end = std::min(size_, offset + length);
    while (offset < end) {
      auto n = ::pread(fd_, buf.data(), std::min<std::uint64_t>(piece, end - offset),
                       static_cast<off_t>(offset));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return make_error(errc::failed_precondition,
                          path_ + ": read failed at byte " + std::to_string(offset) +
                              (n < 0 ? ": " + std::string(std::strerror(errno)) : ""));
      if (!out(buf.data(), static_cast<std::size_t>(n)))
        return make_error(errc::failed_precondition, "the client went away");
      offset += static_cast<std::uint64_t>(n);
    }
    return {};
  }

 private:
  int fd_;
  std::uint64_t size_;
  std::string path_;
};

/// One blocking request on its own easy handle; the body goes to `on_body` once the status
/// is known to be 2xx, else (a few KiB of it) into `error_body`. Headers are read as the
/// transfer engine reads them.
struct blocking_request {
  explicit blocking_request(const upload::transfer_request& r,
                            const object_download::sink* body = nullptr)
      : req(r)
      , on_body(body) {}

  const upload::transfer_request& req;
  const object_download::sink* on_body = nullptr;
  bool ranged = false; ///< Only a 206 carries the body asked for (a 200 would be all of it).
  CURL* easy = nullptr;
  long status = 0;
  upload::transfer_result headers;
  std::string error_body;
  bool sink_refused = false;

  bool ok() const { return ranged ? status == 206 : status >= 200 && status < 300; }

  static std::size_t on_write(char* data, std::size_t size, std::size_t n, void* p) {
    auto* self = static_cast<blocking_request*>(p);
    auto bytes = size * n;
    curl_easy_getinfo(self->easy, CURLINFO_RESPONSE_CODE, &self->status); // headers are in
    if (self->ok() && self->on_body) {
      if (!(*self->on_body)(data, bytes)) {
        self->sink_refused = true;
        return 0; // aborts the transfer
      }
    } else if (self->error_body.size() < 4096) {
      self->error_body.append(data, std::min<std::size_t>(bytes, 4096));
    }
    return bytes;
  }

  static std::size_t on_header(char* data, std::size_t size, std::size_t n, void* p) {
    upload::read_response_header(std::string_view(data, size * n),
                                 static_cast<blocking_request*>(p)->headers);
    return size * n;
  }

  expected<void> perform() {
    upload::init_curl_once();
    easy = curl_easy_init();
    if (!easy)
      return make_error(errc::internal, "curl_easy_init failed");
    std::array<char, CURL_ERROR_SIZE> err{};
    curl_slist* list = nullptr;
    for (const auto& h : req.headers)
      list = curl_slist_append(list, h.c_str());
    curl_easy_setopt(easy, CURLOPT_URL, req.url.c_str());
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, err.data());
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, list);
    upload::apply_timeouts(easy, req.timeouts, false); // a slow client may take its time
    if (req.method == "HEAD")
      curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, this);
    auto code = curl_easy_perform(easy);
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(list);
    curl_easy_cleanup(easy);
    easy = nullptr;
    if (sink_refused)
      return make_error(errc::failed_precondition, "the client went away");
    if (code != CURLE_OK)
      return make_error(errc::failed_precondition,
                        req.method + " " + req.url + ": " +
                            (err[0] ? err.data() : curl_easy_strerror(code)));
    return {};
  }
};

class s3_download final : public object_download {
 public:
  s3_download(exporter::export_config config, upload::sigv4_credentials credentials)
      : config_(std::move(config))
      , requests_(config_.upload, std::move(credentials)) {}

  expected<void> head() {
    auto req = requests_.head_object(config_.s3_key, std::chrono::system_clock::now());
    blocking_request r(req);
    if (auto ok = r.perform(); !ok)
      return ok;
    if (r.status == 404)
      return make_error(errc::not_found,
                        requests_.object_url(config_.s3_key) + ": the object is not there (404)");
    if (r.status < 200 || r.status >= 300 || !r.headers.content_length)
      return make_error(errc::failed_precondition, "HEAD " + requests_.object_url(config_.s3_key) +
                                                       " answered " + std::to_string(r.status));
    size_ = *r.headers.content_length;
    return {};
  }

  std::uint64_t size() const override { return size_; }
  std::string file_name() const override { return last_segment(config_.s3_key); }

  expected<void> stream(std::uint64_t offset, std::uint64_t length, const sink& out) override {
    if (offset >= size_ || length == 0)
      return {};
    length = std::min(length, size_ - offset);
    auto req = requests_.get_object(config_.s3_key, std::chrono::system_clock::now());
    if (offset > 0 || length < size_) // unsigned: SigV4 signs only the headers it lists
      req.headers.push_back("Range: bytes=" + std::to_string(offset) + "-" +
                            std::to_string(offset + length - 1));
    std::uint64_t sent = 0;
    object_download::sink counting = [&](const char* data, std::size_t n) {
      sent += n;
      return out(data, n);
    };
    blocking_request r(req, &counting);
    r.ranged = offset > 0 || length < size_;
    if (auto ok = r.perform(); !ok)
      return ok;
    if (!r.ok())
      return make_error(errc::failed_precondition, "GET " + requests_.object_url(config_.s3_key) +
                                                       " answered " + std::to_string(r.status) +
                                                       ": " + r.error_body);
    if (sent != length)
      return make_error(errc::failed_precondition, "GET " + requests_.object_url(config_.s3_key) +
                                                       " gave " + std::to_string(sent) + " of " +
                                                       std::to_string(length) +
                                                       " bytes: the object changed");
    return {};
  }

 private:
  exporter::export_config config_;
  upload::s3_requests requests_;
  std::uint64_t size_ = 0;
};

} // namespace

expected<std::unique_ptr<object_download>> open_export_output(const job_params& params) {
  auto config = exporter::parse_export_config(params);
  if (!config)
    return config.error();
  if (config->target == exporter::export_config::target_type::file) {
    int fd = ::open(config->file_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return make_error(errno == ENOENT ? errc::not_found : errc::failed_precondition,
                        config->file_path + ": " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      return make_error(errc::failed_precondition, config->file_path + ": not a regular file");
    }
    return std::unique_ptr<object_download>(std::make_unique<file_download>(
        fd, static_cast<std::uint64_t>(st.st_size), config->file_path));
  }
  auto creds = upload::s3_requests::credentials_from_env(config->upload.s3);
  if (!creds)
    return creds.error();
  auto d = std::make_unique<s3_download>(std::move(*config), std::move(*creds));
  if (auto ok = d->head(); !ok)
    return ok.error();
  return std::unique_ptr<object_download>(std::move(d));
}

} // namespace haul::service
