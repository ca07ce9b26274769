#pragma once

// The ceiling of upload_bench: the tightest PUT loop we can reasonably write on libcurl's multi
// interface, with nothing a durable runtime adds (no store, no listing, no retries).

#include <cstdint>
#include <functional>
#include <string>

namespace haul::bench {

struct raw_put_result {
  std::uint64_t created = 0; // answered 201
  std::uint64_t failed = 0;  // any other answer, or a transport or file error
  std::string first_error;
};

/// PUTs files 0..count-1, `parallel` at a time, on one thread. `item(i, path, url)` fills the
/// local path and the URL of file i; the file's size comes from fstat on the open descriptor.
raw_put_result
raw_multi_put(std::uint64_t count, unsigned parallel,
              const std::function<void(std::uint64_t, std::string&, std::string&)>& item);

} // namespace haul::bench
