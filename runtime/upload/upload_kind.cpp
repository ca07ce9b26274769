#include "runtime/upload/upload_kind.hpp"

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <random>

#include <sys/stat.h>

#include "runtime/upload/http_outcome.hpp"
#include "runtime/upload/multipart_checkpoint.hpp"
#include "runtime/upload/s3_requests.hpp"
#include "runtime/upload/source_listing.hpp"
#include "runtime/upload/transfer_engine.hpp"
#include "runtime/upload/upload_config.hpp"
#include "runtime/upload/upload_entry.hpp"

namespace haul {

namespace {

using namespace haul::upload;
using clock_fn = std::function<std::chrono::system_clock::time_point()>;

/// What every task of one job shares: its parsed settings and, for S3, its signer.
struct job_setup {
  upload_config config;
  std::optional<s3_requests> s3;
};

bool succeeded(const transfer_result& r) {
  return r.curl_code == 0 && r.status >= 200 && r.status < 300;
}

/// Jitter for part retries. Callbacks run on the engine's one thread, so one generator per
/// thread, seeded once: a std::random_device per task measured 26 µs here (its cpuid traps
/// to the hypervisor), 16% of haul's CPU time in an upload of small files.
std::minstd_rand& jitter_source() {
  thread_local std::minstd_rand rng(std::random_device{}());
  return rng;
}

/// One task: a PUT, or a multipart upload, possibly after a HEAD (skip_existing). All of its
/// callbacks run on the engine thread, one at a time, so its state needs no lock.
class upload_task : public std::enable_shared_from_this<upload_task> {
 public:
  upload_task(std::shared_ptr<task_run> run, std::shared_ptr<const job_setup> setup,
              upload_entry entry, std::uint64_t size, transfer_engine& engine, clock_fn now)
      : run_(std::move(run))
      , setup_(std::move(setup))
      , config_(setup_->config)
      , entry_(std::move(entry))
      , size_(size)
      , engine_(engine)
      , now_(std::move(now)) {}

  void begin() {
    if (config_.skip_existing)
      head();
    else
      send();
  }

 private:
  // --- plumbing ---------------------------------------------------------------------------

  void submit(transfer_request r, std::function<void(transfer_result)> done) {
    auto* run = run_.get();
    r.cancelled = [run] { return run->stop_requested(); };
    r.on_progress = [run](std::uint64_t) { run->heartbeat(); };
    r.on_done = [self = shared_from_this(), done = std::move(done)](transfer_result res) {
      done(std::move(res));
    };
    r.timeouts = config_.timeouts;
    engine_.submit(std::move(r));
  }

  outcome judge(const transfer_result& r, const std::string& what) {
    http_response_facts f;
    f.curl_code = r.curl_code;
    f.curl_error = r.curl_error;
    f.status = r.status;
    f.retry_after = r.retry_after;
    f.body_excerpt = r.body.substr(0, 512);
    return classify(f, now_(), what);
  }

  void finish(outcome o) {
    if (finished_)
      return;
    finished_ = true;
    run_->complete(std::move(o));
  }

  std::string content_type() const {
    if (!entry_.content_type.empty())
      return entry_.content_type;
    if (!config_.content_type.empty())
      return config_.content_type;
    return guess_content_type(entry_.key);
  }

  std::string http_url() const { return config_.http_base + encode_key_for_url(entry_.key); }

  // --- single requests --------------------------------------------------------------------

  void head() {
    transfer_request r;
    if (setup_->s3) {
      r = setup_->s3->head_object(entry_.key, now_());
    } else {
      r.method = "HEAD";
      r.url = http_url();
      add_http_headers(r, false);
    }
    auto what = "HEAD " + r.url;
    submit(std::move(r), [this, what](transfer_result res) {
      if (succeeded(res) && res.content_length == size_)
        return finish(outcome::success(0)); // already there: nothing sent
      if (res.curl_code == 0 && (res.status == 404 || succeeded(res)))
        return send();
      finish(judge(res, what));
    });
  }

  void add_http_headers(transfer_request& r, bool with_body) const {
    if (with_body)
      r.headers.push_back("Content-Type: " + content_type());
    for (const auto& [name, value] : config_.headers)
      r.headers.push_back(name + ": " + value);
    if (!config_.bearer_token_env.empty())
      if (const char* token = std::getenv(config_.bearer_token_env.c_str()))
        r.headers.push_back(std::string("Authorization: Bearer ") + token);
  }

  void send() {
    if (setup_->s3 && size_ >= config_.multipart_threshold)
      return start_multipart();
    transfer_request r;
    file_range body{entry_.path, 0, size_};
    if (setup_->s3) {
      r = setup_->s3->put_object(entry_.key, body, content_type(), now_());
    } else {
      r.method = "PUT";
      r.url = http_url();
      add_http_headers(r, true);
      r.body_path = body.path;
      r.body_length = body.length;
    }
    auto what = "PUT " + r.url;
    submit(std::move(r), [this, what](transfer_result res) {
      if (succeeded(res))
        return finish(outcome::success(size_));
      finish(judge(res, what));
    });
  }

  // --- multipart --------------------------------------------------------------------------

  void start_multipart() {
    auto part_size = part_size_for(config_, size_);
    auto saved = decode_checkpoint(run_->checkpoint());
    if (saved && saved->size == size_ && saved->part_size == part_size &&
        !saved->upload_id.empty()) {
      cp_ = std::move(*saved); // the same multipart upload, at its first missing part
      return pump_parts();
    }
    cp_ = plan_multipart(size_, part_size);
    auto r = setup_->s3->create_multipart(entry_.key, content_type(), now_());
    auto what = "POST " + r.url;
    submit(std::move(r), [this, what](transfer_result res) {
      auto id = succeeded(res) ? xml_element(res.body, "UploadId") : std::nullopt;
      if (!id || id->empty()) {
        if (succeeded(res))
          return finish(outcome::retry(what + ": the response has no UploadId"));
        return finish(judge(res, what));
      }
      cp_.upload_id = *id;
      run_->heartbeat(encode_checkpoint(cp_));
      pump_parts();
    });
  }

  void pump_parts() {
    while (!failure_ && !run_->stop_requested() && in_flight_ < config_.part_concurrency &&
           next_part_ < cp_.parts()) {
      auto part = next_part_++;
      if (!cp_.etags[part].empty())
        continue;
      send_part(part, 0, {});
    }
    if (in_flight_ > 0)
      return;
    if (failure_)
      return finish(std::move(*failure_));
    if (run_->stop_requested())
      return finish(outcome::cancelled());
    if (cp_.parts_done() == cp_.parts())
      complete_multipart();
  }

  void send_part(std::uint32_t part, std::uint32_t tries,
                 std::chrono::steady_clock::time_point not_before) {
    ++in_flight_;
    auto offset = static_cast<std::uint64_t>(part) * cp_.part_size;
    file_range body{entry_.path, offset, std::min(cp_.part_size, size_ - offset)};
    auto r = setup_->s3->upload_part(entry_.key, cp_.upload_id, part + 1, body, now_());
    r.not_before = not_before;
    auto what = "PUT part " + std::to_string(part + 1) + " of " + r.url.substr(0, r.url.find('?'));
    submit(std::move(r), [this, part, tries, what](transfer_result res) {
      --in_flight_;
      on_part_done(part, tries, what, res);
    });
  }

  void on_part_done(std::uint32_t part, std::uint32_t tries, const std::string& what,
                    const transfer_result& res) {
    if (succeeded(res) && res.etag && !res.etag->empty()) {
      cp_.etags[part] = *res.etag;
      run_->heartbeat(encode_checkpoint(cp_));
      return pump_parts();
    }
    auto o =
        succeeded(res) ? outcome::retry(what + ": the response has no ETag") : judge(res, what);
    if (res.status == 404 && res.body.find("NoSuchUpload") != std::string::npos) {
      // The upload is gone (aborted, or expired by a lifecycle rule): start a new one.
      run_->heartbeat(std::string(reset_checkpoint));
      o = outcome::retry(what + ": the multipart upload no longer exists; starting a new one");
    } else if (o.kind == outcome_kind::retryable && tries + 1 < config_.part_attempts &&
               !run_->stop_requested()) {
      auto wait = o.retry_after.value_or(std::chrono::milliseconds(500 << std::min(tries, 6u)));
      auto jitter = std::uniform_real_distribution<double>(0.5, 1.5)(jitter_source());
      auto delay = std::chrono::milliseconds(static_cast<std::int64_t>(wait.count() * jitter));
      send_part(part, tries + 1, std::chrono::steady_clock::now() + delay);
      return;
    }
    if (!failure_)
      failure_ = std::move(o);
    pump_parts();
  }

  void complete_multipart() {
    auto r = setup_->s3->complete_multipart(entry_.key, cp_.upload_id, cp_.etags, now_());
    auto what = "POST " + r.url.substr(0, r.url.find('?')) + " (complete multipart upload)";
    submit(std::move(r), [this, what](transfer_result res) {
      // S3 may answer 200 and still fail: the error is then in the body.
      if (succeeded(res) && res.body.find("<Error>") == std::string::npos)
        return finish(outcome::success(size_));
      if (res.status == 404 && res.body.find("NoSuchUpload") != std::string::npos)
        return verify_completed(what);
      if (succeeded(res))
        return finish(outcome::retry(what + ": " + res.body.substr(0, 300)));
      finish(judge(res, what));
    });
  }

  /// A completion whose answer was lost (a kill, a timeout) leaves no upload to complete
  /// again: if the object is there with the file's size, the task is done.
  void verify_completed(const std::string& what) {
    auto r = setup_->s3->head_object(entry_.key, now_());
    submit(std::move(r), [this, what](transfer_result res) {
      if (succeeded(res) && res.content_length == size_)
        return finish(outcome::success(size_));
      run_->heartbeat(std::string(reset_checkpoint));
      finish(outcome::retry(what + ": the upload no longer exists; starting a new one"));
    });
  }

  std::shared_ptr<task_run> run_;
  std::shared_ptr<const job_setup> setup_;
  const upload_config& config_;
  upload_entry entry_;
  std::uint64_t size_;
  transfer_engine& engine_;
  clock_fn now_;
  bool finished_ = false;
  multipart_checkpoint cp_;
  std::uint32_t next_part_ = 0;
  std::uint32_t in_flight_ = 0;
  std::optional<outcome> failure_;
};

/// The kind's shared state: the event loop (started by the first task) and each job's setup.
class uploader {
 public:
  explicit uploader(clock_fn now)
      : now_(std::move(now)) {}

  void start(const std::shared_ptr<task_run>& run) {
    auto entry = decode_entry(run->input());
    if (!entry)
      return run->complete(outcome::fail("the stored entry of this task is corrupt"));
    auto setup = setup_for(*run);
    if (!setup)
      return run->complete(outcome::fail(setup.error().message));
    struct stat st {};
    if (::stat(entry->path.c_str(), &st) != 0)
      return run->complete(
          outcome::fail(entry->path + ": " + std::strerror(errno) + " (key " + entry->key + ")"));
    if (!S_ISREG(st.st_mode))
      return run->complete(outcome::fail(entry->path + ": not a regular file"));
    auto* engine = engine_or_null();
    if (!engine)
      return run->complete(outcome::cancelled());
    auto size = static_cast<std::uint64_t>(st.st_size);
    std::make_shared<upload_task>(run, std::move(*setup), std::move(*entry), size, *engine, now_)
        ->begin();
  }

  void stop() {
    std::unique_ptr<transfer_engine> engine;
    {
      std::lock_guard<std::mutex> guard(mutex_);
      stopped_ = true;
      engine = std::move(engine_);
      setups_.clear();
    }
    if (engine)
      engine->stop(); // outside the lock: joins the loop thread
  }

 private:
  transfer_engine* engine_or_null() {
    std::lock_guard<std::mutex> guard(mutex_);
    if (stopped_)
      return nullptr;
    if (!engine_)
      engine_ = std::make_unique<transfer_engine>();
    return engine_.get();
  }

  expected<std::shared_ptr<const job_setup>> setup_for(const task_run& run) {
    std::lock_guard<std::mutex> guard(mutex_);
    auto it = setups_.find(run.job_id());
    if (it != setups_.end())
      return it->second;
    auto config = parse_upload_config(run.params());
    if (!config)
      return config.error();
    auto setup = std::make_shared<job_setup>();
    setup->config = std::move(*config);
    if (setup->config.target == upload_config::target_type::s3) {
      auto creds = s3_requests::credentials_from_env(setup->config.s3);
      if (!creds)
        return creds.error();
      setup->s3.emplace(setup->config, std::move(*creds));
    }
    setups_.emplace(std::string(run.job_id()), setup);
    return std::shared_ptr<const job_setup>(setup);
  }

  clock_fn now_;
  std::mutex mutex_;
  std::unique_ptr<transfer_engine> engine_;
  std::map<std::string, std::shared_ptr<const job_setup>, std::less<>> setups_;
  bool stopped_ = false;
};

expected<void> list_upload(const job_params& params, input_sink& out) {
  auto c = parse_upload_config(params);
  if (!c)
    return c.error();
  if (c->source == upload_config::source_type::directory)
    return list_directory(c->source_path, out);
  return list_manifest(c->source_path, out);
}

} // namespace

kind_entry make_upload_kind(upload_kind_options options) {
  auto u = std::make_shared<uploader>(std::move(options.now));
  kind_entry k;
  k.name = "upload";
  k.start = [u](std::shared_ptr<task_run> run) { u->start(run); };
  k.list = list_upload;
  k.validate = [](const job_params& p) {
    auto c = parse_upload_config(p);
    return c ? std::string() : c.error().message;
  };
  k.describe = [](std::string_view input) {
    auto e = decode_entry(input);
    return e ? e->key : std::string("(corrupt entry)");
  };
  k.adaptive_concurrency = true;
  k.stop = [u] { u->stop(); };
  return k;
}

} // namespace haul
