#include "bench/raw_multi_put.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace haul::bench {

namespace {

/// One in-flight PUT. The easy handle stays configured between files; only what differs per
/// file (URL, size, descriptor) is set again, so a new transfer costs no option parsing.
struct slot {
  CURL* easy = nullptr;
  int fd = -1;
  curl_off_t size = 0;
  curl_off_t pos = 0;
  bool read_failed = false;
  std::string path;
  std::string url;
};

std::size_t on_read(char* buf, std::size_t size, std::size_t n, void* p) {
  auto* s = static_cast<slot*>(p);
  auto want = std::min<curl_off_t>(static_cast<curl_off_t>(size * n), s->size - s->pos);
  if (want <= 0)
    return 0;
  auto got = ::pread(s->fd, buf, static_cast<std::size_t>(want), s->pos);
  if (got <= 0) {
    s->read_failed = true;
    return CURL_READFUNC_ABORT;
  }
  s->pos += got;
  return static_cast<std::size_t>(got);
}

std::size_t discard(char*, std::size_t size, std::size_t n, void*) {
  return size * n;
}

} // namespace

raw_put_result
raw_multi_put(std::uint64_t count, unsigned parallel,
              const std::function<void(std::uint64_t, std::string&, std::string&)>& item) {
  raw_put_result out;
  auto fail = [&out](std::string why) {
    ++out.failed;
    if (out.first_error.empty())
      out.first_error = std::move(why);
  };
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURLM* multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(parallel) * 2);
  // 100-continue would cost a round trip per request; curl --parallel is run without it too.
  curl_slist* headers = curl_slist_append(nullptr, "Expect:");

  std::vector<slot> slots(std::max(1u, parallel));
  std::vector<slot*> idle;
  for (auto& s : slots) {
    s.easy = curl_easy_init();
    curl_easy_setopt(s.easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(s.easy, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(s.easy, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(s.easy, CURLOPT_READDATA, &s);
    curl_easy_setopt(s.easy, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(s.easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(s.easy, CURLOPT_PRIVATE, &s);
    idle.push_back(&s);
  }

  std::uint64_t next = 0;
  auto start_one = [&](slot& s) {
    while (next < count) {
      item(next++, s.path, s.url);
      s.fd = ::open(s.path.c_str(), O_RDONLY | O_CLOEXEC);
      struct stat st {};
      if (s.fd < 0 || ::fstat(s.fd, &st) != 0) {
        fail(s.path + ": " + std::strerror(errno));
        if (s.fd >= 0)
          ::close(s.fd);
        s.fd = -1;
        continue;
      }
      s.size = st.st_size;
      s.pos = 0;
      s.read_failed = false;
      curl_easy_setopt(s.easy, CURLOPT_URL, s.url.c_str());
      curl_easy_setopt(s.easy, CURLOPT_INFILESIZE_LARGE, s.size);
      curl_multi_add_handle(multi, s.easy);
      return true;
    }
    return false;
  };

  int running = 0;
  for (;;) {
    while (!idle.empty() && start_one(*idle.back()))
      idle.pop_back();
    curl_multi_perform(multi, &running);
    int left = 0;
    bool finished_any = false;
    while (CURLMsg* m = curl_multi_info_read(multi, &left)) {
      if (m->msg != CURLMSG_DONE)
        continue;
      slot* s = nullptr;
      curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &s);
      long status = 0;
      curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
      auto code = m->data.result;
      curl_multi_remove_handle(multi, m->easy_handle);
      ::close(s->fd);
      s->fd = -1;
      if (code == CURLE_OK && status == 201 && !s->read_failed)
        ++out.created;
      else
        fail("PUT " + s->url + ": " + curl_easy_strerror(code) + ", HTTP " +
             std::to_string(status));
      idle.push_back(s);
      finished_any = true;
    }
    if (finished_any)
      continue; // refill before waiting: a free slot must not sit out a poll
    if (running == 0 && next >= count)
      break;
    curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
  }

  for (auto& s : slots)
    curl_easy_cleanup(s.easy);
  curl_slist_free_all(headers);
  curl_multi_cleanup(multi);
  return out;
}

} // namespace haul::bench
