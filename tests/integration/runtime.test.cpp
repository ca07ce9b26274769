// The runtime as an embedder uses it: a real actor system over a real RocksDB store in a
// temporary directory. Each test is one behaviour of the durable core.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "haul/runtime.hpp"
#include "runtime_fixture.hpp"

using namespace std::chrono_literals;
using haul::test::open_or_fail;
using haul::test::options_for;
using haul::test::wait_for;

namespace {

/// A gate tasks block on until the test opens it (or the task is asked to stop).
class gate {
 public:
  void open() {
    std::lock_guard<std::mutex> g(m_);
    open_ = true;
    cv_.notify_all();
  }
  /// Returns false when the task was asked to stop first.
  bool pass(haul::task_context& ctx) {
    std::unique_lock<std::mutex> l(m_);
    while (!open_) {
      if (ctx.stop_requested())
        return false;
      cv_.wait_for(l, 5ms);
    }
    return true;
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  bool open_ = false;
};

/// Blocks the test until `n` is reached, polling the counter a task function increments.
void await_count(const std::atomic<int>& counter, int n) {
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (counter.load() < n) {
    BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline,
                          "timed out waiting for " << n << " task starts, saw " << counter.load());
    std::this_thread::sleep_for(1ms);
  }
}

} // namespace

BOOST_AUTO_TEST_CASE(a_noop_job_runs_every_task_to_success) {
  haul::test::temp_dir dir;
  auto rt = open_or_fail(options_for(dir));
  auto id = rt.submit({.name = "many", .kind = "noop", .tasks = 5'000});
  BOOST_REQUIRE(id);
  auto st = wait_for(rt, *id);
  BOOST_TEST(haul::to_string(st.state) == "succeeded");
  BOOST_TEST(st.tasks.succeeded == 5'000u);
  BOOST_TEST(st.tasks.failed == 0u);
  BOOST_TEST(st.tasks.pending == 0u);
}

BOOST_AUTO_TEST_CASE(tasks_that_fail_first_are_retried_until_they_succeed) {
  haul::test::temp_dir dir;
  auto rt = open_or_fail(options_for(dir));
  auto id =
      rt.submit({.name = "flaky", .kind = "noop", .params = {{"fail_first", "2"}}, .tasks = 200});
  BOOST_REQUIRE(id);
  auto st = wait_for(rt, *id);
  BOOST_TEST(haul::to_string(st.state) == "succeeded");
  BOOST_TEST(st.retries == 400u);
}

BOOST_AUTO_TEST_CASE(tasks_that_exhaust_their_attempts_go_to_the_dead_letter) {
  haul::test::temp_dir dir;
  auto rt = open_or_fail(options_for(dir));
  BOOST_REQUIRE(rt.register_kind("odd_fails", [](haul::task_context& ctx) {
    if (ctx.index() % 2 == 1)
      return haul::outcome::retry("odd index");
    return haul::outcome::success(10);
  }));
  haul::retry_policy three = rt.options().retry;
  three.max_attempts = 3;
  auto id = rt.submit({.name = "half", .kind = "odd_fails", .tasks = 50, .retry = three});
  BOOST_REQUIRE(id);
  auto st = wait_for(rt, *id);
  BOOST_TEST(haul::to_string(st.state) == "completed_with_failures");
  BOOST_TEST(st.tasks.failed == 25u);
  BOOST_TEST(st.tasks.succeeded == 25u);
  BOOST_TEST(st.retries == 50u); // two retries for each of the 25 odd tasks
  BOOST_TEST(st.bytes == 250u);
  BOOST_TEST(st.last_error == "odd index");
}

BOOST_AUTO_TEST_CASE(a_permanent_failure_is_not_retried_and_fails_a_job_with_no_success) {
  haul::test::temp_dir dir;
  auto rt = open_or_fail(options_for(dir));
  std::atomic<int> runs{0};
  BOOST_REQUIRE(rt.register_kind("forbidden", [&](haul::task_context&) {
    ++runs;
    return haul::outcome::fail("403 Forbidden");
  }));
  auto id = rt.submit({.name = "denied", .kind = "forbidden", .tasks = 10});
  BOOST_REQUIRE(id);
  auto st = wait_for(rt, *id);
  BOOST_TEST(haul::to_string(st.state) == "failed");
  BOOST_TEST(runs.load() == 10);
  BOOST_TEST(st.retries == 0u);
}

BOOST_AUTO_TEST_CASE(a_stopped_runtime_resumes_without_repeating_finished_tasks) {
  haul::test::temp_dir dir;
  auto opts = options_for(dir);
  std::mutex m;
  std::multiset<std::uint64_t> succeeded; // every successful run, by task index
  std::atomic<int> started{0};
  gate never; // first process: tasks beyond 30 block until stopped
  auto make_kind = [&](bool block_late) {
    return [&, block_late](haul::task_context& ctx) {
      ++started;
      if (block_late && ctx.index() >= 30 && !never.pass(ctx))
        return haul::outcome::cancelled();
      std::lock_guard<std::mutex> g(m);
      succeeded.insert(ctx.index());
      return haul::outcome::success();
    };
  };
  haul::job_spec spec{.name = "resumable", .kind = "counted", .tasks = 100};
  {
    auto rt = open_or_fail(opts);
    BOOST_REQUIRE(rt.register_kind("counted", make_kind(true)));
    auto id = rt.submit(spec);
    BOOST_REQUIRE(id);
    await_count(started, 38); // 30 done, 8 blocked in flight
    rt.stop();
  }
  {
    auto rt = open_or_fail(opts);
    BOOST_REQUIRE(rt.register_kind("counted", make_kind(false)));
    auto id = rt.submit(spec);
    BOOST_REQUIRE(id);
    auto st = wait_for(rt, *id);
    BOOST_TEST(haul::to_string(st.state) == "succeeded");
    BOOST_TEST(st.tasks.succeeded == 100u);
  }
  BOOST_TEST(succeeded.size() == 100u); // each task succeeded exactly once over both runs
  for (std::uint64_t i = 0; i < 100; ++i)
    BOOST_TEST(succeeded.count(i) == 1u);
}

BOOST_AUTO_TEST_CASE(cancelling_a_job_stops_running_tasks_and_starts_no_more) {
  haul::test::temp_dir dir;
  auto rt = open_or_fail(options_for(dir));
  std::atomic<int> started{0};
  gate never;
  BOOST_REQUIRE(rt.register_kind("waits", [&](haul::task_context& ctx) {
    ++started;
    return never.pass(ctx) ? haul::outcome::success() : haul::outcome::cancelled();
  }));
  auto id = rt.submit({.name = "doomed", .kind = "waits", .tasks = 1000, .parallelism = 4});
  BOOST_REQUIRE(id);
  await_count(started, 4);
  BOOST_REQUIRE(rt.cancel(*id));
  auto st = wait_for(rt, *id);
  BOOST_TEST(haul::to_string(st.state) == "cancelled");
  BOOST_TEST(started.load() == 4);
  BOOST_TEST(st.tasks.cancelled == 1000u);
}

BOOST_AUTO_TEST_CASE(a_cancelled_task_still_running_at_shutdown_still_sees_the_cancel) {
  // Regression: the shutdown's stop request overwrote the cancel, so a task that outlived
  // the grace kept the work (a partial file, an open upload) its cancel should drop.
  haul::test::temp_dir dir;
  auto o = options_for(dir);
  o.shutdown_grace = 0ms;
  auto rt = open_or_fail(o);
  std::atomic<int> started{0};
  std::atomic<int> saw_cancel{-1};
  std::mutex m;
  std::condition_variable cv;
  bool go = false;
  BOOST_REQUIRE(rt.register_kind("stubborn", [&](haul::task_context& ctx) {
    ++started;
    std::unique_lock<std::mutex> l(m);
    cv.wait(l, [&] { return go; }); // deaf to stop requests, as a long write would be
    saw_cancel = ctx.cancel_requested() ? 1 : 0;
    return haul::outcome::cancelled();
  }));
  auto id = rt.submit({.name = "stubborn", .kind = "stubborn", .tasks = 1});
  BOOST_REQUIRE(id);
  await_count(started, 1);
  BOOST_REQUIRE(rt.cancel(*id));
  rt.stop(); // the grace is over at once: the task is still in its function
  {
    std::lock_guard<std::mutex> g(m);
    go = true;
  }
  cv.notify_all();
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (saw_cancel.load() < 0) {
    BOOST_REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(1ms);
  }
  BOOST_TEST(saw_cancel.load() == 1);
}

BOOST_AUTO_TEST_CASE(a_paused_job_starts_nothing_until_it_is_resumed) {
  haul::test::temp_dir dir;
  auto rt = open_or_fail(options_for(dir));
  std::atomic<int> started{0};
  gate first_wave;
  BOOST_REQUIRE(rt.register_kind("gated", [&](haul::task_context& ctx) {
    ++started;
    return first_wave.pass(ctx) ? haul::outcome::success() : haul::outcome::cancelled();
  }));
  auto id = rt.submit({.name = "pausable", .kind = "gated", .tasks = 20, .parallelism = 2});
  BOOST_REQUIRE(id);
  await_count(started, 2);
  BOOST_REQUIRE(rt.set_parallelism(*id, 0));
  BOOST_TEST(haul::to_string(rt.status(*id)->state) == "paused");
  first_wave.open();
  // The two running tasks finish; while paused, their slots are not refilled.
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (rt.status(*id)->tasks.succeeded < 2) {
    BOOST_REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(1ms);
  }
  BOOST_TEST(rt.status(*id)->tasks.running == 0u);
  BOOST_TEST(started.load() == 2);
  BOOST_REQUIRE(rt.set_parallelism(*id, 2));
  auto st = wait_for(rt, *id);
  BOOST_TEST(haul::to_string(st.state) == "succeeded");
  BOOST_TEST(started.load() == 20);
}

BOOST_AUTO_TEST_CASE(a_task_without_heartbeats_is_declared_lost_and_retried) {
  haul::test::temp_dir dir;
  auto opts = options_for(dir);
  opts.task_timeout = 150ms;
  auto rt = open_or_fail(opts);
  std::atomic<int> runs{0};
  BOOST_REQUIRE(rt.register_kind("hangs_once", [&](haul::task_context& ctx) {
    ++runs;
    if (ctx.attempt() == 1) {
      while (!ctx.stop_requested()) // hung: no heartbeat until the recovery actor gives up
        std::this_thread::sleep_for(1ms);
      return haul::outcome::cancelled();
    }
    return haul::outcome::success();
  }));
  auto id = rt.submit({.name = "hung", .kind = "hangs_once", .tasks = 1});
  BOOST_REQUIRE(id);
  auto st = wait_for(rt, *id);
  BOOST_TEST(haul::to_string(st.state) == "succeeded");
  BOOST_TEST(runs.load() == 2);
  BOOST_TEST(st.retries == 1u);
  BOOST_TEST(st.last_error.find("lost") != std::string::npos, st.last_error);
}

BOOST_AUTO_TEST_CASE(a_long_task_that_sends_heartbeats_is_never_run_twice) {
  haul::test::temp_dir dir;
  auto opts = options_for(dir);
  opts.task_timeout = 100ms;
  auto rt = open_or_fail(opts);
  std::atomic<int> runs{0};
  BOOST_REQUIRE(rt.register_kind("long", [&](haul::task_context& ctx) {
    ++runs;
    auto until = std::chrono::steady_clock::now() + 600ms; // six timeouts long
    while (std::chrono::steady_clock::now() < until) {
      ctx.heartbeat();
      std::this_thread::sleep_for(5ms);
    }
    return haul::outcome::success();
  }));
  auto id = rt.submit({.name = "long", .kind = "long", .tasks = 1});
  BOOST_REQUIRE(id);
  auto st = wait_for(rt, *id);
  BOOST_TEST(haul::to_string(st.state) == "succeeded");
  BOOST_TEST(runs.load() == 1);
  BOOST_TEST(st.retries == 0u);
}

BOOST_AUTO_TEST_CASE(a_retry_resumes_from_the_checkpoint_of_the_failed_attempt) {
  haul::test::temp_dir dir;
  auto rt = open_or_fail(options_for(dir));
  std::string seen;
  BOOST_REQUIRE(rt.register_kind("resumes", [&](haul::task_context& ctx) {
    if (ctx.attempt() == 1) {
      ctx.heartbeat("offset=4096");
      return haul::outcome::retry("connection reset");
    }
    seen = ctx.checkpoint();
    return haul::outcome::success();
  }));
  auto id = rt.submit({.name = "ckpt", .kind = "resumes", .tasks = 1});
  BOOST_REQUIRE(id);
  wait_for(rt, *id);
  BOOST_TEST(seen == "offset=4096");
}

BOOST_AUTO_TEST_CASE(a_second_runtime_on_the_same_store_is_refused) {
  haul::test::temp_dir dir;
  auto rt = open_or_fail(options_for(dir));
  auto second = haul::runtime::open(options_for(dir));
  BOOST_REQUIRE(!second.has_value());
  BOOST_TEST(static_cast<int>(second.error().code) == static_cast<int>(haul::errc::store_busy));
  BOOST_TEST(second.error().message.find(options_for(dir).store) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_changed_input_is_a_new_job_and_the_stale_one_is_deleted) {
  haul::test::temp_dir dir;
  auto opts = options_for(dir);
  std::string old_id;
  {
    auto rt = open_or_fail(opts);
    auto id = rt.submit({.name = "cache", .kind = "noop", .tasks = 10});
    BOOST_REQUIRE(id);
    wait_for(rt, *id);
    old_id = *id;
  }
  auto rt = open_or_fail(opts);
  auto id = rt.submit({.name = "cache", .kind = "noop", .tasks = 12});
  BOOST_REQUIRE(id);
  BOOST_TEST(*id != old_id);
  auto st = wait_for(rt, *id);
  BOOST_TEST(st.tasks.succeeded == 12u); // nothing carried over from the stale job
  auto all = rt.jobs();
  BOOST_TEST(all.size() == 1u);
  BOOST_TEST(all.front().id == *id);
}

BOOST_AUTO_TEST_CASE(resubmitting_a_finished_job_reruns_nothing_and_calls_back_at_once) {
  haul::test::temp_dir dir;
  auto opts = options_for(dir);
  haul::job_spec spec{.name = "once", .kind = "noop", .tasks = 5};
  {
    auto rt = open_or_fail(opts);
    auto id = rt.submit(spec);
    BOOST_REQUIRE(id);
    wait_for(rt, *id);
  }
  auto rt = open_or_fail(opts);
  BOOST_TEST(rt.recovery().generation == 2u);
  std::atomic<int> calls{0};
  spec.on_complete = [&](const haul::job_status& st) {
    if (st.state == haul::job_state::succeeded)
      ++calls;
  };
  auto id = rt.submit(spec);
  BOOST_REQUIRE(id);
  BOOST_TEST(calls.load() == 1);
  BOOST_TEST(wait_for(rt, *id).tasks.succeeded == 5u);
}

BOOST_AUTO_TEST_CASE(an_unknown_kind_is_refused_with_its_name) {
  haul::test::temp_dir dir;
  auto rt = open_or_fail(options_for(dir));
  auto id = rt.submit({.name = "x", .kind = "teleport", .tasks = 1});
  BOOST_REQUIRE(!id.has_value());
  BOOST_TEST(id.error().message.find("teleport") != std::string::npos);
}
