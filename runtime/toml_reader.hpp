#pragma once

// Reading the tables of a job file with toml++: each key's type and range checked, every
// problem collected as FILE:LINE:COLUMN: KEY: expected ..., found ... (the line and column
// of the key's value), and the keys no one asked for reported as unknown with the nearest
// known one suggested. Private to the job file's parser.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "runtime/job_file.hpp"

namespace haul {

/// The problems of one file, in the order they were found.
class file_problems {
 public:
  explicit file_problems(std::string path)
      : path_(std::move(path)) {}

  void add(const toml::source_region& where, const std::string& what);
  void add_at_file(const std::string& what) { list_.push_back(path_ + ": " + what); }
  bool empty() const { return list_.empty(); }
  std::size_t count() const { return list_.size(); }
  /// One problem a line.
  std::string text() const;

 private:
  std::string path_;
  std::vector<std::string> list_;
};

file_place place_of(const toml::node& n);
/// "a string", "an integer", ...: what was found instead.
const char* type_name(const toml::node& n);
/// The shortest text that reads back as the same double: 2.0 -> "2", 0.1 -> "0.1".
std::string shortest_text(double v);
/// Params are strings, numbers or booleans; a date, time, array or deeper table is not.
bool is_param_scalar(const toml::node& n);
/// A param scalar as the text a kind reads: 0x1F -> "31", 2.0 -> "2", true -> "true".
std::string scalar_text(const toml::node& n);

/// Reads the keys of one table, checking types; remembers which keys were consumed so the
/// rest can be reported as unknown. Each getter returns nullopt when the key is absent or
/// wrong (and then records the problem). `where` names the table in messages ("runtime",
/// "job[0]"); the top level's is empty.
class table_reader {
 public:
  table_reader(const toml::table& t, std::string where, file_problems& p)
      : t_(t)
      , where_(std::move(where))
      , p_(p) {}

  const toml::node* get(std::string_view key) {
    seen_.emplace_back(key);
    return t_.get(key);
  }

  std::optional<std::string> string(std::string_view key);
  std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max);
  std::optional<double> number(std::string_view key, double min);
  /// Milliseconds of a duration string ("250ms").
  std::optional<std::int64_t> duration(std::string_view key);

  /// A string that `parse` turns into a value (a std::optional); `want` lists the strings.
  template <class Parse>
  auto choice(std::string_view key, const std::string& want, Parse parse)
      -> decltype(parse(std::string_view())) {
    auto* n = get(key);
    if (!n)
      return std::nullopt;
    auto text = n->value<std::string>();
    if (!n->is_string() || !text) {
      expected_type(*n, key, want.c_str());
      return std::nullopt;
    }
    auto v = parse(std::string_view(*text));
    if (!v)
      p_.add(n->source(),
             where_ + key_text(key) + ": expected " + want + ", found \"" + *text + "\"");
    return v;
  }

  /// Reports the keys present in the table that no get() asked for.
  void reject_unknown();

  const std::string& where() const { return where_; }

 private:
  static std::string key_text(std::string_view key) { return "." + std::string(key); }
  void expected_type(const toml::node& n, std::string_view key, const char* want);

  const toml::table& t_;
  std::string where_;
  file_problems& p_;
  std::vector<std::string_view> seen_;
};

} // namespace haul
