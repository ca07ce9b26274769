#include "runtime/export/export_kind.hpp"

#include <memory>
#include <mutex>

#include "runtime/export/export_checkpoint.hpp"
#include "runtime/export/export_config.hpp"
#include "runtime/export/export_run.hpp"
#include "runtime/export/export_target.hpp"
#include "runtime/export/source_snapshot.hpp"
#include "runtime/logging.hpp"
#include "runtime/upload/transfer_engine.hpp"

namespace haul {

namespace {

/// The kind's shared state: one libcurl event loop for every S3 export, started when the
/// first one needs it.
class exporter_state {
 public:
  explicit exporter_state(export_kind_options options)
      : options_(std::move(options)) {}

  outcome run(task_context& ctx) {
    auto config = exporter::parse_export_config(ctx.params());
    if (!config)
      return outcome::fail(config.error().message);
    exporter::target_services services;
    services.now = options_.now;
    services.cancelled = [&ctx] { return ctx.stop_requested(); };
    if (config->target == exporter::export_config::target_type::s3) {
      services.engine = engine();
      if (!services.engine)
        return outcome::cancelled(); // the runtime is stopping
    }
    return exporter::run_export(ctx, *config, std::move(services));
  }

  /// A cancelled export whose task was not running: its partial file or multipart upload.
  void discard(const job_params& params, const std::string& checkpoint) {
    auto cp = exporter::decode_checkpoint(checkpoint);
    auto config = exporter::parse_export_config(params);
    if (!cp || !config)
      return;
    exporter::target_services services;
    services.now = options_.now;
    if (config->target == exporter::export_config::target_type::s3) {
      services.engine = engine();
      if (!services.engine)
        return; // the runtime is stopping
    }
    auto target = exporter::make_export_target(*config, std::move(services));
    auto why = target ? (*target)->discard(*cp) : target.error().message;
    if (why.empty())
      log::info("export cancelled: its output so far is dropped",
                {log::str("target", params.at("target"))});
    else
      log::warn("export cancelled: could not drop its output so far",
                {log::str("target", params.at("target")), log::str("why", why)});
  }

  void stop() {
    std::unique_ptr<upload::transfer_engine> engine;
    {
      std::lock_guard lock(mutex_);
      stopped_ = true;
      engine = std::move(engine_);
    }
    if (engine)
      engine->stop();
  }

 private:
  upload::transfer_engine* engine() {
    std::lock_guard lock(mutex_);
    if (stopped_)
      return nullptr;
    if (!engine_)
      engine_ = std::make_unique<upload::transfer_engine>();
    return engine_.get();
  }

  export_kind_options options_;
  std::mutex mutex_;
  std::unique_ptr<upload::transfer_engine> engine_;
  bool stopped_ = false;
};

} // namespace

kind_entry make_export_kind(export_kind_options options) {
  auto state = std::make_shared<exporter_state>(std::move(options));
  kind_entry k;
  k.name = "export";
  k.run = [state](task_context& ctx) { return state->run(ctx); };
  // One input, the source's fingerprint: the job's id covers it, so exporting a database
  // that changed since the last export is a new job (a finished export of unchanged data
  // is not redone), and a stale unfinished one is dropped rather than continued.
  k.list = [](const job_params& params, input_sink& out) -> expected<void> {
    auto config = exporter::parse_export_config(params);
    if (!config)
      return config.error();
    auto fp = exporter::source_fingerprint(config->source);
    if (!fp)
      return fp.error();
    return out.add(*fp);
  };
  k.validate = [](const job_params& p) {
    auto c = exporter::parse_export_config(p);
    return c ? std::string() : c.error().message;
  };
  k.describe = [](std::string_view) { return std::string("export"); };
  k.stop = [state] { state->stop(); };
  k.discard = [state](const job_params& params, const std::string& checkpoint) {
    state->discard(params, checkpoint);
  };
  k.keep_final_checkpoint = true; // the export's summary: tables, rows, parts, bytes
  return k;
}

} // namespace haul
