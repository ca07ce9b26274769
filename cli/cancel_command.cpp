// haul cancel JOB: pending tasks of the job never start, running ones are asked to stop (an
// export drops its partial output). Reaches the process running the store through its
// control socket; with none, changes the store directly.

#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/control_socket.hpp"
#include "cli/exit_codes.hpp"
#include "haul/runtime.hpp"
#include "runtime/logging.hpp"

namespace haul::cli {

namespace {

std::string error_in(const std::string& body) {
  auto doc = nlohmann::json::parse(body, nullptr, false);
  return doc.is_object() && doc.contains("error") ? doc["error"].get<std::string>() : body;
}

} // namespace

int job_command_through_socket(const std::string& store, const std::string& job,
                               const std::string& action, std::string& id, std::string& body) {
  auto jobs = call_control(store, "GET", "/jobs");
  if (!jobs)
    return -1;
  id = job_id_in(jobs->body, job);
  return post_job_action(store, id, action, body);
}

int post_job_action(const std::string& store, const std::string& id, const std::string& action,
                    std::string& body) {
  auto a = call_control(store, "POST", "/jobs/" + id + "/" + action);
  if (!a)
    return -1;
  if (a->status != 200) {
    std::cerr << "haul: " << error_in(a->body) << "\n";
    return a->status == 404 ? exit_usage : exit_error;
  }
  body = a->body;
  return exit_ok;
}

expected<runtime> open_store_directly(const std::string& store) {
  log::configure(log::level::warn, log::format::text);
  runtime_options opts;
  opts.store = store;
  auto rt = runtime::open(opts);
  if (!rt)
    std::cerr << "haul: " << rt.error().message << "\n";
  return rt;
}

std::string job_id_of(const runtime& rt, const std::string& job) {
  for (const auto& j : rt.jobs())
    if (j.name == job)
      return j.id;
  return job;
}

int cancel_command(const cancel_args& args) {
  std::string id, body;
  if (int code = job_command_through_socket(args.store, args.job, "cancel", id, body); code >= 0) {
    if (code == exit_ok) {
      auto state = nlohmann::json::parse(body).value("state", "unknown");
      std::cout << id << ": cancelled"
                << (state == "cancelled" ? "" : " (running tasks are stopping)") << "\n";
    }
    return code;
  }
  auto rt = open_store_directly(args.store);
  if (!rt)
    return exit_code_for(rt.error());
  id = job_id_of(*rt, args.job);
  auto ok = rt->cancel(id);
  auto st = ok ? rt->status(id) : expected<job_status>(ok.error());
  rt->stop(); // waits for the kind to drop what the job's idle tasks left outside haul
  if (!st) {
    std::cerr << "haul: " << st.error().message << "\n";
    return st.error().code == errc::not_found ? exit_usage : exit_error;
  }
  std::cout << id << ": cancelled (state " << to_string(st->state) << ")\n";
  return exit_ok;
}

} // namespace haul::cli
