#include "runtime/upload/source_listing.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <system_error>
#include <utility>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "runtime/upload/sigv4.hpp"
#include "runtime/upload/upload_entry.hpp"

namespace haul::upload {

namespace {

std::string errno_text(int code) {
  return std::error_code(code, std::generic_category()).message();
}

error invalid(std::string message) {
  return make_error(errc::invalid_argument, std::move(message));
}

std::int64_t mtime_ns_of(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

/// `dir` + '/' + `name`, without doubling the '/' of a root such as "/".
std::string joined(const std::string& dir, std::string_view name) {
  std::string out;
  out.reserve(dir.size() + 1 + name.size());
  out = dir;
  if (out.empty() || out.back() != '/')
    out += '/';
  out += name;
  return out;
}

std::string absolute_form(const std::filesystem::path& p) {
  std::error_code ec;
  auto abs = std::filesystem::absolute(p, ec);
  if (ec) // only when the current directory is gone: keep what we were given
    return p.generic_string();
  auto s = abs.lexically_normal().generic_string();
  while (s.size() > 1 && s.back() == '/')
    s.pop_back();
  return s;
}

// ---- directory tree ----------------------------------------------------------------------

struct dir_closer {
  void operator()(DIR* d) const { ::closedir(d); }
};
using dir_handle = std::unique_ptr<DIR, dir_closer>;

enum class item_type : std::uint8_t { file, directory };

struct dir_item {
  std::string name;
  item_type type = item_type::file;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
};

/// What `name` in `dir` is, following a symlink to find out. nullopt when it is to be
/// skipped: gone, a dangling or looping symlink, a symlink to a directory, or neither a
/// regular file nor a directory. `d_type` saves a stat for subdirectories.
expected<std::optional<dir_item>> classify_item(int dir, const std::string& dir_path,
                                                const char* name, unsigned char d_type) {
  using result = std::optional<dir_item>;
  dir_item item{name};
  bool is_link = d_type == DT_LNK;
  auto stat_failed = [&](int code) -> expected<result> {
    // Deleted since readdir, or a dangling or looping symlink: nothing to upload.
    if (code == ENOENT || (is_link && code == ELOOP))
      return result();
    return invalid("source " + joined(dir_path, name) + ": cannot read: " + errno_text(code));
  };
  if (d_type == DT_DIR) {
    item.type = item_type::directory;
    return result(std::move(item));
  }
  struct stat st {};
  if (d_type == DT_UNKNOWN) { // some file systems (xfs without ftype, some FUSE) leave it so
    if (::fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
      return stat_failed(errno);
    if (S_ISDIR(st.st_mode)) {
      item.type = item_type::directory;
      return result(std::move(item));
    }
    is_link = S_ISLNK(st.st_mode);
    if (!is_link && !S_ISREG(st.st_mode))
      return result();
  } else if (d_type != DT_REG && d_type != DT_LNK) {
    return result();
  }
  if (::fstatat(dir, name, &st, 0) != 0)
    return stat_failed(errno);
  if (!S_ISREG(st.st_mode)) // a symlink to a directory is not walked: it could loop
    return result();
  item.size = static_cast<std::uint64_t>(st.st_size);
  item.mtime_ns = mtime_ns_of(st);
  return result(std::move(item));
}

/// The directory's entries, sorted by name, each already classified. The directory is
/// closed again before its subdirectories are walked, so a deep tree holds one descriptor.
/// nullopt when the directory vanished since its parent was read.
expected<std::optional<std::vector<dir_item>>> read_directory(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR)
      return std::optional<std::vector<dir_item>>();
    return invalid("source " + path + ": cannot read directory: " + errno_text(errno));
  }
  dir_handle dir(::fdopendir(fd));
  if (!dir) {
    auto code = errno;
    ::close(fd);
    return invalid("source " + path + ": cannot read directory: " + errno_text(code));
  }
  struct named {
    std::string name;
    unsigned char d_type;
  };
  std::vector<named> names;
  for (;;) {
    errno = 0;
    const dirent* e = ::readdir(dir.get());
    if (e == nullptr) {
      if (errno != 0)
        return invalid("source " + path + ": cannot read directory: " + errno_text(errno));
      break;
    }
    std::string_view n = e->d_name;
    if (n == "." || n == "..")
      continue;
    names.push_back({std::string(n), e->d_type});
  }
  // std::string compares as unsigned bytes: the order does not depend on the locale.
  std::sort(names.begin(), names.end(),
            [](const named& a, const named& b) { return a.name < b.name; });
  std::vector<dir_item> items;
  items.reserve(names.size());
  for (auto& n : names) {
    auto item = classify_item(::dirfd(dir.get()), path, n.name.c_str(), n.d_type);
    if (!item)
      return item.error();
    if (*item)
      items.push_back(std::move(**item));
  }
  return std::optional<std::vector<dir_item>>(std::move(items));
}

expected<void> walk(const std::string& path, const std::string& key_prefix,
                    std::vector<dir_item>& items, input_sink& out) {
  for (auto& item : items) {
    auto key = key_prefix + item.name;
    auto item_path = joined(path, item.name);
    if (item.type == item_type::directory) {
      auto sub = read_directory(item_path);
      if (!sub)
        return sub.error();
      if (!*sub) // removed since its parent was read: nothing left to upload
        continue;
      if (auto ok = walk(item_path, key + '/', **sub, out); !ok)
        return ok;
      continue;
    }
    upload_entry e{std::move(key), std::move(item_path), {}, item.size, item.mtime_ns};
    if (auto ok = out.add(encode_entry(e)); !ok)
      return ok;
  }
  return {};
}

// ---- manifest ----------------------------------------------------------------------------

constexpr std::array<std::string_view, 3> field_names = {"key", "path", "content_type"};
enum field : std::uint8_t { key_field, path_field, content_type_field, no_field };

std::string json_quoted(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

/// Builds one manifest line's fields straight from the parser's events, without a DOM:
/// a flat object of known string fields is all a line may be.
class line_parser : public nlohmann::json_sax<nlohmann::json> {
 public:
  std::array<std::string, 3> values;
  std::array<bool, 3> seen{};
  std::string problem;      ///< A well-formed line that is not a manifest entry.
  std::string syntax_error; ///< Set with column when the line is not JSON.
  std::size_t column = 0;

  bool null() override { return not_a_string(); }
  bool boolean(bool) override { return not_a_string(); }
  bool number_integer(number_integer_t) override { return not_a_string(); }
  bool number_unsigned(number_unsigned_t) override { return not_a_string(); }
  bool number_float(number_float_t, const string_t&) override { return not_a_string(); }
  bool binary(binary_t&) override { return not_a_string(); }
  bool start_array(std::size_t) override { return not_a_string(); }
  bool end_array() override { return false; } // never reached: start_array stops the parse

  bool string(string_t& s) override {
    if (!in_object_)
      return not_an_object();
    values[current_] = std::move(s);
    return true;
  }
  bool start_object(std::size_t) override {
    if (in_object_)
      return not_a_string();
    in_object_ = true;
    return true;
  }
  bool end_object() override { return true; }

  bool key(string_t& name) override {
    auto at = std::find(field_names.begin(), field_names.end(), name);
    if (at == field_names.end()) {
      problem = "unknown field " + json_quoted(name) + " (expected key, path, content_type)";
      return false;
    }
    current_ = static_cast<field>(at - field_names.begin());
    if (seen[current_]) {
      problem = "field " + json_quoted(name) + " appears twice";
      return false;
    }
    seen[current_] = true;
    return true;
  }

  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    column = position;
    // nlohmann says "[json.exception.parse_error.101] parse error at line 1, column 5: what";
    // the line and column are ours to state, so keep only the what.
    std::string_view what = ex.what();
    if (auto at = what.find("column "); at != std::string_view::npos)
      if (auto colon = what.find(": ", at); colon != std::string_view::npos)
        what.remove_prefix(colon + 2);
    // Its "last read" quotes the line, which may hold bytes that are not UTF-8; messages
    // end up in JSON, so keep them ASCII.
    syntax_error = "invalid JSON: ";
    for (char c : what) {
      auto b = static_cast<unsigned char>(c);
      syntax_error.push_back(b < 0x20 || b >= 0x7f ? '?' : c);
    }
    return false;
  }

 private:
  bool not_an_object() {
    problem = "expected a JSON object";
    return false;
  }
  bool not_a_string() {
    if (!in_object_)
      return not_an_object();
    problem = "field \"" + std::string(field_names[current_]) + "\" must be a string";
    return false;
  }

  bool in_object_ = false;
  field current_ = no_field;
};

/// Why `key` cannot name an object, or empty. Keys are joined to base URLs and prefixes:
/// empty, "." and ".." segments would be normalized away by servers and proxies (two entries
/// could then land on one object, or outside the prefix).
std::string key_problem(const std::string& key) {
  if (key.empty())
    return "field \"key\" is empty";
  if (key.front() == '/')
    return "key " + json_quoted(key) + " starts with '/'";
  if (key.find('\0') != std::string::npos)
    return "key " + json_quoted(key) + " holds a NUL character";
  std::string_view rest = key;
  for (;;) {
    auto slash = rest.find('/');
    auto segment = rest.substr(0, slash);
    if (segment.empty())
      return "key " + json_quoted(key) + " has an empty segment";
    if (segment == "." || segment == "..")
      return "key " + json_quoted(key) + " has a \"" + std::string(segment) + "\" segment";
    if (slash == std::string_view::npos)
      return {};
    rest.remove_prefix(slash + 1);
  }
}

bool has_control_character(const std::string& s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto b = static_cast<unsigned char>(c);
    return b < 0x20 || b == 0x7f;
  });
}

struct parsed_line {
  std::string key;
  std::string path;
  std::string content_type;
  /// Set when the line is no entry: what is wrong, after "MANIFEST:LINE:" (or after
  /// "MANIFEST:LINE:COLUMN:" when column is not 0: a JSON syntax error).
  std::string problem;
  std::size_t column = 0;
};

/// One non-blank manifest line as an entry, or what is wrong with it.
parsed_line parse_line(std::string_view line) {
  parsed_line out;
  auto wrong = [&](std::string problem) {
    out.problem = std::move(problem);
    return std::move(out);
  };
  line_parser p;
  if (!nlohmann::json::sax_parse(line, &p)) {
    if (!p.problem.empty())
      return wrong(std::move(p.problem));
    out.column = std::max<std::size_t>(p.column, 1);
    return wrong(std::move(p.syntax_error));
  }
  for (auto f : {key_field, path_field})
    if (!p.seen[f])
      return wrong("missing field \"" + std::string(field_names[f]) + '"');
  out.key = std::move(p.values[key_field]);
  out.path = std::move(p.values[path_field]);
  out.content_type = std::move(p.values[content_type_field]);
  if (auto problem = key_problem(out.key); !problem.empty())
    return wrong(std::move(problem));
  if (out.path.empty())
    return wrong("field \"path\" is empty");
  if (out.path.find('\0') != std::string::npos)
    return wrong("path " + json_quoted(out.path) + " holds a NUL character");
  // It becomes a request header: a line break in it would smuggle in headers of its own.
  if (has_control_character(out.content_type))
    return wrong("content_type " + json_quoted(out.content_type) + " holds a control character");
  return out;
}

std::string line_error(const std::string& name, std::uint64_t line, const parsed_line& p) {
  auto where = name + ':' + std::to_string(line) + ':';
  if (p.column != 0)
    where += std::to_string(p.column) + ':';
  return where + ' ' + p.problem;
}

struct file_closer {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

/// Reads a file line by line with the line's number, without the end of line ("\n" or
/// "\r\n"); one line in memory at a time, however long.
class line_reader {
 public:
  explicit line_reader(std::FILE* f)
      : file_(f) {}
  ~line_reader() { std::free(buffer_); }
  line_reader(const line_reader&) = delete;
  line_reader& operator=(const line_reader&) = delete;

  /// False at the end of the file or on a read error (then error() is non-zero).
  bool next(std::string_view& line) {
    errno = 0;
    auto n = ::getline(&buffer_, &capacity_, file_.get());
    if (n < 0) {
      error_ = std::ferror(file_.get()) ? (errno != 0 ? errno : EIO) : 0;
      return false;
    }
    ++number_;
    line = std::string_view(buffer_, static_cast<std::size_t>(n));
    if (!line.empty() && line.back() == '\n')
      line.remove_suffix(1);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    return true;
  }
  std::uint64_t number() const { return number_; }
  int error() const { return error_; }

 private:
  std::unique_ptr<std::FILE, file_closer> file_;
  char* buffer_ = nullptr;
  std::size_t capacity_ = 0;
  std::uint64_t number_ = 0;
  int error_ = 0;
};

bool is_blank(std::string_view line) {
  return line.find_first_not_of(" \t") == std::string_view::npos;
}

expected<std::unique_ptr<line_reader>> open_manifest(const std::string& name) {
  std::FILE* f = std::fopen(name.c_str(), "re");
  if (f == nullptr)
    return invalid("manifest " + name + ": cannot open: " + errno_text(errno));
  return std::make_unique<line_reader>(f);
}

std::uint64_t key_hash(std::string_view key) {
  return std::hash<std::string_view>{}(key);
}

/// Finds the first line (in file order) whose key an earlier line already has. Done after
/// the listing from 64-bit key hashes (16 bytes a line with its number, where a set of the
/// keys themselves would hold the whole manifest's keys); a hash match is confirmed by
/// reading both lines again, so a hash collision never rejects a valid manifest.
expected<void> check_duplicate_keys(const std::string& name,
                                    std::vector<std::pair<std::uint64_t, std::uint64_t>> keys) {
  std::sort(keys.begin(), keys.end());
  std::vector<std::pair<std::uint64_t, std::uint64_t>> repeats; // (line, earlier line)
  for (std::size_t i = 1; i < keys.size(); ++i)
    if (keys[i].first == keys[i - 1].first)
      repeats.emplace_back(keys[i].second, keys[i - 1].second);
  std::sort(repeats.begin(), repeats.end());
  for (auto [line, earlier] : repeats) {
    auto reader = open_manifest(name);
    if (!reader)
      return reader.error();
    std::string earlier_key;
    std::string_view text;
    while ((*reader)->next(text) && (*reader)->number() <= line) {
      auto n = (*reader)->number();
      if (n != earlier && n != line)
        continue;
      auto parsed = parse_line(text);
      if (!parsed.problem.empty())
        return invalid("manifest " + name + ": changed while it was listed");
      if (n == earlier) {
        earlier_key = std::move(parsed.key);
      } else if (parsed.key == earlier_key) {
        return invalid(name + ":" + std::to_string(line) + ": key " + json_quoted(earlier_key) +
                       " is also on line " + std::to_string(earlier));
      }
    }
  }
  return {};
}

} // namespace

expected<void> list_directory(const std::filesystem::path& root, input_sink& out) {
  auto given = root.generic_string();
  auto path = absolute_form(root);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT)
      return invalid("source " + given + ": no such directory");
    return invalid("source " + given + ": cannot read directory: " + errno_text(errno));
  }
  if (!S_ISDIR(st.st_mode))
    return invalid("source " + given + ": not a directory");
  auto items = read_directory(path);
  if (!items)
    return items.error();
  if (!*items) // removed between the stat and the open
    return invalid("source " + given + ": no such directory");
  return walk(path, "", **items, out);
}

expected<void> list_manifest(const std::filesystem::path& manifest, input_sink& out) {
  auto name = manifest.string();
  auto reader = open_manifest(name);
  if (!reader)
    return reader.error();
  auto base = std::filesystem::path(absolute_form(manifest)).parent_path().generic_string();
  std::vector<std::pair<std::uint64_t, std::uint64_t>> key_hashes; // (hash, line)
  std::string_view text;
  while ((*reader)->next(text)) {
    auto line = (*reader)->number();
    if (is_blank(text))
      continue;
    auto parsed = parse_line(text);
    if (!parsed.problem.empty())
      return invalid(line_error(name, line, parsed));
    upload_entry e;
    e.key = std::move(parsed.key);
    e.path = std::move(parsed.path);
    e.content_type = std::move(parsed.content_type);
    if (e.path.front() != '/')
      e.path = joined(base, e.path);
    // A missing file is not the manifest's fault: its task fails when it is sent.
    struct stat st {};
    if (::stat(e.path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      e.size = static_cast<std::uint64_t>(st.st_size);
      e.mtime_ns = mtime_ns_of(st);
    }
    key_hashes.emplace_back(key_hash(e.key), line);
    if (auto ok = out.add(encode_entry(e)); !ok)
      return ok;
  }
  if (auto code = (*reader)->error(); code != 0)
    return invalid("manifest " + name + ": cannot read: " + errno_text(code));
  reader->reset(); // the duplicate check may open the file again
  return check_duplicate_keys(name, std::move(key_hashes));
}

std::string guess_content_type(std::string_view key) {
  static constexpr std::pair<std::string_view, std::string_view> types[] = {
      {"html", "text/html"},       {"htm", "text/html"},       {"css", "text/css"},
      {"js", "text/javascript"},   {"mjs", "text/javascript"}, {"json", "application/json"},
      {"map", "application/json"}, {"txt", "text/plain"},      {"xml", "application/xml"},
      {"svg", "image/svg+xml"},    {"png", "image/png"},       {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},      {"gif", "image/gif"},       {"webp", "image/webp"},
      {"avif", "image/avif"},      {"ico", "image/x-icon"},    {"wasm", "application/wasm"},
      {"pdf", "application/pdf"},  {"woff", "font/woff"},      {"woff2", "font/woff2"},
      {"ttf", "font/ttf"},         {"otf", "font/otf"},        {"mp4", "video/mp4"},
      {"webm", "video/webm"},      {"mp3", "audio/mpeg"},      {"gz", "application/gzip"},
      {"zst", "application/zstd"}, {"zip", "application/zip"}, {"tar", "application/x-tar"},
      {"csv", "text/csv"},         {"md", "text/markdown"},    {"sql", "application/sql"},
  };
  constexpr std::string_view fallback = "application/octet-stream";
  auto name = key.substr(key.rfind('/') + 1); // npos + 1 == 0: the whole key
  auto dot = name.rfind('.');
  // No extension, or a dot file such as ".htaccess", whose name is not an extension.
  if (dot == std::string_view::npos || dot == 0)
    return std::string(fallback);
  std::string ext(name.substr(dot + 1));
  for (auto& c : ext)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  for (const auto& [e, type] : types) {
    if (e != ext)
      continue;
    std::string out(type);
    if (type.starts_with("text/"))
      out += "; charset=utf-8";
    return out;
  }
  return std::string(fallback);
}

std::string encode_key_for_url(std::string_view key) {
  // S3 signs the path exactly as sent, so both targets share SigV4's encoding.
  return uri_encode(key, false);
}

} // namespace haul::upload
