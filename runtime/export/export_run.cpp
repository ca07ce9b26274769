#include "runtime/export/export_run.hpp"

#include <future>
#include <thread>

#include "runtime/export/chunk_queue.hpp"
#include "runtime/export/part_encoder.hpp"
#include "runtime/export/source_snapshot.hpp"
#include "runtime/logging.hpp"

namespace haul::exporter {

namespace {

// The reader hands over whole statements in pieces of about this much text. Small enough
// that a part ends close to part_size; large enough that hand-overs cost nothing.
constexpr std::size_t chunk_text = 256 * 1024;
constexpr std::size_t chunks_ahead = 4;

std::string settings_of(const export_config& c) {
  return std::string(to_string(c.codec)) + ":" + std::to_string(c.level) + ":" +
         std::to_string(c.part_size);
}

/// Turns a source failure into the task's outcome: a database that cannot be read as one is
/// permanent; a locked or busy one may pass.
outcome source_failure(const error& e) {
  if (e.code == errc::invalid_argument || e.message.find("not a database") != std::string::npos ||
      e.message.find("unable to open") != std::string::npos)
    return outcome::fail(e.message);
  return outcome::retry(e.message);
}

class export_run {
 public:
  export_run(task_context& ctx, const export_config& config, export_target& target)
      : ctx_(ctx)
      , config_(config)
      , target_(target) {}

  outcome run() {
    auto snapshot = open_snapshot(config_.source);
    if (!snapshot)
      return source_failure(snapshot.error());
    cp_ = start_point(*snapshot);
    if (!cp_.complete) {
      if (auto failed = target_.open(cp_))
        return *failed;
      ctx_.heartbeat(encode_checkpoint(cp_)); // the upload id, before any part refers to it
      if (auto stopped = write_parts(*snapshot))
        return *stopped;
    }
    snapshot->db.reset(); // the snapshot ends; writers in rollback mode may go on
    if (auto failed = target_.finish(cp_)) {
      if (!cp_.complete) // the target started the output over: the next attempt does too
        ctx_.heartbeat(encode_checkpoint(cp_));
      return *failed;
    }
    log::info("export finished",
              {log::str("job", std::string(ctx_.job_id())), log::num("parts", cp_.parts.size()),
               log::num("bytes", cp_.bytes()), log::num("rows", cp_.position.rows)});
    return outcome::success(cp_.bytes());
  }

 private:
  /// The checkpoint to continue from, or a fresh one. An old checkpoint is only continued
  /// when the source, its schema and the output settings are what it was made from.
  export_checkpoint start_point(const source_snapshot& snap) {
    export_checkpoint fresh;
    fresh.fingerprint = snap.fingerprint;
    fresh.schema_digest = snap.plan.schema_digest;
    fresh.settings = settings_of(config_);
    fresh.tables = static_cast<std::uint32_t>(snap.plan.tables.size());
    auto old = decode_checkpoint(ctx_.checkpoint());
    if (old && old->complete) // every part came from the old snapshot: finishing it is exact
      return *old;
    // For progress only (a bar that moves within a table); a failure leaves it unknown.
    if (auto rows = estimate_rows(snap.db.get(), snap.plan))
      fresh.rows_estimate = *rows;
    if (!old)
      return fresh;
    std::string why;
    if (old->fingerprint != fresh.fingerprint || old->schema_digest != fresh.schema_digest)
      why = "the source database changed since the export started";
    else if (old->settings != fresh.settings)
      why = "the output settings changed since the export started";
    if (why.empty()) {
      old->rows_estimate = fresh.rows_estimate; // the same source: the same estimate
      return *old;
    }
    auto dropped = target_.discard(*old);
    if (!dropped.empty())
      log::warn("export: could not drop the earlier output", {log::str("why", dropped)});
    log::warn("export restarts from the beginning",
              {log::str("job", std::string(ctx_.job_id())), log::str("why", why)});
    ctx_.heartbeat(encode_checkpoint(fresh));
    return fresh;
  }

  /// Writes parts until the dump ends. Returns an outcome when the run must end early.
  std::optional<outcome> write_parts(source_snapshot& snap) {
    auto encoder = make_part_encoder(config_.codec, config_.level);
    if (!encoder)
      return outcome::fail(encoder.error().message);
    chunk_queue queue(chunks_ahead);
    std::thread reader([&] { read_dump(snap, queue); });
    auto result = encode_parts(**encoder, queue);
    queue.close();
    reader.join();
    if (pending_.valid()) // stopped or failed with a part in flight: keep it if it made it
      if (auto r = pending_.get(); !r.failure)
        accept(r);
    return result;
  }

  void read_dump(source_snapshot& snap, chunk_queue& queue) {
    dump_reader reader(snap.db.get(), snap.plan, cp_.position);
    for (;;) {
      dump_chunk c;
      c.text.reserve(chunk_text + chunk_text / 4);
      auto more = reader.fill(c.text, chunk_text);
      if (!more) {
        c.failure = more.error();
        queue.push(std::move(c));
        return;
      }
      c.end = reader.position();
      c.tables_done = reader.tables_done();
      c.last = !*more;
      bool last = c.last;
      if (!queue.push(std::move(c)) || last)
        return;
    }
  }

  std::optional<outcome> encode_parts(part_encoder& encoder, chunk_queue& queue) {
    std::string encoded; // the encoder's output for one chunk, handed on at once
    encoded.reserve(chunk_text + chunk_text / 4);
    std::uint64_t part_text = 0;
    for (;;) {
      if (ctx_.stop_requested())
        return stopped();
      auto c = queue.pop();
      if (!c)
        return stopped();
      if (c->failure)
        return source_failure(*c->failure);
      encoded.clear();
      if (auto ok = encoder.write(c->text, encoded); !ok)
        return outcome::fail(ok.error().message);
      part_text += c->text.size();
      const bool full = target_.part_bytes() + encoded.size() >= config_.part_size;
      if ((full || c->last))
        if (auto ok = encoder.finish(encoded); !ok)
          return outcome::fail(ok.error().message);
      if (auto failed = target_.append(encoded))
        return failed;
      ctx_.heartbeat();
      if (!full && !c->last)
        continue;
      // One part in flight: wait for the one before and record it, then seal this one.
      if (auto failed = take_pending())
        return failed;
      next_ = cp_;
      next_.parts.push_back({{}, target_.part_bytes()});
      next_.position = c->end;
      next_.text_bytes += part_text;
      next_.tables_done = c->tables_done;
      next_.complete = c->last;
      auto number = static_cast<std::uint32_t>(next_.parts.size());
      pending_ = std::async(std::launch::async, target_.seal_part(number));
      part_text = 0;
      if (c->last)
        return take_pending();
    }
  }

  /// Waits for the part in flight and records it; returns how the run ends if it failed.
  std::optional<outcome> take_pending() {
    if (!pending_.valid())
      return std::nullopt;
    auto r = pending_.get();
    if (!r.failure) {
      accept(r);
      return std::nullopt;
    }
    if (ctx_.stop_requested()) // the transfer was aborted because the run must stop
      return stopped();
    return r.failure;
  }

  /// The pending part is written: it becomes part of the checkpoint.
  void accept(const part_receipt& r) {
    next_.parts.back().etag = r.etag;
    cp_ = next_;
    ctx_.heartbeat(encode_checkpoint(cp_));
  }

  outcome stopped() {
    if (!ctx_.cancel_requested())
      return outcome::cancelled();
    if (pending_.valid())
      pending_.get();
    auto dropped = target_.discard(cp_);
    if (!dropped.empty())
      log::warn("export cancelled; could not drop its partial output",
                {log::str("job", std::string(ctx_.job_id())), log::str("why", dropped)});
    return outcome::cancelled();
  }

  task_context& ctx_;
  const export_config& config_;
  export_target& target_;
  export_checkpoint cp_;   ///< Durable (or about to be): the parts written.
  export_checkpoint next_; ///< What cp_ becomes once the pending part is written.
  std::future<part_receipt> pending_;
};

} // namespace

outcome run_export(task_context& ctx, const export_config& config, target_services services) {
  auto target = make_export_target(config, std::move(services));
  if (!target)
    return outcome::fail(target.error().message);
  export_run run(ctx, config, **target);
  return run.run();
}

} // namespace haul::exporter
