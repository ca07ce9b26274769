#pragma once

// One run of an export task: from the task's checkpoint (or the start) to the end of the
// dump, or until it is stopped or fails. Two threads: this one encodes parts and hands each
// to the target on a third (so the next part is built while the last one is written),
// while a reader thread turns rows into SQL text inside the run's snapshot.

#include "haul/task.hpp"
#include "runtime/export/export_config.hpp"
#include "runtime/export/export_target.hpp"

namespace haul::exporter {

outcome run_export(task_context& ctx, const export_config& config, target_services services);

} // namespace haul::exporter
