#pragma once

#include <string>

namespace haul::cli {

struct run_args {
  std::string file;
  std::string store; ///< Empty: the file's [runtime] store, else ".haul".
  bool quiet = false;
};

struct status_args {
  std::string store = ".haul";
  bool json = false;
};

struct retry_args {
  std::string job;
  std::string store = ".haul";
};

int run_command(const run_args& args);
int retry_command(const retry_args& args);
int status_command(const status_args& args);

} // namespace haul::cli
