#include "runtime/service/api_server.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "runtime/export/export_checkpoint.hpp"
#include "runtime/logging.hpp"
#include "runtime/service/export_status.hpp"
#include "runtime/service/metrics_text.hpp"
#include "runtime/service/object_download.hpp"
#include "runtime/service/web_assets.hpp"
#include "runtime/status_json.hpp"

namespace haul::service {

namespace {

using nlohmann::json;

constexpr std::size_t max_request_body = 64 * 1024;
/// A supervisor whose messages wait longer than this is not keeping up: /health says 503.
constexpr std::int64_t max_loop_lag_ms = 5'000;

int http_status_for(errc code) {
  switch (code) {
  case errc::invalid_argument:
    return 400;
  case errc::not_found:
    return 404;
  case errc::failed_precondition:
    return 409;
  case errc::store_busy:
  case errc::store_incompatible:
  case errc::store_io:
    return 503;
  case errc::internal:
    break;
  }
  return 500;
}

void reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

void reply_error(httplib::Response& res, int status, const std::string& message) {
  reply(res, status, json{{"error", message}});
}

void reply_error(httplib::Response& res, const error& e) {
  reply_error(res, http_status_for(e.code), e.message);
}

/// Compares without an early exit, so the time taken says nothing about the token.
bool same_secret(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

std::int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string content_type_of(const job_params& params) {
  auto it = params.find("compression");
  if (it != params.end() && it->second == "gzip")
    return "application/gzip";
  if (it != params.end() && it->second == "zstd")
    return "application/zstd";
  return "application/sql";
}

/// A file name that is safe inside a quoted header value: a target's name may hold quotes or
/// line breaks (escaped in its URL), which must not reach the response headers.
std::string header_safe_name(const std::string& name) {
  std::string out = name;
  for (char& c : out) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '-' || c == '_';
    if (!plain)
      c = '_';
  }
  return out.empty() ? "export" : out;
}

} // namespace

class api_server::impl {
 public:
  impl(runtime& rt, api_options options)
      : rt_(rt)
      , opt_(std::move(options)) {
    if (!opt_.now_ms)
      opt_.now_ms = system_now_ms;
    routes();
  }

  expected<std::uint16_t> start() {
    if (!opt_.unix_socket.empty()) {
      svr_.set_address_family(AF_UNIX);
      ::unlink(opt_.unix_socket.c_str()); // stale: this process owns the store now
      if (!svr_.bind_to_port(opt_.unix_socket, 80))
        return error{errc::failed_precondition, "cannot listen on the control socket " +
                                                    opt_.unix_socket + ": " + std::strerror(errno)};
      ::chmod(opt_.unix_socket.c_str(), 0600);
      thread_ = std::thread([this] { svr_.listen_after_bind(); });
      return std::uint16_t{0};
    }
    int port = opt_.listen.port;
    if (port == 0) {
      port = svr_.bind_to_any_port(opt_.listen.host);
      if (port < 0)
        return bind_failed();
    } else if (!svr_.bind_to_port(opt_.listen.host, port)) {
      return bind_failed();
    }
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
    return static_cast<std::uint16_t>(port);
  }

  void stop() {
    svr_.stop();
    if (thread_.joinable())
      thread_.join();
    if (!opt_.unix_socket.empty())
      ::unlink(opt_.unix_socket.c_str());
  }

  void adopt(const job_spec& spec, const std::string& id) {
    std::lock_guard lock(submit_mutex_);
    by_name_[spec.name] = {spec, id};
  }

  std::atomic<bool> draining{false};

 private:
  struct submitted {
    job_spec spec; ///< As submitted: its retry policy and limits apply when it runs again.
    std::string id;
  };

  error bind_failed() const {
    int e = errno;
    return error{errc::failed_precondition,
                 "cannot listen on " + opt_.listen.host + ":" + std::to_string(opt_.listen.port) +
                     (e != 0 ? std::string(": ") + std::strerror(e) : std::string())};
  }

  void routes() {
    svr_.set_payload_max_length(max_request_body);
    svr_.set_read_timeout(std::chrono::seconds(30));
    svr_.set_write_timeout(std::chrono::seconds(60));
    svr_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      // The page's files hold no data: the browser gets them without a token, and the page
      // asks for one when the API answers 401.
      if (!same_site(req, res))
        return httplib::Server::HandlerResponse::Handled;
      return is_page_path(req.path) || authorize(req, res)
                 ? httplib::Server::HandlerResponse::Unhandled
                 : httplib::Server::HandlerResponse::Handled;
    });
    svr_.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty())
        return; // an answer of ours, already JSON
      if (res.status == 404)
        reply_error(res, 404, "no endpoint " + req.method + " " + req.path);
      else if (res.status == 413)
        reply_error(res, 413,
                    "request body larger than " + std::to_string(max_request_body) + " bytes");
      else
        reply_error(res, res.status,
                    res.status == 400 ? "malformed HTTP request (a POST without a body still needs "
                                        "\"Content-Length: 0\")"
                                      : "HTTP " + std::to_string(res.status));
    });
    svr_.set_exception_handler(
        [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
          std::string what = "unknown exception";
          try {
            std::rethrow_exception(ep);
          } catch (const std::exception& e) {
            what = e.what();
          } catch (...) {
          }
          reply_error(res, 500, "internal error: " + what);
        });
    svr_.set_logger([](const httplib::Request& req, const httplib::Response& res) {
      log::debug("api request",
                 {log::str("method", req.method), log::str("path", req.path),
                  log::num("status", static_cast<std::uint64_t>(std::max(res.status, 0)))});
    });

    svr_.Get("/",
             [](const httplib::Request&, httplib::Response& res) { page_file("index.html", res); });
    svr_.Get(R"(/ui/([A-Za-z0-9._-]+))", [](const httplib::Request& req, httplib::Response& res) {
      page_file(req.matches[1], res);
    });
    svr_.Get("/health", [this](const httplib::Request&, httplib::Response& res) { health(res); });
    svr_.Post("/exports", [this](const httplib::Request& req, httplib::Response& res) {
      post_export(req, res);
    });
    svr_.Get(R"(/exports/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
      export_status(req.matches[1], res);
    });
    svr_.Get(R"(/exports/([^/]+)/download)",
             [this](const httplib::Request& req, httplib::Response& res) {
               download(req.matches[1], res);
             });
    svr_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.status = 200;
      res.set_content(metrics_text(rt_.jobs(), rt_.recovery(), rt_.loop(), opt_.now_ms()),
                      "text/plain; version=0.0.4");
    });
    svr_.Get("/jobs", [this](const httplib::Request&, httplib::Response& res) {
      res.status = 200;
      res.set_content(status_json({rt_.jobs(), true}), "application/json");
    });
    svr_.Get(R"(/jobs/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
      job(req.matches[1], res);
    });
    svr_.Post(R"(/jobs/([^/]+)/(pause|resume))",
              [this](const httplib::Request& req, httplib::Response& res) {
                pause_or_resume(req.matches[1], req.matches[2] == "pause", res);
              });
    svr_.Post(R"(/jobs/([^/]+)/retry)",
              [this](const httplib::Request& req, httplib::Response& res) {
                retry(req.matches[1], res);
              });
    svr_.Post(R"(/jobs/([^/]+)/cancel)",
              [this](const httplib::Request& req, httplib::Response& res) {
                cancel(req.matches[1], res);
              });
  }

  /// "/" or "/ui/NAME" with a plain file name: the same paths the page routes match, so a
  /// path that routes elsewhere (such as "/ui/../jobs") still needs the token.
  static bool is_page_path(std::string_view path) {
    if (path == "/")
      return true;
    if (!path.starts_with("/ui/"))
      return false;
    auto name = path.substr(4);
    bool plain = !name.empty() && name.find("..") == std::string_view::npos;
    for (char c : name)
      plain = plain && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_');
    return plain;
  }

  static void page_file(const std::string& name, httplib::Response& res) {
    auto file = find_web_asset(name);
    if (!file) {
      reply_error(res, 404, "no file /ui/" + name);
      return;
    }
    // Always revalidated, so a page left open picks up a new haul's files on reload; the
    // policy keeps the page to its own scripts and this server's API.
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Content-Security-Policy",
                   "default-src 'self'; frame-ancestors 'none'; base-uri 'none'");
    res.status = 200;
    res.set_content(file->bytes.data(), file->bytes.size(), std::string(file->content_type));
  }

  /// A browser is the one client that a page of another site can make send requests here:
  /// by DNS rebinding (its own name resolving to 127.0.0.1, sent as Host) or by a cross-site
  /// POST. So a server on loopback answers only loopback Host names, and a request that
  /// changes something is refused when its Origin is another site. Clients that are not
  /// browsers (curl, haul's own commands) send no Origin.
  bool same_site(const httplib::Request& req, httplib::Response& res) const {
    if (!opt_.unix_socket.empty())
      return true;
    auto host = req.get_header_value("Host");
    if (is_loopback(opt_.listen.host) && !host.empty() && !is_loopback(host_name_of(host))) {
      reply_error(res, 403,
                  "Host '" + host +
                      "' is not a loopback name; this server listens on loopback only (use "
                      "127.0.0.1 or localhost)");
      return false;
    }
    auto origin = req.get_header_value("Origin");
    if (req.method != "GET" && req.method != "HEAD" && !origin.empty() &&
        !same_origin(origin, host)) {
      reply_error(res, 403,
                  "a " + req.method + " from the page of " + origin +
                      " is refused: only this server's own page may change jobs");
      return false;
    }
    return true;
  }

  /// The page's own origin names the host it was loaded from, which is the Host header;
  /// over http or, behind a TLS-terminating proxy, https. Host names are case-insensitive.
  static bool same_origin(std::string_view origin, std::string_view host) {
    for (std::string_view scheme : {"http://", "https://"}) {
      if (!origin.starts_with(scheme))
        continue;
      auto rest = origin.substr(scheme.size());
      return rest.size() == host.size() &&
             std::equal(rest.begin(), rest.end(), host.begin(), [](char a, char b) {
               return std::tolower(static_cast<unsigned char>(a)) ==
                      std::tolower(static_cast<unsigned char>(b));
             });
    }
    return false;
  }

  bool authorize(const httplib::Request& req, httplib::Response& res) const {
    if (opt_.token.empty())
      return true;
    auto given = req.get_header_value("Authorization");
    if (same_secret(given, "Bearer " + opt_.token))
      return true;
    res.set_header("WWW-Authenticate", "Bearer");
    reply_error(res, 401,
                given.empty() ? "this server needs an \"Authorization: Bearer TOKEN\" header"
                              : "the bearer token is wrong");
    return false;
  }

  void health(httplib::Response& res) {
    if (draining) {
      reply(res, 503, json{{"status", "stopping"}});
      return;
    }
    const auto& r = rt_.recovery();
    auto loop = rt_.loop();
    auto lag = loop.lag_at(opt_.now_ms());
    // A runtime that quit on a store failure runs nothing: say so rather than "ok", so that
    // a health check restarts the process.
    const char* status = loop.store_failed       ? "store_failed"
                         : loop.stopped          ? "stopped"
                         : lag > max_loop_lag_ms ? "lagging"
                                                 : "ok";
    reply(res, std::string_view(status) == "ok" ? 200 : 503,
          json{{"status", status},
               {"store", rt_.options().store},
               {"loop_lag_ms", lag},
               {"last_turn_ms", loop.last_turn_ms > 0 ? json(loop.last_turn_ms) : json(nullptr)},
               {"recovery",
                {{"generation", r.generation},
                 {"jobs_resumable", r.jobs_resumable},
                 {"tasks_interrupted", r.tasks_interrupted},
                 {"jobs_expired", r.jobs_expired},
                 {"duration_ms", r.duration_ms},
                 {"finished_ms", r.finished_ms}}}});
  }

  void post_export(const httplib::Request& req, httplib::Response& res) {
    auto spec = export_job_from_request(req.body, opt_.exports);
    if (!spec) {
      reply_error(res, spec.error());
      return;
    }
    // One at a time: the check for a job already running and the submit that follows
    // must not interleave with another POST's.
    std::lock_guard lock(submit_mutex_);
    if (auto it = by_name_.find(spec->name); it != by_name_.end()) {
      auto st = rt_.status(it->second.id);
      if (st && !is_finished(st->state)) {
        if (it->second.spec.params == spec->params) {
          accepted(res, it->second.id); // the same export, asked for again
          return;
        }
        reply_error(res, 409,
                    "an export to " + spec->params["target"] + " is running as " + it->second.id +
                        "; cancel it (POST /jobs/" + it->second.id +
                        "/cancel) or wait for it to finish");
        return;
      }
    }
    auto copy = *spec;
    auto id = rt_.submit(std::move(*spec));
    if (!id) {
      reply_error(res, id.error());
      return;
    }
    auto name = copy.name; // not copy.name below: the right side is evaluated first
    by_name_[name] = {std::move(copy), *id};
    log::info("export accepted", {log::str("job", *id)});
    accepted(res, *id);
  }

  static void accepted(httplib::Response& res, const std::string& id) {
    auto url = "/exports/" + id;
    res.set_header("Location", url);
    reply(res, 202, json{{"id", id}, {"status_url", url}});
  }

  /// The export's status, or an error answer (then nullopt).
  std::optional<job_status> export_job(const std::string& id, httplib::Response& res) {
    auto st = rt_.status(id);
    if (!st) {
      reply_error(res, st.error());
      return std::nullopt;
    }
    if (st->kind != "export") {
      reply_error(res, 404, "job " + id + " is of kind '" + st->kind + "', not an export");
      return std::nullopt;
    }
    return std::move(*st);
  }

  void export_status(const std::string& id, httplib::Response& res) {
    auto st = export_job(id, res);
    if (!st)
      return;
    auto text = rt_.task_checkpoint(id, 0);
    auto cp = text ? exporter::decode_checkpoint(*text) : std::nullopt;
    double rate = 0;
    if (!is_finished(st->state))
      rate = rates_.observe(id, cp ? cp->bytes() : 0, opt_.now_ms());
    res.status = 200;
    res.set_content(export_status_json(*st, cp, rate), "application/json");
  }

  void download(const std::string& id, httplib::Response& res) {
    auto st = export_job(id, res);
    if (!st)
      return;
    if (st->state != job_state::succeeded) {
      reply_error(res, 409,
                  "export " + id + " is " + std::string(to_string(st->state)) +
                      ": its output can be downloaded once it has succeeded");
      return;
    }
    auto params = rt_.params(id);
    if (!params) {
      reply_error(res, params.error());
      return;
    }
    auto opened = open_export_output(*params);
    if (!opened) {
      if (opened.error().code == errc::not_found)
        reply_error(res, 404, "the output of export " + id + " is gone: " + opened.error().message);
      else
        reply_error(res, 502,
                    "cannot read the output of export " + id + ": " + opened.error().message);
      return;
    }
    std::shared_ptr<object_download> object = std::move(*opened);
    res.set_header("Content-Disposition",
                   "attachment; filename=\"" + header_safe_name(object->file_name()) + "\"");
    res.set_content_provider(
        object->size(), content_type_of(*params),
        [object, id](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
          auto ok = object->stream(offset, length, [&sink](const char* data, std::size_t n) {
            return sink.write(data, n);
          });
          if (!ok)
            log::warn("export download cut short",
                      {log::str("job", id), log::str("why", ok.error().message)});
          return ok.has_value();
        });
  }

  /// The spec this process submitted the job with (for its retry policy and limits), or
  /// none: the runtime's defaults.
  job_spec settings_of(const std::string& id) {
    std::lock_guard lock(submit_mutex_);
    for (const auto& [name, s] : by_name_)
      if (s.id == id)
        return s.spec;
    return {};
  }

  /// One job as `haul status --json` shows it, with up to 100 tasks of its dead letter.
  void job(const std::string& id, httplib::Response& res) {
    auto st = rt_.status(id);
    if (!st) {
      reply_error(res, st.error());
      return;
    }
    auto out = json::parse(job_json(*st));
    auto failed = json::array();
    if (auto dead = rt_.dead_letter(id, 100))
      for (const auto& d : *dead)
        failed.push_back(
            {{"index", d.index}, {"label", d.label}, {"attempts", d.attempts}, {"error", d.error}});
    out["failed_tasks"] = std::move(failed);
    reply(res, 200, out);
  }

  /// Queues the dead letter again; a finished job runs again at once (it is submitted
  /// anew from the store), an unfinished one picks them up as it goes.
  void retry(const std::string& id, httplib::Response& res) {
    auto before = rt_.status(id);
    auto n = rt_.retry(id);
    if (!n) {
      reply_error(res, n.error());
      return;
    }
    auto st = rt_.status(id);
    if (*n > 0 && before && is_finished(before->state) && opt_.rerun_retried)
      st = rt_.resubmit(id, settings_of(id));
    if (!st) {
      reply_error(res, st.error());
      return;
    }
    log::info("dead letter requeued through the API", {log::str("job", id), log::num("tasks", *n)});
    reply(res, 200,
          json{{"id", id}, {"requeued", *n}, {"state", std::string(to_string(st->state))}});
  }

  void pause_or_resume(const std::string& id, bool pause, httplib::Response& res) {
    auto ok = pause ? rt_.pause(id) : rt_.resume(id);
    auto st = ok ? rt_.status(id) : expected<job_status>(ok.error());
    if (!st) {
      reply_error(res, st.error());
      return;
    }
    log::info(pause ? "job paused through the API" : "job resumed through the API",
              {log::str("job", id)});
    reply(res, 200, json{{"id", id}, {"state", std::string(to_string(st->state))}});
  }

  void cancel(const std::string& id, httplib::Response& res) {
    if (auto ok = rt_.cancel(id); !ok) {
      reply_error(res, ok.error());
      return;
    }
    auto st = rt_.status(id);
    if (!st) {
      reply_error(res, st.error());
      return;
    }
    log::info("job cancelled through the API", {log::str("job", id)});
    reply(res, 200, json{{"id", id}, {"state", std::string(to_string(st->state))}});
  }

  runtime& rt_;
  api_options opt_;
  httplib::Server svr_;
  std::thread thread_;
  std::mutex submit_mutex_;
  std::map<std::string, submitted, std::less<>> by_name_;
  rate_meter rates_;
};

api_server::api_server(runtime& rt, api_options options)
    : impl_(std::make_unique<impl>(rt, std::move(options))) {}

api_server::~api_server() {
  stop();
}

expected<std::uint16_t> api_server::start() {
  return impl_->start();
}

void api_server::draining() {
  impl_->draining = true;
}

void api_server::stop() {
  impl_->stop();
}

void api_server::adopt(const job_spec& spec, const std::string& id) {
  impl_->adopt(spec, id);
}

} // namespace haul::service
