#pragma once

// Small helpers shared by the unit tests.

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "haul/expected.hpp"
#include "storage/store.hpp"

namespace haul::test {

/// The error message of a failed result, empty for a success. Boost.Test evaluates a check's
/// message even when the check passes, so a message must never call error() unguarded.
template <class T>
std::string why(const expected<T>& r) {
  return r.has_value() ? std::string() : r.error().message;
}

/// Lines, one a line: a list in a check's failure message.
inline std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines)
    out += l + "\n";
  return out;
}

/// Opens a store without syncing (tests never survive a power loss).
inline std::unique_ptr<storage::store> open_store(const std::string& dir) {
  auto s = storage::store::open(dir, sync_mode::off);
  if (!s)
    throw std::runtime_error(s.error().message);
  return std::move(*s);
}

} // namespace haul::test
