#pragma once

// Listing a kind's inputs: once to digest them (for the job id), and once, for a new job, to
// stream them into the store. Inputs go into the store in unsynced batches; the last batch
// is synced before the job record that makes them reachable is written, so a job never
// exists without all of its inputs.

#include <cstdint>
#include <string>

#include "haul/expected.hpp"
#include "haul/kind.hpp"
#include "runtime/job_identity.hpp"
#include "storage/store.hpp"

namespace haul {

/// Runs the list function into a digest: the inputs' count and hash. Stores nothing.
expected<input_digest> digest_inputs(const list_function& list, const job_params& params);

/// Runs the list function into the store under the job id, replacing whatever inputs the
/// id had (a listing that a crash interrupted). Returns the digest of what it stored. On
/// failure the inputs written so far are deleted again.
expected<input_digest> store_inputs(const list_function& list, const job_params& params,
                                    storage::store& store, const std::string& id);

} // namespace haul
