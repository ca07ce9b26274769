#include "runtime/export/export_config.hpp"

#include <set>

#include "runtime/param_values.hpp"

namespace haul::exporter {

namespace {

constexpr std::uint64_t min_part_size = 5ull << 20; // S3: every part but the last
constexpr std::uint64_t max_part_size = 5ull << 30; // S3: the largest part

const std::set<std::string, std::less<>> plain_keys = {
    "source",        "target",          "compression",   "compression_level", "part_size",
    "part_attempts", "connect_timeout", "stall_timeout", "transfer_timeout"};

error bad(const std::string& key, const std::string& what) {
  return error{errc::invalid_argument, key + ": " + what};
}

/// Decodes %XX escapes of a file:// URL's path.
expected<std::string> url_path(std::string_view raw) {
  std::string out;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '%') {
      out += raw[i];
      continue;
    }
    auto hex = [](char c) {
      return c >= '0' && c <= '9'   ? c - '0'
             : c >= 'a' && c <= 'f' ? c - 'a' + 10
             : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                    : -1;
    };
    if (i + 2 >= raw.size() || hex(raw[i + 1]) < 0 || hex(raw[i + 2]) < 0)
      return make_error(errc::invalid_argument,
                        "target: expected %XX escapes of two hex digits, found " +
                            shown_value("file://" + std::string(raw)));
    out += static_cast<char>(hex(raw[i + 1]) * 16 + hex(raw[i + 2]));
    i += 2;
  }
  return out;
}

expected<void> parse_target(const job_params& p, export_config& c) {
  auto it = p.find("target");
  if (it == p.end())
    return bad("target", "missing: an s3://BUCKET/KEY or file:///PATH to export to");
  const auto& t = it->second;
  if (t.starts_with("file://")) {
    auto rest = std::string_view(t).substr(7);
    if (!rest.starts_with("/"))
      return bad("target",
                 "expected file:///ABSOLUTE/PATH (three slashes), found " + shown_value(t));
    auto path = url_path(rest);
    if (!path)
      return path.error();
    if (path->back() == '/')
      return bad("target", "expected the path of a file, found a directory " + shown_value(t));
    c.target = export_config::target_type::file;
    c.file_path = std::move(*path);
    for (const auto& [k, v] : p)
      if (upload::is_s3_key(k))
        return bad(k, "S3 settings need an s3:// target, not file://");
    return {};
  }
  std::string scheme, bucket, key;
  if (!split_url(t, scheme, bucket, key) || scheme != "s3")
    return bad("target", "expected s3://BUCKET/KEY or file:///PATH, found " + shown_value(t));
  if (key.empty() || key.back() == '/')
    return bad("target", "expected an object key after the bucket, found " + shown_value(t));
  c.target = export_config::target_type::s3;
  c.s3_key = key;
  c.upload.target = upload::upload_config::target_type::s3;
  c.upload.s3.bucket = bucket;
  c.upload.s3.prefix.clear();
  return upload::parse_s3_settings(p, c.upload.s3);
}

} // namespace

expected<export_config> parse_export_config(const job_params& p) {
  export_config c;
  problem_list problems;
  std::vector<std::string_view> known(plain_keys.begin(), plain_keys.end());
  for (auto k : upload::known_s3_keys())
    known.push_back(k);
  known.insert(known.end(), common_job_keys().begin(), common_job_keys().end());
  for (const auto& [k, v] : p)
    if (plain_keys.count(k) == 0 && !upload::is_s3_key(k))
      problems.add("unknown key '" + k + "'" + did_you_mean(k, known) +
                   " for kind export (expected source, target, compression, "
                   "compression_level, part_size, part_attempts, "
                   "connect_timeout, stall_timeout, transfer_timeout and [job.s3] keys)");
  auto src = p.find("source");
  if (src == p.end())
    problems.add("source: missing: the SQLite database to export");
  else if (src->second.empty())
    problems.add("source: expected the SQLite database to export, found an empty string");
  else
    c.source = src->second;
  problems.ok(parse_target(p, c));
  auto codec = param_choice(p, "compression", "none", {"none", "gzip", "zstd"});
  auto level = param_count(p, "compression_level", 0, 1, 22);
  if (problems.ok(codec))
    c.codec = *codec == "gzip"   ? compression::gzip
              : *codec == "zstd" ? compression::zstd
                                 : compression::none;
  if (problems.ok(level) && codec) {
    c.level = static_cast<int>(*level);
    if (*level != 0 && c.codec == compression::none)
      problems.add(bad("compression_level", "needs compression = \"gzip\" or \"zstd\", found "
                                            "compression = \"none\""));
    else if (c.codec == compression::gzip && c.level > 9)
      problems.add(bad("compression_level", "expected an integer from 1 to 9 for gzip, found " +
                                                std::to_string(c.level)));
    else if (auto e = make_part_encoder(c.codec, c.level); !e)
      problems.add(e.error()); // a zstd library with fewer levels than 22
  }
  auto part = param_size(p, "part_size", c.part_size);
  if (problems.ok(part)) {
    if (*part < min_part_size || *part > max_part_size)
      problems.add(bad("part_size", "expected 5MiB to 5GiB (S3's part sizes), found " +
                                        shown_value(p.at("part_size"))));
    c.part_size = *part;
  }
  auto attempts = param_count(p, "part_attempts", c.part_attempts, 1, 100);
  if (problems.ok(attempts))
    c.part_attempts = *attempts;
  auto connect = param_duration(p, "connect_timeout", c.upload.timeouts.connect);
  auto stall = param_duration(p, "stall_timeout", c.upload.timeouts.stall);
  auto total = param_duration(p, "transfer_timeout", c.upload.timeouts.total);
  bool timeouts = problems.ok(connect);
  timeouts = problems.ok(stall) && timeouts;
  timeouts = problems.ok(total) && timeouts;
  if (timeouts) {
    c.upload.timeouts = {*connect, *total, *stall};
    if (c.upload.timeouts.connect.count() <= 0)
      problems.add(bad("connect_timeout", "expected a positive duration, found " +
                                              shown_value(p.at("connect_timeout"))));
  }
  if (!problems.empty())
    return problems.to_error();
  return c;
}

std::string partial_path(const export_config& c) {
  return c.file_path + ".haul-partial";
}

} // namespace haul::exporter
