// haul pause JOB|--all and haul resume JOB|--all: a paused job starts nothing new (running
// tasks finish) and stays paused, across restarts, until resumed. Through the control socket
// of the process running the store, or directly in the store when none answers.

#include <iostream>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/control_socket.hpp"
#include "cli/exit_codes.hpp"
#include "haul/runtime.hpp"

namespace haul::cli {

namespace {

/// The jobs the command is about: JOB (an id or a name), or with --all every unfinished job.
std::vector<std::string> targets(const pause_args& args, const std::vector<job_status>& jobs) {
  std::vector<std::string> out;
  for (const auto& j : jobs)
    if (args.all ? !is_finished(j.state) : (j.id == args.job || j.name == args.job))
      out.push_back(j.id);
  if (!args.all && out.empty())
    out.push_back(args.job); // unknown: let the runtime say so
  return out;
}

std::vector<job_status> statuses_in(const std::string& jobs_json) {
  std::vector<job_status> out;
  auto doc = nlohmann::json::parse(jobs_json, nullptr, false);
  if (!doc.is_object() || !doc.contains("jobs"))
    return out;
  for (const auto& j : doc["jobs"]) {
    job_status s;
    s.id = j.value("id", "");
    s.name = j.value("name", "");
    auto state = j.value("state", "");
    s.state = state == "succeeded"                 ? job_state::succeeded
              : state == "completed_with_failures" ? job_state::completed_with_failures
              : state == "failed"                  ? job_state::failed
              : state == "cancelled"               ? job_state::cancelled
                                                   : job_state::running;
    out.push_back(std::move(s));
  }
  return out;
}

} // namespace

int pause_command(const pause_args& args) {
  if (args.all == !args.job.empty()) {
    std::cerr << "haul: name one JOB, or --all\n";
    return exit_usage;
  }
  const char* action = args.resume ? "resume" : "pause";
  const char* done = args.resume ? "resumed" : "paused";
  int code = exit_ok;
  if (auto listed = call_control(args.store, "GET", "/jobs")) {
    for (const auto& id : targets(args, statuses_in(listed->body))) {
      std::string sid, body;
      int c = job_command_through_socket(args.store, id, action, sid, body);
      if (c < 0) {
        std::cerr << "haul: the running haul process went away\n";
        return exit_error;
      }
      if (c == exit_ok)
        std::cout << sid << ": " << done << "\n";
      else
        code = c;
    }
    return code;
  }
  auto rt = open_store_directly(args.store);
  if (!rt)
    return exit_code_for(rt.error());
  for (const auto& id : targets(args, rt->jobs())) {
    auto ok = args.resume ? rt->resume(id) : rt->pause(id);
    if (ok) {
      std::cout << id << ": " << done << "\n";
      continue;
    }
    std::cerr << "haul: " << ok.error().message << "\n";
    code = ok.error().code == errc::not_found ? exit_usage : exit_error;
  }
  rt->stop();
  return code;
}

} // namespace haul::cli
