#include "runtime/upload/source_listing.hpp"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include "runtime/upload/upload_entry.hpp"
#include "tests/unit/temp_dir.hpp"
#include "tests/unit/test_util.hpp"

using namespace haul;
using namespace haul::upload;
namespace fs = std::filesystem;

namespace {

/// Decodes every input it is given, in order.
class collecting_sink : public input_sink {
 public:
  std::vector<upload_entry> entries;

  expected<void> add(std::string_view input) override {
    auto e = decode_entry(input);
    if (!e)
      throw std::runtime_error("the listing added an input that is not an upload entry");
    entries.push_back(std::move(*e));
    return {};
  }

  std::vector<std::string> keys() const {
    std::vector<std::string> out;
    for (const auto& e : entries)
      out.push_back(e.key);
    return out;
  }
};

/// Accepts `accepted` inputs, then fails like a store that cannot write.
class failing_sink : public input_sink {
 public:
  explicit failing_sink(int accepted)
      : left_(accepted) {}
  int calls = 0;

  expected<void> add(std::string_view) override {
    ++calls;
    if (left_-- > 0)
      return {};
    return make_error(errc::store_io, "disk full");
  }

 private:
  int left_;
};

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
  if (!out)
    throw std::runtime_error("cannot write " + path);
}

void set_mtime_ns(const std::string& path, std::int64_t ns) {
  timespec times[2] = {{ns / 1'000'000'000, ns % 1'000'000'000},
                       {ns / 1'000'000'000, ns % 1'000'000'000}};
  if (::utimensat(AT_FDCWD, path.c_str(), times, 0) != 0)
    throw std::runtime_error("cannot set the mtime of " + path);
}

const upload_entry* find_key(const collecting_sink& sink, const std::string& key) {
  for (const auto& e : sink.entries)
    if (e.key == key)
      return &e;
  return nullptr;
}

/// A tree with nested directories, names that sort differently by byte and by locale, names
/// that need URL encoding, an empty directory, symlinks to a file, to a directory and to
/// nothing, and a FIFO.
void make_tree(const test::temp_dir& tmp) {
  fs::create_directories(tmp.sub("a"));
  fs::create_directories(tmp.sub("empty"));
  fs::create_directories(tmp.sub("z/y"));
  write_file(tmp.sub("B.md"), "# B\n");
  write_file(tmp.sub("a/2.txt"), "two");
  write_file(tmp.sub("a/10.txt"), "ten");
  write_file(tmp.sub("a b+c.txt"), "space and plus");
  write_file(tmp.sub("a.txt"), "hello");
  write_file(tmp.sub("z/y/deep.txt"), "deep");
  write_file(tmp.sub("\xC3\xA9.txt"), "e acute");
  fs::create_symlink(tmp.sub("a.txt"), tmp.sub("link-file"));
  fs::create_directory_symlink(tmp.sub("a"), tmp.sub("link-dir"));
  fs::create_symlink(tmp.sub("missing"), tmp.sub("dangling"));
  if (::mkfifo(tmp.sub("fifo").c_str(), 0600) != 0)
    throw std::runtime_error("cannot make a FIFO");
}

/// Root reads every directory, whatever its permissions say.
boost::test_tools::assertion_result not_root(boost::unit_test::test_unit_id) {
  return ::geteuid() != 0;
}

std::string read_error(const expected<void>& r) {
  return r.has_value() ? std::string("<no error>") : r.error().message;
}

/// Writes `text` as a manifest and lists it; the error message, or "<no error>".
std::string manifest_error(const test::temp_dir& tmp, const std::string& text) {
  write_file(tmp.sub("m.jsonl"), text);
  collecting_sink sink;
  auto r = list_manifest(tmp.sub("m.jsonl"), sink);
  if (r.has_value())
    return "<no error>";
  BOOST_TEST((r.error().code == errc::invalid_argument));
  return r.error().message;
}

} // namespace

BOOST_AUTO_TEST_SUITE(upload_listing_tests)

// ---- directory ---------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_directory_lists_its_regular_files_depth_first_in_byte_order) {
  test::temp_dir tmp;
  make_tree(tmp);
  collecting_sink sink;
  auto r = list_directory(tmp.path(), sink);
  BOOST_TEST_REQUIRE(r.has_value(), test::why(r));
  // "10" before "2", "B" before "a", ' ' before '.', and the two-byte "é" last; the symlinked
  // directory, the dangling symlink, the FIFO and the empty directory give nothing.
  const std::vector<std::string> expected_keys = {
      "B.md",  "a/10.txt",  "a/2.txt",      "a b+c.txt",
      "a.txt", "link-file", "z/y/deep.txt", "\xC3\xA9.txt",
  };
  BOOST_TEST(sink.keys() == expected_keys, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_listed_entry_holds_its_absolute_path_size_and_mtime) {
  test::temp_dir tmp;
  make_tree(tmp);
  const std::int64_t mtime = 1'700'000'000'123'456'789;
  set_mtime_ns(tmp.sub("z/y/deep.txt"), mtime);
  collecting_sink sink;
  BOOST_TEST_REQUIRE(list_directory(tmp.path(), sink).has_value());

  const auto* deep = find_key(sink, "z/y/deep.txt");
  BOOST_TEST_REQUIRE(deep != nullptr);
  BOOST_TEST(deep->path == tmp.sub("z/y/deep.txt"));
  BOOST_TEST(deep->size == 4u);
  BOOST_TEST(deep->mtime_ns == mtime);
  BOOST_TEST(deep->content_type == "");
  for (const auto& e : sink.entries)
    BOOST_TEST(e.path == tmp.path() + "/" + e.key);
}

BOOST_AUTO_TEST_CASE(a_symlink_to_a_file_is_listed_with_the_target_size_and_mtime) {
  test::temp_dir tmp;
  make_tree(tmp);
  const std::int64_t mtime = 1'600'000'000'000'000'007;
  set_mtime_ns(tmp.sub("a.txt"), mtime);
  collecting_sink sink;
  BOOST_TEST_REQUIRE(list_directory(tmp.path(), sink).has_value());

  const auto* link = find_key(sink, "link-file");
  BOOST_TEST_REQUIRE(link != nullptr);
  BOOST_TEST(link->path == tmp.sub("link-file"));
  BOOST_TEST(link->size == 5u);
  BOOST_TEST(link->mtime_ns == mtime);
}

BOOST_AUTO_TEST_CASE(a_root_spelled_with_dot_segments_and_a_trailing_slash_gives_clean_paths) {
  test::temp_dir tmp;
  fs::create_directories(tmp.sub("src/sub"));
  write_file(tmp.sub("src/sub/f.txt"), "f");
  collecting_sink sink;
  auto r = list_directory(tmp.path() + "/./src/sub/../", sink);
  BOOST_TEST_REQUIRE(r.has_value(), test::why(r));
  BOOST_TEST_REQUIRE(sink.entries.size() == 1u);
  BOOST_TEST(sink.entries[0].key == "sub/f.txt");
  BOOST_TEST(sink.entries[0].path == tmp.sub("src/sub/f.txt"));
}

BOOST_AUTO_TEST_CASE(a_root_that_is_a_symlink_to_a_directory_is_walked) {
  test::temp_dir tmp;
  fs::create_directories(tmp.sub("real"));
  write_file(tmp.sub("real/f.txt"), "f");
  fs::create_directory_symlink(tmp.sub("real"), tmp.sub("alias"));
  collecting_sink sink;
  BOOST_TEST_REQUIRE(list_directory(tmp.sub("alias"), sink).has_value());
  BOOST_TEST_REQUIRE(sink.entries.size() == 1u);
  BOOST_TEST(sink.entries[0].key == "f.txt");
}

BOOST_AUTO_TEST_CASE(an_empty_directory_lists_no_entries_and_is_no_error) {
  test::temp_dir tmp;
  collecting_sink sink;
  auto r = list_directory(tmp.path(), sink);
  BOOST_TEST(r.has_value(), test::why(r));
  BOOST_TEST(sink.entries.empty());
}

BOOST_AUTO_TEST_CASE(a_missing_root_is_an_invalid_argument_naming_it) {
  test::temp_dir tmp;
  collecting_sink sink;
  auto r = list_directory(tmp.sub("nope"), sink);
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST((r.error().code == errc::invalid_argument));
  BOOST_TEST(r.error().message == "source " + tmp.sub("nope") + ": no such directory");
}

BOOST_AUTO_TEST_CASE(a_root_that_is_a_file_is_an_invalid_argument) {
  test::temp_dir tmp;
  write_file(tmp.sub("file"), "x");
  collecting_sink sink;
  auto r = list_directory(tmp.sub("file"), sink);
  BOOST_TEST(read_error(r) == "source " + tmp.sub("file") + ": not a directory");
}

BOOST_AUTO_TEST_CASE(an_unreadable_subdirectory_fails_the_listing_naming_it,
                     *boost::unit_test::precondition(not_root)) {
  test::temp_dir tmp;
  fs::create_directories(tmp.sub("locked"));
  write_file(tmp.sub("locked/f"), "x");
  fs::permissions(tmp.sub("locked"), fs::perms::none);
  collecting_sink sink;
  auto r = list_directory(tmp.path(), sink);
  fs::permissions(tmp.sub("locked"), fs::perms::owner_all); // so temp_dir can remove it
  BOOST_TEST(read_error(r) ==
             "source " + tmp.sub("locked") + ": cannot read directory: Permission denied");
}

BOOST_AUTO_TEST_CASE(a_file_that_cannot_be_examined_fails_the_listing_naming_it,
                     *boost::unit_test::precondition(not_root)) {
  test::temp_dir tmp;
  fs::create_directories(tmp.sub("listable"));
  write_file(tmp.sub("listable/f"), "x");
  // Readable but not searchable: its names can be read, its files cannot be stat'ed.
  fs::permissions(tmp.sub("listable"), fs::perms::owner_read);
  collecting_sink sink;
  auto r = list_directory(tmp.path(), sink);
  fs::permissions(tmp.sub("listable"), fs::perms::owner_all);
  BOOST_TEST(read_error(r) ==
             "source " + tmp.sub("listable/f") + ": cannot read: Permission denied");
}

BOOST_AUTO_TEST_CASE(a_sink_error_stops_the_directory_listing_and_is_returned_as_is) {
  test::temp_dir tmp;
  make_tree(tmp);
  failing_sink sink(2);
  auto r = list_directory(tmp.path(), sink);
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST((r.error().code == errc::store_io));
  BOOST_TEST(r.error().message == "disk full");
  BOOST_TEST(sink.calls == 3);
}

// ---- manifest ----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_manifest_lists_its_lines_in_order_with_paths_resolved_and_stat_filled) {
  test::temp_dir tmp;
  fs::create_directories(tmp.sub("m"));
  fs::create_directories(tmp.sub("data"));
  write_file(tmp.sub("data/one.txt"), "1");
  write_file(tmp.sub("data/three.bin"), "333");
  write_file(tmp.sub("m/two.css"), "22");
  const std::int64_t mtime = 1'650'000'000'000'000'042;
  set_mtime_ns(tmp.sub("data/three.bin"), mtime);
  write_file(
      tmp.sub("m/list.jsonl"),
      "{\"key\": \"z/one.txt\", \"path\": \"" + tmp.sub("data/one.txt") +
          "\"}\n"
          "\n"
          "   \t\n"
          "{\"path\": \"two.css\", \"key\": \"b/two.css\", \"content_type\": \"text/css\"}\r\n"
          "{\"key\": \"a b+c\", \"path\": \"../data/three.bin\"}\n"
          "{\"key\": \"gone\", \"path\": \"missing.txt\"}"); // no final newline
  collecting_sink sink;
  auto r = list_manifest(tmp.sub("m/list.jsonl"), sink);
  BOOST_TEST_REQUIRE(r.has_value(), test::why(r));
  BOOST_TEST_REQUIRE(sink.entries.size() == 4u);

  const std::vector<upload_entry> expected_entries = {
      {"z/one.txt", tmp.sub("data/one.txt"), "", 1, sink.entries[0].mtime_ns},
      {"b/two.css", tmp.sub("m/two.css"), "text/css", 2, sink.entries[1].mtime_ns},
      {"a b+c", tmp.sub("m/../data/three.bin"), "", 3, mtime},
      {"gone", tmp.sub("m/missing.txt"), "", 0, 0},
  };
  for (std::size_t i = 0; i < expected_entries.size(); ++i) {
    BOOST_TEST_CONTEXT("entry " << i) {
      BOOST_TEST(sink.entries[i].key == expected_entries[i].key);
      BOOST_TEST(sink.entries[i].path == expected_entries[i].path);
      BOOST_TEST(sink.entries[i].content_type == expected_entries[i].content_type);
      BOOST_TEST(sink.entries[i].size == expected_entries[i].size);
      BOOST_TEST(sink.entries[i].mtime_ns == expected_entries[i].mtime_ns);
    }
  }
  BOOST_TEST(sink.entries[0].mtime_ns != 0);
}

BOOST_AUTO_TEST_CASE(an_empty_manifest_lists_no_entries) {
  test::temp_dir tmp;
  BOOST_TEST(manifest_error(tmp, "") == "<no error>");
  BOOST_TEST(manifest_error(tmp, "\n\n") == "<no error>");
}

BOOST_AUTO_TEST_CASE(a_line_that_is_not_json_is_reported_with_line_and_column) {
  test::temp_dir tmp;
  const auto m = tmp.sub("m.jsonl");
  auto message = manifest_error(tmp, "{\"key\": \"a\", \"path\": \"a\"}\n\n{not json\n");
  BOOST_TEST(message.starts_with(m + ":3:3: invalid JSON: syntax error"), message);
  BOOST_TEST(message.find("[json.exception") == std::string::npos, message);

  // The parser quotes what it read; a byte that is not UTF-8 must not reach the message.
  message = manifest_error(tmp, "{\"key\": \"\xFF\", \"path\": \"a\"}\n");
  BOOST_TEST(message.starts_with(m + ":1:10: invalid JSON: "), message);
  BOOST_TEST(std::all_of(message.begin(), message.end(),
                         [](char c) { return static_cast<unsigned char>(c) < 0x80; }),
             message);

  message = manifest_error(tmp, "{\"key\": \"a\", \"path\": \"a\"} x\n");
  BOOST_TEST(message.starts_with(m + ":1:27: invalid JSON: "), message);
}

BOOST_AUTO_TEST_CASE(a_line_that_is_no_entry_is_reported_with_its_line_and_what_is_wrong) {
  test::temp_dir tmp;
  const auto m = tmp.sub("m.jsonl");
  const std::string ok = "{\"key\": \"ok\", \"path\": \"p\"}\n";
  struct bad_line {
    std::string json;
    std::string message;
  };
  const std::vector<bad_line> cases = {
      {"[1]", "expected a JSON object"},
      {"\"text\"", "expected a JSON object"},
      {"{\"path\": \"p\"}", "missing field \"key\""},
      {"{\"key\": \"k\"}", "missing field \"path\""},
      {"{\"key\": 5, \"path\": \"p\"}", "field \"key\" must be a string"},
      {"{\"key\": \"k\", \"path\": [\"p\"]}", "field \"path\" must be a string"},
      {"{\"key\": \"k\", \"path\": \"p\", \"content_type\": null}",
       "field \"content_type\" must be a string"},
      {"{\"key\": \"k\", \"path\": {\"a\": \"b\"}}", "field \"path\" must be a string"},
      {"{\"key\": \"k\", \"path\": \"p\", \"size\": \"3\"}",
       "unknown field \"size\" (expected key, path, content_type)"},
      {"{\"key\": \"k\", \"key\": \"k2\", \"path\": \"p\"}", "field \"key\" appears twice"},
      {"{\"key\": \"\", \"path\": \"p\"}", "field \"key\" is empty"},
      {"{\"key\": \"/abs\", \"path\": \"p\"}", "key \"/abs\" starts with '/'"},
      {"{\"key\": \"a//b\", \"path\": \"p\"}", "key \"a//b\" has an empty segment"},
      {"{\"key\": \"dir/\", \"path\": \"p\"}", "key \"dir/\" has an empty segment"},
      {"{\"key\": \"a/../b\", \"path\": \"p\"}", "key \"a/../b\" has a \"..\" segment"},
      {"{\"key\": \"./a\", \"path\": \"p\"}", "key \"./a\" has a \".\" segment"},
      {"{\"key\": \"..\", \"path\": \"p\"}", "key \"..\" has a \"..\" segment"},
      {"{\"key\": \"a\\u0000b\", \"path\": \"p\"}", "key \"a\\u0000b\" holds a NUL character"},
      {"{\"key\": \"k\", \"path\": \"\"}", "field \"path\" is empty"},
      {"{\"key\": \"k\", \"path\": \"p\", \"content_type\": \"text/plain\\r\\nX-Evil: 1\"}",
       "content_type \"text/plain\\r\\nX-Evil: 1\" holds a control character"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.json) {
      BOOST_TEST(manifest_error(tmp, ok + "\n" + c.json + "\n" + ok) == m + ":3: " + c.message);
    }
  }
}

BOOST_AUTO_TEST_CASE(keys_with_dots_inside_segments_are_accepted) {
  test::temp_dir tmp;
  BOOST_TEST(manifest_error(tmp, "{\"key\": \".well-known/a..b/c.\", \"path\": \"p\"}\n") ==
             "<no error>");
}

BOOST_AUTO_TEST_CASE(a_duplicate_key_names_both_lines) {
  test::temp_dir tmp;
  const auto m = tmp.sub("m.jsonl");
  auto message = manifest_error(tmp, "{\"key\": \"a\", \"path\": \"1\"}\n"
                                     "{\"key\": \"b\", \"path\": \"2\"}\n"
                                     "{\"key\": \"c\", \"path\": \"3\"}\n"
                                     "{\"key\": \"b\", \"path\": \"4\"}\n"
                                     "{\"key\": \"a\", \"path\": \"5\"}\n");
  BOOST_TEST(message == m + ":4: key \"b\" is also on line 2");
}

BOOST_AUTO_TEST_CASE(the_same_path_under_different_keys_is_no_duplicate) {
  test::temp_dir tmp;
  BOOST_TEST(manifest_error(tmp, "{\"key\": \"a\", \"path\": \"same\"}\n"
                                 "{\"key\": \"A\", \"path\": \"same\"}\n") == "<no error>");
}

BOOST_AUTO_TEST_CASE(a_missing_manifest_is_an_invalid_argument_naming_it) {
  test::temp_dir tmp;
  collecting_sink sink;
  auto r = list_manifest(tmp.sub("none.jsonl"), sink);
  BOOST_TEST(read_error(r) ==
             "manifest " + tmp.sub("none.jsonl") + ": cannot open: No such file or directory");
}

BOOST_AUTO_TEST_CASE(a_sink_error_stops_the_manifest_listing_and_is_returned_as_is) {
  test::temp_dir tmp;
  write_file(tmp.sub("m.jsonl"), "{\"key\": \"a\", \"path\": \"1\"}\n"
                                 "{\"key\": \"b\", \"path\": \"2\"}\n"
                                 "{\"key\": \"c\", \"path\": \"3\"}\n");
  failing_sink sink(1);
  auto r = list_manifest(tmp.sub("m.jsonl"), sink);
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST((r.error().code == errc::store_io));
  BOOST_TEST(sink.calls == 2);
}

// ---- content types and URL keys ----------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_content_type_is_guessed_from_the_extension_ignoring_case) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"index.html", "text/html; charset=utf-8"},
      {"docs/INDEX.HTM", "text/html; charset=utf-8"},
      {"app.mjs", "text/javascript; charset=utf-8"},
      {"app.js.map", "application/json"},
      {"data.Json", "application/json"},
      {"logo.svg", "image/svg+xml"},
      {"photo.JPEG", "image/jpeg"},
      {"font.woff2", "font/woff2"},
      {"backup.tar.gz", "application/gzip"},
      {"dump.sql", "application/sql"},
      {"README.md", "text/markdown; charset=utf-8"},
      {"table.csv", "text/csv; charset=utf-8"},
      {"Makefile", "application/octet-stream"},
      {".htaccess", "application/octet-stream"},
      {"dir.d/file", "application/octet-stream"},
      {"trailing.", "application/octet-stream"},
      {"archive.rar", "application/octet-stream"},
  };
  for (const auto& [key, type] : cases)
    BOOST_TEST(guess_content_type(key) == type, key);
}

BOOST_AUTO_TEST_CASE(a_key_is_percent_encoded_for_a_url_except_unreserved_bytes_and_slashes) {
  BOOST_TEST(encode_key_for_url("a b+\xC3\xA9/x~y_z-1.txt") == "a%20b%2B%C3%A9/x~y_z-1.txt");
  BOOST_TEST(encode_key_for_url("100%?#&=") == "100%25%3F%23%26%3D");
  BOOST_TEST(encode_key_for_url("AZaz09") == "AZaz09");
}

BOOST_AUTO_TEST_SUITE_END()
