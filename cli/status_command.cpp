// haul status: reads the store as a RocksDB secondary, so it works while another haul
// process runs it.

#include <iostream>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "runtime/status_json.hpp"

namespace haul::cli {

int status_command(const status_args& args) {
  auto st = read_store_status(args.store);
  if (!st) {
    std::cerr << "haul: " << st.error().message << "\n";
    return st.error().code == errc::not_found ? exit_usage : exit_code_for(st.error());
  }
  if (args.json)
    std::cout << status_json(*st) << "\n";
  else
    std::cout << status_text(*st);
  return exit_ok;
}

} // namespace haul::cli
