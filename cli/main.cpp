// haul: the command line. Subcommands and their exit codes are a contract; see
// docs/operations.md.

#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"

int main(int argc, char** argv) {
  using namespace haul::cli;
  CLI::App app{"haul: a durable job runtime. Runs bulk jobs to the end, and resumes exactly "
               "where it stopped after a crash or a kill."};
  app.set_version_flag("--version", std::string("haul ") + HAUL_VERSION);
  app.require_subcommand(1);
  app.footer("Exit codes: 0 all jobs succeeded, 1 runtime or store error, 2 usage or invalid "
             "job file,\n3 completed_with_failures, 4 a job failed or was cancelled, 5 store "
             "busy or of\nan unknown format, 130/143 interrupted by SIGINT/SIGTERM.\n"
             "Run 'haul help SUBCOMMAND' for the options of a subcommand.");

  run_args run;
  auto* run_cmd = app.add_subcommand("run", "Run every job in FILE to the end, resuming any "
                                            "earlier progress in the store");
  run_cmd->add_option("FILE", run.file, "The job file (TOML)")->required();
  run_cmd->add_option("--store", run.store, "The store directory (overrides [runtime] store)");
  run_cmd->add_flag("--quiet,-q", run.quiet, "Only warnings and errors");

  serve_args serve;
  auto* serve_cmd = app.add_subcommand(
      "serve", "Run the jobs in FILE as 'run' does, then stay up with the HTTP API (exports, "
               "job control, health) until SIGINT/SIGTERM");
  serve_cmd->add_option("FILE", serve.file, "The job file (TOML), with an optional [server] table")
      ->required();
  serve_cmd->add_option("--listen", serve.listen,
                        "HOST:PORT to listen on (overrides [server] listen; port 0 picks one)");
  serve_cmd->add_option("--store", serve.store, "The store directory (overrides [runtime] store)");

  status_args status;
  auto* status_cmd = app.add_subcommand(
      "status", "Show the jobs in a store: state, done/failed/in-flight/total; works while "
                "another haul process runs the store");
  status_cmd->add_option("--store", status.store, "The store directory")->capture_default_str();
  status_cmd->add_flag("--json", status.json,
                       "Print JSON: {\"jobs\": [...]} (with --watch, one document a line)");
  status_cmd->add_flag("--watch,-w", status.watch,
                       "Show it again every --interval until every job has ended and no haul "
                       "process runs the store (then exit as 'haul run' would), or Ctrl-C");
  status_cmd->add_option("--interval", status.interval, "The period of --watch")
      ->capture_default_str();

  retry_args retry;
  auto* retry_cmd = app.add_subcommand(
      "retry", "Queue a job's dead-letter tasks again with fresh attempts; a running 'haul "
               "serve' runs them at once, else the job's next run sends them");
  retry_cmd->add_option("JOB", retry.job, "The job id or name (see 'haul status')")->required();
  retry_cmd->add_option("--store", retry.store, "The store directory")->capture_default_str();

  validate_args validate;
  auto* validate_cmd = app.add_subcommand(
      "validate", "Check a job file, kinds' keys included, without running anything; every "
                  "problem is printed as FILE:LINE:COLUMN");
  validate_cmd->add_option("FILE", validate.file, "The job file (TOML)")->required();

  cancel_args cancel;
  auto* cancel_cmd = app.add_subcommand(
      "cancel", "Cancel a job: its pending tasks never start, running ones stop; reaches a "
                "running haul process through its control socket");
  cancel_cmd->add_option("JOB", cancel.job, "The job id or name (see 'haul status')")->required();
  cancel_cmd->add_option("--store", cancel.store, "The store directory")->capture_default_str();

  inspect_args inspect;
  auto* inspect_cmd = app.add_subcommand(
      "inspect", "Show one job in detail: params, and its tasks on record with attempts, last "
                 "errors and checkpoints; works while another haul process runs the store");
  inspect_cmd->add_option("JOB", inspect.job, "The job id or name")->required();
  inspect_cmd->add_option("--store", inspect.store, "The store directory")->capture_default_str();
  inspect_cmd->add_flag("--json", inspect.json, "Print JSON");
  inspect_cmd->add_option("--limit", inspect.limit, "Tasks shown at most")->capture_default_str();

  pause_args pause;
  auto* pause_cmd = app.add_subcommand(
      "pause", "Pause a job (or --all): nothing new starts, running tasks finish; it stays "
               "paused across restarts until 'haul resume'");
  pause_args resume;
  resume.resume = true;
  auto* resume_cmd = app.add_subcommand("resume", "Resume a paused job (or --all)");
  for (auto [cmd, a] : {std::pair{pause_cmd, &pause}, std::pair{resume_cmd, &resume}}) {
    cmd->add_option("JOB", a->job, "The job id or name");
    cmd->add_flag("--all", a->all, "Every unfinished job in the store");
    cmd->add_option("--store", a->store, "The store directory")->capture_default_str();
  }

  std::string help_topic;
  auto* help_cmd = app.add_subcommand("help", "Show help for a subcommand");
  help_cmd->add_option("SUBCOMMAND", help_topic,
                       "run, serve, validate, status, inspect, cancel, retry, pause or resume");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : exit_usage;
  }
  if (*help_cmd) {
    if (help_topic.empty()) {
      std::cout << app.help();
      return exit_ok;
    }
    try {
      std::cout << app.get_subcommand(help_topic)->help();
      return exit_ok;
    } catch (const CLI::OptionNotFound&) {
      std::cerr << "haul: no subcommand '" << help_topic << "'\n";
      return exit_usage;
    }
  }
  if (*run_cmd)
    return run_command(run);
  if (*serve_cmd)
    return serve_command(serve);
  if (*pause_cmd)
    return pause_command(pause);
  if (*resume_cmd)
    return pause_command(resume);
  if (*inspect_cmd)
    return inspect_command(inspect);
  if (*cancel_cmd)
    return cancel_command(cancel);
  if (*validate_cmd)
    return validate_command(validate);
  if (*status_cmd)
    return status_command(status);
  if (*retry_cmd)
    return retry_command(retry);
  return exit_usage;
}
