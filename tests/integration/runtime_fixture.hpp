#pragma once

// What every runtime integration test does: open a runtime over a store in a temporary
// directory, submit, wait, and fail the test with the runtime's own message when any of
// these fails.

#include <chrono>
#include <string>

#include <boost/test/unit_test.hpp>

#include "../unit/temp_dir.hpp"
#include "haul/runtime.hpp"

namespace haul::test {

/// Small backoffs and a short report interval, so that tests of retries take milliseconds.
inline runtime_options options_for(const temp_dir& dir) {
  using namespace std::chrono_literals;
  runtime_options o;
  o.store = dir.sub("store");
  o.parallelism = 8;
  o.retry.initial_backoff = 1ms;
  o.retry.max_backoff = 5ms;
  o.report_interval = 100ms;
  o.shutdown_grace = 2s;
  o.scheduler_threads = 2;
  return o;
}

inline runtime open_or_fail(const runtime_options& o) {
  auto rt = runtime::open(o);
  BOOST_REQUIRE_MESSAGE(rt.has_value(), (rt ? "" : rt.error().message));
  return std::move(*rt);
}

inline std::string submit_or_fail(runtime& rt, job_spec spec) {
  auto id = rt.submit(std::move(spec));
  BOOST_REQUIRE_MESSAGE(id.has_value(), (id ? "" : id.error().message));
  return *id;
}

inline job_status wait_for(runtime& rt, const std::string& id) {
  auto st = rt.wait(id);
  BOOST_REQUIRE_MESSAGE(st.has_value(), (st ? "" : st.error().message));
  return *st;
}

} // namespace haul::test
