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

struct job_ref {
  std::string id;
  std::string name;
  bool finished = false;
};

/// The jobs the command is about: JOB (an id or a name), or with --all every unfinished job.
std::vector<std::string> targets(const pause_args& args, const std::vector<job_ref>& jobs) {
  std::vector<std::string> out;
  for (const auto& j : jobs)
    if (args.all ? !j.finished : (j.id == args.job || j.name == args.job))
      out.push_back(j.id);
  if (!args.all && out.empty())
    out.push_back(args.job); // unknown: let the runtime say so
  return out;
}

/// The jobs of a GET /jobs answer.
std::vector<job_ref> jobs_in(const std::string& jobs_json) {
  std::vector<job_ref> out;
  auto doc = nlohmann::json::parse(jobs_json, nullptr, false);
  if (!doc.is_object() || !doc.contains("jobs"))
    return out;
  for (const auto& j : doc["jobs"]) {
    auto state = j.value("state", "");
    out.push_back({j.value("id", ""), j.value("name", ""),
                   state == "succeeded" || state == "completed_with_failures" ||
                       state == "failed" || state == "cancelled"});
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
    for (const auto& id : targets(args, jobs_in(listed->body))) {
      std::string body;
      int c = post_job_action(args.store, id, action, body);
      if (c < 0) {
        std::cerr << "haul: the running haul process went away\n";
        return exit_error;
      }
      if (c == exit_ok)
        std::cout << id << ": " << done << "\n";
      else
        code = c;
    }
    return code;
  }
  auto rt = open_store_directly(args.store);
  if (!rt)
    return exit_code_for(rt.error());
  std::vector<job_ref> stored;
  for (const auto& j : rt->jobs())
    stored.push_back({j.id, j.name, is_finished(j.state)});
  for (const auto& id : targets(args, stored)) {
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
