// An embedding program: registers its own job kind, submits a job, waits for it, and shows
// that a second run of the same job resumes instead of starting over.
//
//   embed_example STORE_DIR
//
// The kind "checksum" computes a checksum of a generated block per task; every 7th task
// fails once with a retryable error, as a flaky dependency would.

#include <atomic>
#include <cstdint>
#include <iostream>

#include <haul/runtime.hpp>

namespace {

haul::outcome checksum_block(haul::task_context& ctx) {
  if (ctx.index() % 7 == 0 && ctx.attempt() == 1)
    return haul::outcome::retry("dependency busy");
  std::uint64_t sum = 0;
  for (std::uint64_t i = 0; i < 4096; ++i)
    sum = sum * 31 + ((ctx.index() + i) & 0xff);
  return haul::outcome::success(4096 + (sum & 1)); // bytes "processed"
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: embed_example STORE_DIR\n";
    return 2;
  }
  haul::runtime_options options;
  options.store = argv[1];
  options.parallelism = 16;
  options.retry.initial_backoff = std::chrono::milliseconds(5);

  auto rt = haul::runtime::open(options);
  if (!rt) {
    std::cerr << "cannot open the runtime: " << rt.error().message << "\n";
    return 1;
  }
  if (auto ok = rt->register_kind("checksum", checksum_block); !ok) {
    std::cerr << ok.error().message << "\n";
    return 1;
  }

  std::atomic<int> callbacks{0};
  haul::job_spec spec;
  spec.name = "checksums";
  spec.kind = "checksum";
  spec.tasks = 2000;
  spec.on_complete = [&callbacks](const haul::job_status& st) {
    ++callbacks; // user context travels in the capture
    std::cout << "on_complete: " << st.id << " " << haul::to_string(st.state) << "\n";
  };
  auto id = rt->submit(spec);
  if (!id) {
    std::cerr << id.error().message << "\n";
    return 1;
  }
  auto st = rt->wait(*id);
  if (!st) {
    std::cerr << st.error().message << "\n";
    return 1;
  }
  std::cout << "job " << st->id << ": " << haul::to_string(st->state)
            << " succeeded=" << st->tasks.succeeded << " retries=" << st->retries
            << " bytes=" << st->bytes << " generation=" << rt->recovery().generation << "\n";
  bool ok = st->state == haul::job_state::succeeded && st->tasks.succeeded == 2000 &&
            callbacks.load() == 1;
  return ok ? 0 : 1;
}
