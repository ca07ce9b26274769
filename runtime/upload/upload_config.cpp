#include "runtime/upload/upload_config.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <set>

#include "runtime/param_values.hpp"

namespace haul::upload {

namespace {

constexpr std::uint64_t min_part_size = 5ull << 20; // S3: every part but the last
constexpr std::uint64_t max_parts = 10'000;

const std::set<std::string, std::less<>> plain_keys = {
    "source",          "manifest",         "target",        "multipart_threshold",
    "part_size",       "part_concurrency", "part_attempts", "connect_timeout",
    "stall_timeout",   "transfer_timeout", "content_type",  "skip_existing",
    "bearer_token_env"};
const std::set<std::string, std::less<>> s3_keys = {
    "s3.endpoint",          "s3.region",     "s3.access_key_env", "s3.secret_key_env",
    "s3.session_token_env", "s3.path_style", "s3.sign_payload"};

expected<void> bad(const std::string& key, const std::string& what) {
  return make_error(errc::invalid_argument, key + ": " + what);
}

/// HTTP header names are case-insensitive.
bool same_header(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

/// Headers whose value is a credential: they may only come from the environment.
bool carries_credentials(std::string_view name) {
  for (std::string_view secret : {"authorization", "proxy-authorization", "cookie", "x-api-key"})
    if (same_header(name, secret))
      return true;
  return false;
}

bool valid_header_name(std::string_view n) {
  if (n.empty())
    return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

expected<void> parse_target(const job_params& p, upload_config& c) {
  auto it = p.find("target");
  if (it == p.end())
    return bad("target", "missing: an http://, https:// or s3:// URL to upload to");
  const auto& t = it->second;
  std::string scheme, host, rest;
  if (!split_url(t, scheme, host, rest))
    return bad("target", "expected an http://, https:// or s3:// URL, found " + shown_value(t));
  if (scheme == "http" || scheme == "https") {
    c.target = upload_config::target_type::http;
    c.http_base = t;
    if (c.http_base.back() != '/')
      c.http_base.push_back('/');
    for (const auto& [k, v] : p)
      if (k.starts_with("s3."))
        return bad(k, "S3 settings need an s3:// target, not " + scheme + "://");
    return {};
  }
  if (scheme != "s3")
    return bad("target", "expected an http://, https:// or s3:// URL, found " + shown_value(t));
  c.target = upload_config::target_type::s3;
  c.s3.bucket = host;
  c.s3.prefix = rest;
  if (!c.s3.prefix.empty() && c.s3.prefix.back() != '/')
    c.s3.prefix.push_back('/');
  return parse_s3_settings(p, c.s3);
}

} // namespace

bool is_s3_key(std::string_view key) {
  return s3_keys.count(key) != 0;
}

std::vector<std::string_view> known_s3_keys() {
  return {s3_keys.begin(), s3_keys.end()};
}

expected<void> parse_s3_settings(const job_params& p, s3_settings& s3) {
  problem_list problems;
  if (auto e = p.find("s3.endpoint"); e != p.end()) {
    std::string path;
    if (!split_url(e->second, s3.scheme, s3.host, path) ||
        (s3.scheme != "http" && s3.scheme != "https") || !path.empty()) {
      problems.add("s3.endpoint: expected http(s)://HOST[:PORT] with no path, found " +
                   shown_value(e->second));
      s3.scheme = "https";
      s3.host.clear();
    }
  }
  if (auto r = p.find("s3.region"); r != p.end()) {
    if (r->second.empty() || r->second.find_first_of(" /") != std::string::npos)
      problems.add("s3.region: expected a region such as \"us-east-1\" or \"auto\", found " +
                   shown_value(r->second));
    else
      s3.region = r->second;
  }
  if (s3.host.empty())
    s3.host = "s3." + s3.region + ".amazonaws.com";
  auto access = param_secret_env(p, "s3.access_key_env", s3.access_key_env);
  auto secret = param_secret_env(p, "s3.secret_key_env", s3.secret_key_env);
  auto session = param_secret_env(p, "s3.session_token_env", s3.session_token_env);
  if (problems.ok(access))
    s3.access_key_env = *access;
  if (problems.ok(secret))
    s3.secret_key_env = *secret;
  if (problems.ok(session))
    s3.session_token_env = *session;
  auto path_style = param_flag(p, "s3.path_style", false);
  if (problems.ok(path_style))
    s3.path_style = *path_style;
  auto sign = param_flag(p, "s3.sign_payload", false);
  if (problems.ok(sign))
    s3.sign_payload = *sign;
  if (path_style && !s3.path_style && s3.bucket.find('.') != std::string::npos &&
      s3.scheme == "https")
    problems.add("target: bucket '" + s3.bucket +
                 "' has dots, which break TLS for virtual-hosted addressing: set "
                 "s3.path_style = true");
  if (!problems.empty())
    return problems.to_error();
  return {};
}

expected<upload_config> parse_upload_config(const job_params& p) {
  upload_config c;
  problem_list problems;
  std::vector<std::string> header_keys; ///< The param each of c.headers came from.
  for (const auto& [k, v] : p) {
    auto add_header = [&, &k = k](std::string name, std::string value) {
      c.headers.emplace_back(std::move(name), std::move(value));
      header_keys.push_back(k);
    };
    if (plain_keys.count(k) != 0 || s3_keys.count(k) != 0)
      continue;
    if (k.starts_with("headers.")) {
      auto name = k.substr(8);
      if (!valid_header_name(name))
        problems.add(k + ": expected a header name of letters, digits, '-' and '_', found \"" +
                     name + "\"");
      else if (carries_credentials(name))
        problems.add(k + ": a credential header never takes its value from the job file: name "
                         "the environment variable that holds it in [job.headers_env]");
      else if (v.find_first_of("\r\n") != std::string::npos)
        problems.add(k + ": expected a value of one line, found a line break");
      else
        add_header(name, v);
      continue;
    }
    if (k.starts_with("headers_env.")) {
      // The value is read from the environment when the job is checked and started; the
      // store and `haul inspect` only ever see the variable's name.
      auto name = k.substr(12);
      if (!valid_header_name(name)) {
        problems.add(k + ": expected a header name of letters, digits, '-' and '_', found \"" +
                     name + "\"");
      } else if (auto var = param_secret_env(p, k, ""); problems.ok(var)) {
        std::string value = std::getenv(var->c_str());
        if (value.find_first_of("\r\n") != std::string::npos)
          problems.add(k + ": expected environment variable " + *var +
                       " to hold a value of one line, found a line break");
        else
          add_header(name, std::move(value));
      }
      continue;
    }
    std::vector<std::string_view> known(plain_keys.begin(), plain_keys.end());
    known.insert(known.end(), s3_keys.begin(), s3_keys.end());
    known.insert(known.end(), common_job_keys().begin(), common_job_keys().end());
    problems.add("unknown key '" + k + "'" + did_you_mean(k, known) +
                 " for kind upload (expected source or manifest, target, "
                 "multipart_threshold, part_size, part_concurrency, part_attempts, "
                 "connect_timeout, stall_timeout, transfer_timeout, content_type, "
                 "skip_existing, bearer_token_env, [job.s3], [job.headers] and "
                 "[job.headers_env] keys)");
  }
  auto src = p.find("source");
  auto man = p.find("manifest");
  if ((src == p.end()) == (man == p.end())) {
    problems.add(std::string("source, manifest: set exactly one (a directory, or a JSONL "
                             "manifest), found ") +
                 (src == p.end() ? "neither" : "both"));
  } else {
    c.source = src != p.end() ? upload_config::source_type::directory
                              : upload_config::source_type::manifest;
    c.source_path = src != p.end() ? src->second : man->second;
    if (c.source_path.empty())
      problems.add(src != p.end() ? "source: expected a directory, found an empty string"
                                  : "manifest: expected a JSONL file, found an empty string");
  }
  problems.ok(parse_target(p, c));
  auto threshold = param_size(p, "multipart_threshold", c.multipart_threshold);
  auto part = param_size(p, "part_size", c.part_size);
  auto parts = param_count(p, "part_concurrency", c.part_concurrency, 1, 64);
  auto attempts = param_count(p, "part_attempts", c.part_attempts, 1, 100);
  auto connect = param_duration(p, "connect_timeout", c.timeouts.connect);
  auto stall = param_duration(p, "stall_timeout", c.timeouts.stall);
  auto total = param_duration(p, "transfer_timeout", c.timeouts.total);
  auto skip = param_flag(p, "skip_existing", false);
  if (problems.ok(threshold)) {
    c.multipart_threshold = *threshold;
    if (c.multipart_threshold < min_part_size)
      problems.add("multipart_threshold: expected at least 5MiB (S3's smallest part), found " +
                   shown_value(p.at("multipart_threshold")));
  }
  if (problems.ok(part)) {
    c.part_size = *part;
    if (c.part_size < min_part_size)
      problems.add("part_size: expected at least 5MiB (S3's smallest part), found " +
                   shown_value(p.at("part_size")));
  }
  if (problems.ok(parts))
    c.part_concurrency = *parts;
  if (problems.ok(attempts))
    c.part_attempts = *attempts;
  bool timeouts = problems.ok(connect);
  timeouts = problems.ok(stall) && timeouts;
  timeouts = problems.ok(total) && timeouts;
  if (timeouts) {
    c.timeouts = {*connect, *total, *stall};
    if (c.timeouts.connect.count() <= 0)
      problems.add("connect_timeout: expected a positive duration, found " +
                   shown_value(p.at("connect_timeout")));
  }
  if (problems.ok(skip))
    c.skip_existing = *skip;
  if (auto ct = p.find("content_type"); ct != p.end()) {
    // A header value: a line break would start another header.
    if (ct->second.find_first_of("\r\n") != std::string::npos)
      problems.add("content_type: expected a value of one line, found a line break");
    c.content_type = ct->second;
  }
  if (auto b = p.find("bearer_token_env"); b != p.end()) {
    if (c.target != upload_config::target_type::http) {
      problems.add("bearer_token_env: only for http(s):// targets (S3 signs its requests), "
                   "found an s3:// target");
    } else if (auto name = param_secret_env(p, "bearer_token_env", ""); problems.ok(name)) {
      c.bearer_token_env = *name;
    }
  }
  // One value a header: a name twice (whatever its case, which HTTP ignores) would send both.
  for (std::size_t i = 0; i < c.headers.size(); ++i) {
    const auto& name = c.headers[i].first;
    auto same = [&name](const auto& h) { return same_header(h.first, name); };
    if (std::any_of(c.headers.begin(), c.headers.begin() + static_cast<std::ptrdiff_t>(i), same))
      problems.add(header_keys[i] + ": header " + name +
                   " is set twice ([job.headers] and [job.headers_env] together take one value "
                   "a name, whatever its case)");
    else if (same_header(name, "authorization") && c.target == upload_config::target_type::s3)
      problems.add(header_keys[i] + ": S3 requests carry their own signed Authorization header");
    else if (same_header(name, "authorization") && !c.bearer_token_env.empty())
      problems.add(header_keys[i] + ": bearer_token_env sets Authorization already");
  }
  if (!problems.empty())
    return problems.to_error();
  return c;
}

std::uint64_t part_size_for(const upload_config& c, std::uint64_t file_size) {
  auto need = (file_size + max_parts - 1) / max_parts;
  auto mib = 1ull << 20;
  return std::max<std::uint64_t>(c.part_size, (need + mib - 1) / mib * mib);
}

} // namespace haul::upload
