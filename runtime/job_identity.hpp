#pragma once

// A job's stable id: its name plus a fingerprint of its inputs. The same spec always gets
// the same id (so a rerun resumes it); any change of kind, params, task count, listed inputs
// or explicit fingerprint gives a new id (so stale progress is never mixed with new input).

#include <cstdint>
#include <string>
#include <string_view>

#include "haul/job.hpp"

namespace haul {

/// "NAME-xxxxxxxxxxxx": 12 hex digits of a 64-bit FNV-1a over kind, params, and either the
/// spec's fingerprint or the task count and `inputs_digest` (kinds that list their inputs).
/// DO NOT CHANGE: ids are stored and users script against them.
std::string job_id_for(const job_spec& spec, std::string_view inputs_digest = {});

/// Hashes a kind's listed inputs, in order, into the digest job_id_for takes.
class input_digest {
 public:
  void add(std::string_view input);
  std::uint64_t count() const { return count_; }
  std::string hex() const;

 private:
  std::uint64_t hash_ = 0xcbf29ce484222325ULL;
  std::uint64_t count_ = 0;
};

/// Empty when the name can be part of an id; otherwise what is wrong with it.
std::string validate_job_name(const std::string& name);

} // namespace haul
