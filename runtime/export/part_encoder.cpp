#include "runtime/export/part_encoder.hpp"

#include <zlib.h>
#include <zstd.h>

namespace haul::exporter {

namespace {

constexpr std::size_t out_step = 64 * 1024;

class plain_encoder final : public part_encoder {
 public:
  expected<void> write(std::string_view text, std::string& out) override {
    out.append(text);
    return {};
  }
  expected<void> finish(std::string&) override { return {}; }
};

class gzip_encoder final : public part_encoder {
 public:
  explicit gzip_encoder(int level)
      : level_(level) {}
  ~gzip_encoder() override {
    if (open_)
      deflateEnd(&z_);
  }

  expected<void> write(std::string_view text, std::string& out) override {
    if (auto ok = begin(); !ok)
      return ok;
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    z_.avail_in = static_cast<uInt>(text.size());
    while (z_.avail_in > 0)
      if (auto ok = pump(Z_NO_FLUSH, out); !ok)
        return ok;
    return {};
  }

  expected<void> finish(std::string& out) override {
    if (auto ok = begin(); !ok)
      return ok;
    int rc;
    do {
      auto at = out.size();
      out.resize(at + out_step);
      z_.next_out = reinterpret_cast<Bytef*>(out.data() + at);
      z_.avail_out = static_cast<uInt>(out_step);
      rc = deflate(&z_, Z_FINISH);
      out.resize(out.size() - z_.avail_out);
    } while (rc == Z_OK);
    if (rc != Z_STREAM_END)
      return make_error(errc::internal, "gzip: deflate failed to finish");
    deflateEnd(&z_);
    open_ = false;
    return {};
  }

 private:
  expected<void> begin() {
    if (open_)
      return {};
    z_ = z_stream{};
    // windowBits 15 + 16: a gzip wrapper, whose header zlib writes with mtime 0, no name.
    if (deflateInit2(&z_, level_, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
      return make_error(errc::internal, "gzip: cannot start a compressor");
    open_ = true;
    return {};
  }

  expected<void> pump(int flush, std::string& out) {
    auto at = out.size();
    out.resize(at + out_step);
    z_.next_out = reinterpret_cast<Bytef*>(out.data() + at);
    z_.avail_out = static_cast<uInt>(out_step);
    int rc = deflate(&z_, flush);
    out.resize(out.size() - z_.avail_out);
    if (rc != Z_OK && rc != Z_BUF_ERROR)
      return make_error(errc::internal, "gzip: deflate failed");
    return {};
  }

  int level_;
  z_stream z_{};
  bool open_ = false;
};

class zstd_encoder final : public part_encoder {
 public:
  explicit zstd_encoder(int level)
      : level_(level)
      , cctx_(ZSTD_createCCtx()) {}
  ~zstd_encoder() override { ZSTD_freeCCtx(cctx_); }

  expected<bool> setup() {
    if (!cctx_)
      return make_error(errc::internal, "zstd: cannot create a compressor");
    auto rc = ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, level_);
    if (!ZSTD_isError(rc))
      rc = ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 1);
    if (ZSTD_isError(rc))
      return make_error(errc::invalid_argument, std::string("zstd: ") + ZSTD_getErrorName(rc));
    return true;
  }

  expected<void> write(std::string_view text, std::string& out) override {
    ZSTD_inBuffer in{text.data(), text.size(), 0};
    while (in.pos < in.size)
      if (auto ok = pump(in, ZSTD_e_continue, out); !ok)
        return ok.error();
    return {};
  }

  expected<void> finish(std::string& out) override {
    ZSTD_inBuffer in{nullptr, 0, 0};
    for (;;) {
      auto left = pump(in, ZSTD_e_end, out);
      if (!left)
        return left.error();
      if (*left == 0)
        return {};
    }
  }

 private:
  expected<std::size_t> pump(ZSTD_inBuffer& in, ZSTD_EndDirective mode, std::string& out) {
    auto at = out.size();
    out.resize(at + out_step);
    ZSTD_outBuffer o{out.data() + at, out_step, 0};
    auto rc = ZSTD_compressStream2(cctx_, &o, &in, mode);
    out.resize(at + o.pos);
    if (ZSTD_isError(rc))
      return make_error(errc::internal, std::string("zstd: ") + ZSTD_getErrorName(rc));
    return rc;
  }

  int level_;
  ZSTD_CCtx* cctx_;
};

} // namespace

std::string_view to_string(compression c) {
  switch (c) {
  case compression::gzip:
    return "gzip";
  case compression::zstd:
    return "zstd";
  default:
    return "none";
  }
}

std::string_view suffix_of(compression c) {
  switch (c) {
  case compression::gzip:
    return ".gz";
  case compression::zstd:
    return ".zst";
  default:
    return "";
  }
}

expected<std::unique_ptr<part_encoder>> make_part_encoder(compression c, int level) {
  switch (c) {
  case compression::gzip:
    if (level < 0 || level > 9)
      return make_error(errc::invalid_argument, "compression_level: gzip takes 1 to 9");
    return std::unique_ptr<part_encoder>(
        std::make_unique<gzip_encoder>(level == 0 ? Z_DEFAULT_COMPRESSION : level));
  case compression::zstd: {
    if (level < 0 || level > ZSTD_maxCLevel())
      return make_error(errc::invalid_argument,
                        "compression_level: zstd takes 1 to " + std::to_string(ZSTD_maxCLevel()));
    auto z = std::make_unique<zstd_encoder>(level == 0 ? ZSTD_CLEVEL_DEFAULT : level);
    if (auto ok = z->setup(); !ok)
      return ok.error();
    return std::unique_ptr<part_encoder>(std::move(z));
  }
  default:
    return std::unique_ptr<part_encoder>(std::make_unique<plain_encoder>());
  }
}

} // namespace haul::exporter
