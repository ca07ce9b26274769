// haul validate FILE: every problem of a job file at once, as FILE:LINE:COLUMN, without
// opening a store or running anything. Exit 0 when valid, 2 otherwise.

#include <iostream>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/server_options.hpp"
#include "runtime/job_validation.hpp"

namespace haul::cli {

bool report_kind_problems(const job_file& f) {
  kind_registry kinds;
  add_builtin_kinds(kinds);
  auto problems = check_job_kinds(f, kinds);
  for (const auto& p : problems)
    std::cerr << p << "\n";
  return !problems.empty();
}

int validate_command(const validate_args& args) {
  auto file = load_jobs_for(args.file, {});
  if (!file)
    return exit_usage;
  bool bad = report_kind_problems(*file);
  if (file->server) {
    if (auto o = api_options_of(*file, {}); !o) {
      std::cerr << o.error().message << "\n";
      bad = true;
    }
  } else if (file->jobs.empty()) {
    std::cerr << file->path << ": no [[job]] entries: nothing to run\n";
    bad = true;
  }
  if (bad)
    return exit_usage;
  std::cout << file->path << ": valid, " << file->jobs.size()
            << (file->jobs.size() == 1 ? " job" : " jobs")
            << (file->server ? " and a [server] table" : "") << "\n";
  return exit_ok;
}

} // namespace haul::cli
