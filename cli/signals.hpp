#pragma once

#include <csignal>

namespace haul::cli {

/// Blocks SIGINT and SIGTERM, and `extra` unless it is 0, in this thread and every thread
/// started after it (CAF's and the HTTP server's included), so that only the thread that
/// sigwait()s on the returned set ever sees them.
sigset_t block_stop_signals(int extra = 0);

} // namespace haul::cli
