#pragma once

// haul::error and haul::expected<T>: how every fallible haul call reports failure.
//
// haul never throws across its public API. A call that can fail returns expected<T>
// (or expected<void>); on failure it holds an error whose code tells the caller what to do:
//
//   auto rt = haul::runtime::open(options);
//   if (!rt) { std::cerr << rt.error().message << '\n'; return 1; }

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace haul {

/// What went wrong, phrased as what the caller should do about it.
enum class errc : std::uint8_t {
  invalid_argument,    ///< The input is wrong: fix it, do not retry as is.
  not_found,           ///< The named job or kind does not exist.
  store_busy,          ///< Another process owns the store: wait for it or use another store.
  store_incompatible,  ///< The store has an unknown format or is not a haul store: do not retry.
  store_io,            ///< The store failed to read or write: retry after fixing the disk.
  failed_precondition, ///< The runtime is not in a state that allows the call.
  internal,            ///< A bug in haul: report it.
};

struct error {
  errc code = errc::internal;
  std::string message; ///< A full sentence naming what and where.
};

/// Spelling of `error` inside classes that also have an error() accessor.
using error_t = error;

/// Holds either a T or an error. Accessing the wrong alternative is a precondition violation.
template <class T>
class [[nodiscard]] expected {
 public:
  expected(T value)
      : state_(std::move(value)) {}
  expected(error_t err)
      : state_(std::move(err)) {}

  bool has_value() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const error_t& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, error_t> state_;
};

template <>
class [[nodiscard]] expected<void> {
 public:
  expected() = default;
  expected(error_t err)
      : err_(std::move(err))
      , ok_(false) {}

  bool has_value() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const error_t& error() const { return err_; }

 private:
  error_t err_;
  bool ok_ = true;
};

inline error make_error(errc code, std::string message) {
  return error{code, std::move(message)};
}

} // namespace haul
