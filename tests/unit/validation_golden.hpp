#pragma once

// What `haul validate` prints for a job file, for the golden tests of its messages: every
// problem as one whole line, FILE:LINE:COLUMN included, compared as text.

#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "cli/server_options.hpp"
#include "runtime/job_validation.hpp"
#include "tests/unit/test_util.hpp"

namespace haul::test {

/// Environment variables the golden files name: two that are set, one that never is.
inline void set_golden_env() {
  ::setenv("HAUL_GOLDEN_KEY", "AKIDEXAMPLE", 1);
  ::setenv("HAUL_GOLDEN_SECRET", "secret", 1);
  ::unsetenv("HAUL_GOLDEN_UNSET");
}

/// Sets (or, with nullopt, unsets) an environment variable until the end of the scope.
class scoped_env {
 public:
  scoped_env(std::string name, std::optional<std::string> value)
      : name_(std::move(name)) {
    if (const char* old = std::getenv(name_.c_str()))
      old_ = old;
    if (value)
      ::setenv(name_.c_str(), value->c_str(), 1);
    else
      ::unsetenv(name_.c_str());
  }
  ~scoped_env() {
    if (old_)
      ::setenv(name_.c_str(), old_->c_str(), 1);
    else
      ::unsetenv(name_.c_str());
  }
  scoped_env(const scoped_env&) = delete;
  scoped_env& operator=(const scoped_env&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}

/// The problems `haul validate` reports for `text`, read as "jobs.toml", in its order: the
/// parser's alone when there are any, else each job kind's, then the [server] checks that
/// `haul serve` makes (with `listen` as its --listen).
inline std::vector<std::string> validate_text(const std::string& text,
                                              const std::string& listen = "") {
  auto f = parse_job_file(text, "jobs.toml");
  if (!f)
    return lines_of(f.error().message);
  kind_registry kinds;
  add_builtin_kinds(kinds);
  auto out = check_job_kinds(*f, kinds);
  if (f->server || !listen.empty())
    if (auto o = cli::api_options_of(*f, listen); !o)
      for (auto& line : lines_of(o.error().message))
        out.push_back(line);
  return out;
}

/// One golden case: lines appended to a file's head, and every problem they cause.
struct golden_case {
  std::string lines;
  std::vector<std::string> problems;
};

/// Checks each case's whole output against its problems, naming the case when one differs.
inline void check_golden(const std::string& head, const std::vector<golden_case>& cases) {
  for (const auto& c : cases)
    BOOST_TEST_CONTEXT("lines:\n" << c.lines) {
      BOOST_TEST(joined(validate_text(head + c.lines)) == joined(c.problems));
    }
}

} // namespace haul::test
