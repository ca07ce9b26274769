#pragma once

// A job's stable id: its name plus a fingerprint of its inputs. The same spec always gets
// the same id (so a rerun resumes it); any change of kind, params, task count or explicit
// fingerprint gives a new id (so stale progress is never mixed with new input).

#include <string>

#include "haul/job.hpp"

namespace haul {

/// "NAME-xxxxxxxxxxxx": 12 hex digits of a 64-bit FNV-1a over the inputs.
/// DO NOT CHANGE: ids are stored and users script against them.
std::string job_id_for(const job_spec& spec);

/// Empty when the name can be part of an id; otherwise what is wrong with it.
std::string validate_job_name(const std::string& name);

} // namespace haul
