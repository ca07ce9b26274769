#pragma once

// The export API's settings as `haul serve` (and `haul validate`) derive them from the
// [server] table and the command line, checked: the listen address, the bearer token (read
// from its environment variable, required off loopback), export roots that exist.

#include <string>

#include "haul/expected.hpp"
#include "runtime/job_file.hpp"
#include "runtime/service/api_server.hpp"

namespace haul::cli {

/// `listen`: --listen, empty for the file's. Fails with invalid_argument, one problem a line,
/// each "FILE:LINE:COLUMN: server.KEY: what" at the key it is about; a bad `listen` alone,
/// as "--listen: what".
expected<service::api_options> api_options_of(const job_file& f, const std::string& listen);

} // namespace haul::cli
