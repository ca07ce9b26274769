#include "runtime/upload/transfer_engine.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <curl/curl.h>
#include <fcntl.h>
#include <unistd.h>

namespace haul::upload {

namespace {

bool iequals_prefix(std::string_view line, std::string_view name) {
  if (line.size() <= name.size() || line[name.size()] != ':')
    return false;
  for (std::size_t i = 0; i < name.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(line[i])) != name[i])
      return false;
  return true;
}

std::string header_value(std::string_view line, std::size_t name_size) {
  auto v = line.substr(name_size + 1);
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t'))
    v.remove_prefix(1);
  while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' '))
    v.remove_suffix(1);
  return std::string(v);
}

/// One transfer while the engine holds it.
struct transfer {
  explicit transfer(transfer_request r)
      : req(std::move(r)) {}
  ~transfer() {
    if (fd >= 0)
      ::close(fd);
    if (headers)
      curl_slist_free_all(headers);
  }
  transfer(const transfer&) = delete;
  transfer& operator=(const transfer&) = delete;

  transfer_request req;
  curl_slist* headers = nullptr;
  int fd = -1;
  std::uint64_t read_pos = 0;
  std::uint64_t reported = 0;
  transfer_result result;
  char error[CURL_ERROR_SIZE] = {};
};

std::size_t on_read(char* buf, std::size_t size, std::size_t n, void* p) {
  auto* t = static_cast<transfer*>(p);
  auto want = std::min<std::uint64_t>(size * n, t->req.body_length - t->read_pos);
  if (want == 0)
    return 0;
  if (t->fd < 0) {
    std::memcpy(buf, t->req.body_data.data() + t->read_pos, want);
    t->read_pos += want;
    return want;
  }
  auto got = ::pread(t->fd, buf, want, static_cast<off_t>(t->req.body_offset + t->read_pos));
  if (got <= 0) {
    // A file that shrank or failed under us: never send a short body as if it were whole.
    t->result.read_failed = true;
    return CURL_READFUNC_ABORT;
  }
  t->read_pos += static_cast<std::uint64_t>(got);
  return static_cast<std::size_t>(got);
}

std::size_t on_write(char* data, std::size_t size, std::size_t n, void* p) {
  auto* t = static_cast<transfer*>(p);
  auto bytes = size * n;
  auto room = transfer_engine::max_response_body -
              std::min(transfer_engine::max_response_body, t->result.body.size());
  t->result.body.append(data, std::min(bytes, room));
  return bytes;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* p) {
  read_response_header(std::string_view(data, size * n), static_cast<transfer*>(p)->result);
  return size * n;
}

int on_progress(void* p, curl_off_t, curl_off_t, curl_off_t, curl_off_t ulnow) {
  auto* t = static_cast<transfer*>(p);
  if (t->req.cancelled && t->req.cancelled())
    return 1;
  auto sent = static_cast<std::uint64_t>(ulnow);
  if (t->req.on_progress && sent != t->reported) {
    t->reported = sent;
    t->req.on_progress(sent);
  }
  return 0;
}

} // namespace

struct transfer_engine::state {
  std::mutex mutex;
  std::vector<transfer_request> incoming;
  bool stopping = false;
  CURLM* multi = nullptr;
  std::thread thread;
  std::vector<std::unique_ptr<transfer>> waiting;
  std::unordered_map<CURL*, std::unique_ptr<transfer>> active;
  std::vector<CURL*> spare;
  std::atomic<std::size_t> count{0};

  void run();
  void start(std::unique_ptr<transfer> t);
  void finish(CURL* easy, CURLcode code);
  void finish_unstarted(std::unique_ptr<transfer> t, CURLcode code, std::string why);
  void deliver(std::unique_ptr<transfer> t);
  void configure(CURL* e, transfer& t);
};

void apply_timeouts(void* easy, const transfer_timeouts& t, bool with_total) {
  auto* e = static_cast<CURL*>(easy);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(t.connect.count()));
  if (with_total)
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(t.total.count()));
  if (t.stall.count() > 0) {
    // libcurl measures the low-speed limit in whole seconds.
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME,
                     std::max(1L, static_cast<long>(t.stall.count() / 1000)));
  }
}

void transfer_engine::state::configure(CURL* e, transfer& t) {
  const auto& r = t.req;
  curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_PRIVATE, &t);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.error);
  apply_timeouts(e, r.timeouts);
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(e, CURLOPT_XFERINFODATA, &t);

  bool has_content_type = false;
  for (const auto& h : r.headers) {
    t.headers = curl_slist_append(t.headers, h.c_str());
    has_content_type = has_content_type || iequals_prefix(h, "content-type");
  }
  if (r.method == "PUT" || r.method == "POST") {
    // No "Expect: 100-continue": it costs a round trip (or a second's wait) per request.
    t.headers = curl_slist_append(t.headers, "Expect:");
    // No content type unless the caller chose one: libcurl's default for POST would be
    // sent unsigned and, on S3, would become the object's content type.
    if (!has_content_type)
      t.headers = curl_slist_append(t.headers, "Content-Type:");
    curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(e, CURLOPT_READDATA, &t);
    if (r.method == "PUT") {
      curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(r.body_length));
    } else {
      curl_easy_setopt(e, CURLOPT_POST, 1L);
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body_length));
    }
  } else if (r.method == "HEAD") {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else if (r.method != "GET") {
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
  }
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, t.headers);
}

void transfer_engine::state::start(std::unique_ptr<transfer> t) {
  if (!t->req.body_path.empty()) {
    t->fd = ::open(t->req.body_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (t->fd < 0) {
      auto why = "cannot open " + t->req.body_path + ": " + std::strerror(errno);
      t->result.read_failed = true;
      return finish_unstarted(std::move(t), CURLE_READ_ERROR, std::move(why));
    }
  } else {
    t->req.body_length = t->req.body_data.size();
  }
  CURL* e = nullptr;
  if (!spare.empty()) {
    e = spare.back();
    spare.pop_back();
  } else {
    e = curl_easy_init();
  }
  if (!e)
    return finish_unstarted(std::move(t), CURLE_OUT_OF_MEMORY, "cannot create a curl handle");
  configure(e, *t);
  if (curl_multi_add_handle(multi, e) != CURLM_OK) {
    curl_easy_reset(e);
    spare.push_back(e);
    return finish_unstarted(std::move(t), CURLE_FAILED_INIT, "cannot add a curl handle");
  }
  active.emplace(e, std::move(t));
}

void transfer_engine::state::finish_unstarted(std::unique_ptr<transfer> t, CURLcode code,
                                              std::string why) {
  t->result.curl_code = code;
  t->result.curl_error = std::move(why);
  deliver(std::move(t));
}

void transfer_engine::state::deliver(std::unique_ptr<transfer> t) {
  // The transfer (its file, its header list) is gone before the callback runs: a callback
  // that submits the next part must not find this one still holding a descriptor.
  auto done = std::move(t->req.on_done);
  auto result = std::move(t->result);
  t.reset();
  --count;
  if (done)
    done(std::move(result));
}

void transfer_engine::state::finish(CURL* easy, CURLcode code) {
  auto it = active.find(easy);
  if (it == active.end())
    return;
  auto t = std::move(it->second);
  active.erase(it);
  curl_multi_remove_handle(multi, easy);
  long status = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  curl_off_t sent = 0;
  curl_easy_getinfo(easy, CURLINFO_SIZE_UPLOAD_T, &sent);
  t->result.status = status;
  t->result.bytes_sent = static_cast<std::uint64_t>(sent);
  t->result.curl_code = code;
  if (t->result.read_failed) {
    t->result.curl_code = CURLE_READ_ERROR;
    t->result.curl_error = "cannot read " + t->req.body_path + " to the end: it shrank or failed";
  } else if (code != CURLE_OK) {
    t->result.curl_error = t->error[0] != '\0' ? t->error : curl_easy_strerror(code);
  }
  curl_easy_reset(easy);
  spare.push_back(easy);
  deliver(std::move(t));
}

void transfer_engine::state::run() {
  using clock = std::chrono::steady_clock;
  for (;;) {
    std::vector<transfer_request> fresh;
    {
      std::lock_guard<std::mutex> guard(mutex);
      if (stopping)
        break;
      fresh.swap(incoming);
    }
    for (auto& r : fresh)
      waiting.push_back(std::make_unique<transfer>(std::move(r)));
    auto now = clock::now();
    auto next_due = clock::time_point::max();
    // Start what is due; a waiting transfer that was cancelled ends without starting.
    std::vector<std::unique_ptr<transfer>> still;
    std::vector<std::unique_ptr<transfer>> due;
    for (auto& t : waiting) {
      if (t->req.cancelled && t->req.cancelled())
        due.push_back(std::move(t)); // finished below as aborted
      else if (t->req.not_before <= now)
        due.push_back(std::move(t));
      else {
        next_due = std::min(next_due, t->req.not_before);
        still.push_back(std::move(t));
      }
    }
    waiting = std::move(still);
    for (auto& t : due) {
      if (t->req.cancelled && t->req.cancelled())
        finish_unstarted(std::move(t), CURLE_ABORTED_BY_CALLBACK, "cancelled before it started");
      else
        start(std::move(t));
    }
    int running = 0;
    curl_multi_perform(multi, &running);
    int left = 0;
    while (CURLMsg* m = curl_multi_info_read(multi, &left))
      if (m->msg == CURLMSG_DONE)
        finish(m->easy_handle, m->data.result);
    // Wake for the next due transfer, or at least every 200 ms: the progress callback
    // notices cancellations only while libcurl calls it.
    auto wait = std::chrono::milliseconds(200);
    if (next_due != clock::time_point::max())
      wait = std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(
                                next_due - clock::now() + std::chrono::milliseconds(1)));
    if (wait.count() > 0) {
      std::lock_guard<std::mutex> guard(mutex);
      if (!incoming.empty() || stopping)
        continue;
    }
    if (wait.count() > 0)
      curl_multi_poll(multi, nullptr, 0, static_cast<int>(wait.count()), nullptr);
  }
  for (auto& [easy, t] : active) {
    curl_multi_remove_handle(multi, easy);
    curl_easy_cleanup(easy);
  }
  active.clear();
  waiting.clear();
  for (auto* e : spare)
    curl_easy_cleanup(e);
  spare.clear();
}

void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

void read_response_header(std::string_view line, transfer_result& r) {
  if (line.starts_with("HTTP/")) {
    // A new response (after a 100 Continue, say): forget the previous one's headers.
    r.retry_after.reset();
    r.etag.reset();
    r.content_length.reset();
  } else if (iequals_prefix(line, "retry-after")) {
    r.retry_after = header_value(line, 11);
  } else if (iequals_prefix(line, "etag")) {
    r.etag = header_value(line, 4);
  } else if (iequals_prefix(line, "content-length")) {
    auto v = header_value(line, 14);
    std::uint64_t len = 0;
    bool ok = !v.empty();
    for (char c : v)
      ok = ok && c >= '0' && c <= '9' && (len = len * 10 + static_cast<unsigned>(c - '0'), true);
    if (ok)
      r.content_length = len;
  }
}

transfer_engine::transfer_engine()
    : state_(std::make_unique<state>()) {
  init_curl_once();
  state_->multi = curl_multi_init();
  curl_multi_setopt(state_->multi, CURLMOPT_MAXCONNECTS, 512L);
  state_->thread = std::thread([s = state_.get()] { s->run(); });
}

transfer_engine::~transfer_engine() {
  stop();
  if (state_->multi)
    curl_multi_cleanup(state_->multi);
}

void transfer_engine::submit(transfer_request request) {
  bool was_empty = false;
  {
    std::lock_guard<std::mutex> guard(state_->mutex);
    if (state_->stopping)
      return;
    was_empty = state_->incoming.empty();
    state_->incoming.push_back(std::move(request));
    ++state_->count;
  }
  // The loop takes the whole queue at once, so only the first request into an empty queue
  // needs to wake it: the rest of a burst rides along.
  if (was_empty)
    curl_multi_wakeup(state_->multi);
}

void transfer_engine::stop() {
  {
    std::lock_guard<std::mutex> guard(state_->mutex);
    if (state_->stopping && !state_->thread.joinable())
      return;
    state_->stopping = true;
  }
  curl_multi_wakeup(state_->multi);
  if (state_->thread.joinable())
    state_->thread.join();
  std::lock_guard<std::mutex> guard(state_->mutex);
  state_->incoming.clear();
}

std::size_t transfer_engine::in_flight() const {
  return state_->count.load();
}

} // namespace haul::upload
