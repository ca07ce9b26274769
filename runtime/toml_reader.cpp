#include "runtime/toml_reader.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "runtime/duration.hpp"
#include "runtime/param_values.hpp"

namespace haul {

void file_problems::add(const toml::source_region& where, const std::string& what) {
  list_.push_back(path_ + ":" + std::to_string(where.begin.line) + ":" +
                  std::to_string(where.begin.column) + ": " + what);
}

std::string file_problems::text() const {
  std::string out;
  for (const auto& p : list_)
    out += (out.empty() ? "" : "\n") + p;
  return out;
}

file_place place_of(const toml::node& n) {
  return {static_cast<std::uint32_t>(n.source().begin.line),
          static_cast<std::uint32_t>(n.source().begin.column)};
}

std::string shortest_text(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, r.ptr);
}

const char* type_name(const toml::node& n) {
  switch (n.type()) {
  case toml::node_type::string:
    return "a string";
  case toml::node_type::integer:
    return "an integer";
  case toml::node_type::floating_point:
    return "a number";
  case toml::node_type::boolean:
    return "a boolean";
  case toml::node_type::table:
    return "a table";
  case toml::node_type::array:
    return "an array";
  default:
    return "a date or time";
  }
}

bool is_param_scalar(const toml::node& n) {
  return n.is_string() || n.is_integer() || n.is_boolean() || n.is_floating_point();
}

std::string scalar_text(const toml::node& n) {
  if (auto s = n.value<std::string>(); n.is_string() && s)
    return *s;
  if (n.is_integer())
    return std::to_string(*n.value<std::int64_t>());
  if (n.is_boolean())
    return *n.value<bool>() ? "true" : "false";
  if (n.is_floating_point())
    return shortest_text(*n.value<double>());
  return {};
}

std::optional<std::string> table_reader::string(std::string_view key) {
  auto* n = get(key);
  if (!n)
    return std::nullopt;
  if (auto v = n->value<std::string>(); v && n->is_string())
    return *v;
  expected_type(*n, key, "a string");
  return std::nullopt;
}

std::optional<std::int64_t> table_reader::integer(std::string_view key, std::int64_t min,
                                                  std::int64_t max) {
  auto* n = get(key);
  if (!n)
    return std::nullopt;
  if (!n->is_integer()) {
    expected_type(*n, key, "an integer");
    return std::nullopt;
  }
  auto v = *n->value<std::int64_t>();
  if (v < min || v > max) {
    auto range = max == std::numeric_limits<std::int64_t>::max()
                     ? "of at least " + std::to_string(min)
                     : "from " + std::to_string(min) + " to " + std::to_string(max);
    p_.add(n->source(), where_ + key_text(key) + ": expected an integer " + range + ", found " +
                            std::to_string(v));
    return std::nullopt;
  }
  return v;
}

std::optional<double> table_reader::number(std::string_view key, double min) {
  auto* n = get(key);
  if (!n)
    return std::nullopt;
  if (!n->is_number()) {
    expected_type(*n, key, "a number");
    return std::nullopt;
  }
  auto v = *n->value<double>();
  if (!(v >= min) || !std::isfinite(v)) {
    p_.add(n->source(), where_ + key_text(key) + ": expected a finite number of at least " +
                            shortest_text(min) + ", found " + shortest_text(v));
    return std::nullopt;
  }
  return v;
}

std::optional<std::int64_t> table_reader::duration(std::string_view key) {
  auto* n = get(key);
  if (!n)
    return std::nullopt;
  auto text = n->value<std::string>();
  if (!n->is_string() || !text) {
    expected_type(*n, key, "a duration string such as \"250ms\", \"30s\", \"5m\"");
    return std::nullopt;
  }
  auto ms = parse_duration_ms(*text);
  if (!ms) {
    p_.add(n->source(), where_ + key_text(key) + ": expected " + ms.error().message + ", found \"" +
                            *text + "\"");
    return std::nullopt;
  }
  return *ms;
}

void table_reader::reject_unknown() {
  for (const auto& [k, v] : t_) {
    auto key = k.str();
    if (std::find(seen_.begin(), seen_.end(), key) != seen_.end())
      continue;
    // At the top level there is no table name to put first.
    p_.add(v.source(), (where_.empty() ? "" : where_ + ": ") + "unknown key '" + std::string(key) +
                           "'" + did_you_mean(key, seen_));
  }
}

void table_reader::expected_type(const toml::node& n, std::string_view key, const char* want) {
  p_.add(n.source(), where_ + key_text(key) + ": expected " + want + ", found " + type_name(n));
}

} // namespace haul
