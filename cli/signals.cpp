#include "cli/signals.hpp"

#include <pthread.h>

namespace haul::cli {

sigset_t block_stop_signals(int extra) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  if (extra != 0)
    sigaddset(&set, extra);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

} // namespace haul::cli
