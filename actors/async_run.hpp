#pragma once

// Starting a task of an asynchronous kind: wraps the run in a task_run that the kind keeps
// until it completes it, from whatever thread its event loop runs on.

#include <memory>

namespace haul::actors {

struct job_context;
struct run_item;

/// Loads the task's input (when the kind lists inputs) and hands the run to the kind's
/// start function. A run whose input cannot be loaded completes at once as failed.
void start_async_run(const std::shared_ptr<const job_context>& job, run_item item);

} // namespace haul::actors
