#include "video_output.h"

#include <algorithm>
#include <filesystem>

#include "media/frame_convert.h"
#include "media/png_writer.h"

namespace frugal::cli {

using namespace frugal::video;  // NOLINT: the video half's types in the video commands

Expected<std::vector<float>> read_raw_f32(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) return not_found("cannot open " + path);
  std::fseek(f.get(), 0, SEEK_END);
  const long size = std::ftell(f.get());
  std::fseek(f.get(), 0, SEEK_SET);
  if (size < 0 || size % 4 != 0) return invalid_argument(path + " is not a raw f32 file (size " + std::to_string(size) + ")");
  std::vector<float> v(static_cast<size_t>(size / 4));
  if (std::fread(v.data(), 4, v.size(), f.get()) != v.size()) return data_loss("short read: " + path);
  return v;
}

Status write_raw_f32(const std::string& path, const float* data, int64_t n) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!f) return not_found("cannot create " + path);
  if (std::fwrite(data, 4, static_cast<size_t>(n), f.get()) != static_cast<size_t>(n)) {
    return internal_error("write failed: " + path);
  }
  if (std::fclose(f.release()) != 0) return internal_error("write failed: " + path);
  return Status::ok();
}

Status parse_size(const std::string& text, int64_t* width, int64_t* height) {
  if (!video::parse_video_size(text, width, height)) {
    return invalid_argument("--size must be WIDTHxHEIGHT (e.g. 832x480), not \"" + text + "\"");
  }
  return Status::ok();
}

void VideoSettingsFlags::add_to(CLI::App* cmd) {
  size_opt = cmd->add_option("--size", size, "WIDTHxHEIGHT, multiples of 16")->capture_default_str();
  frames_opt = cmd->add_option("--frames", frames, "Frames, 4n+1")->capture_default_str();
  steps_opt = cmd->add_option("--steps", steps, "Sampler steps")->capture_default_str();
  sampler_opt = cmd->add_option("--sampler", sampler, "unipc | dpm++ | euler")->capture_default_str();
  shift_opt = cmd->add_option("--shift", shift, "Sigma shift")->capture_default_str();
  cfg_opt = cmd->add_option("--cfg", cfg, "Guidance scale (1 = no negative pass)")->capture_default_str();
  cmd->add_option("--attention", attention, "DiT self-attention: dense | sliding-tile | block-sparse")->capture_default_str();
  cmd->add_option("--attention-tile", attention_tile, "Attention tile T,H,W in latent tokens")->capture_default_str();
  cmd->add_option("--attention-window", attention_window, "sliding-tile: window T,H,W in tiles")->capture_default_str();
  cmd->add_option("--attention-keep", attention_keep, "block-sparse: fraction of key tiles kept per query tile")
      ->capture_default_str();
  cmd->add_option("--attention-rest", attention_rest,
                  "sparse modes: key tiles not attended are dropped, or pooled (one mean row each)")
      ->capture_default_str();
  cmd->add_option("--attention-warmup", attention_warmup, "Fraction of the steps, from the first, attended densely")
      ->capture_default_str();
  cmd->add_option("--step-cache", step_cache, "Step caching threshold (accumulated relative change; 0 = off)")
      ->capture_default_str();
  cmd->add_option("--step-cache-mode", step_cache_mode, "A skipped pass: reuse | extrapolate (linear) | quadratic the blocks' residual")
      ->capture_default_str();
  cmd->add_option("--step-cache-max-skips", step_cache_max_skips, "Most consecutive skipped passes (0 = no cap)")
      ->capture_default_str();
  cmd->add_option("--step-cache-uncond", step_cache_uncond, "The unconditional branch's threshold / --step-cache")
      ->capture_default_str();
  cmd->add_option("--step-cache-cond", step_cache_cond, "The conditional branch's threshold / --step-cache (0: never skipped)")
      ->capture_default_str();
  cmd->add_option("--step-cache-uncond-max-skips", step_cache_uncond_max_skips,
                  "The unconditional branch's most consecutive skips (-1: --step-cache-max-skips)")
      ->capture_default_str();
  cmd->add_option("--step-cache-cfg", step_cache_cfg,
                  "A skipped unconditional pass: own (its cached residual) | delta (this step's conditional "
                  "residual + the cached difference)")
      ->capture_default_str();
  cmd->add_option("--step-cache-start", step_cache_start, "Skip passes only from this fraction of the steps on")
      ->capture_default_str();
  cmd->add_option("--step-cache-end", step_cache_end, "Skip passes only before this fraction of the steps")
      ->capture_default_str();
  cmd->add_flag("--step-cache-stagger", step_cache_stagger,
                "The unconditional branch starts skipping one step later (with --step-cache-max-skips 1 the two "
                "branches skip on alternate steps)");
  cmd->add_option("--step-cache-error-tol", step_cache_error_tol,
                  "Error control: skip only while the summed predicted relative error of the skipped residuals "
                  "(extrapolate mode; measured at every computed pass) stays below this (0 = off)")
      ->capture_default_str();
}

Status VideoSettingsFlags::apply_model_defaults(const std::string& model_dir) {
  auto loaded = video::load_generation_defaults(model_dir);
  if (!loaded) return loaded.error();
  const video::VideoGenerationDefaults& d = *loaded;
  const auto unset = [](const CLI::Option* o) { return o == nullptr || o->count() == 0; };
  if (d.size && unset(size_opt)) size = *d.size;
  if (d.frames && unset(frames_opt)) frames = *d.frames;
  if (d.steps && unset(steps_opt)) steps = *d.steps;
  if (d.sampler && unset(sampler_opt)) sampler = *d.sampler;
  if (d.shift && unset(shift_opt)) shift = *d.shift;
  if (d.cfg && unset(cfg_opt)) cfg = *d.cfg;
  return Status::ok();
}

Status VideoSettingsFlags::apply(video::VideoRequest& r) const {
  if (Status s = parse_size(size, &r.width, &r.height); !s) return s;
  r.frames = frames;
  r.steps = steps;
  auto kind = video::parse_sampler_kind(sampler);
  if (!kind) return kind.error();
  r.sampler = *kind;
  r.shift = shift;
  r.cfg = cfg;
  auto mode = parse_attention_mode(attention);
  if (!mode) return invalid_argument("--attention: " + mode.error().message());
  r.attention.mode = *mode;
  if (!video::parse_int_triple(attention_tile, &r.attention.tile)) {
    return invalid_argument("--attention-tile must be T,H,W (three positive integers), not \"" + attention_tile + "\"");
  }
  if (!video::parse_int_triple(attention_window, &r.attention.window)) {
    return invalid_argument("--attention-window must be T,H,W (three positive integers), not \"" + attention_window + "\"");
  }
  r.attention.keep = attention_keep;
  auto rest = parse_attention_rest(attention_rest);
  if (!rest) return invalid_argument("--attention-rest: " + rest.error().message());
  r.attention.rest = *rest;
  if (Status s = validate_tiled_attention(r.attention); !s) return invalid_argument("--attention-*: " + s.message());
  if (!(attention_warmup >= 0.0 && attention_warmup <= 1.0)) return invalid_argument("--attention-warmup must be in [0, 1]");
  r.attention_warmup = attention_warmup;
  if (!(step_cache >= 0.0 && step_cache <= 10.0)) return invalid_argument("--step-cache must be in [0, 10] (0 = off)");
  r.step_cache = step_cache;
  auto cache_mode = video::parse_step_cache_mode(step_cache_mode);
  if (!cache_mode) return invalid_argument("--step-cache-mode must be reuse, extrapolate or quadratic, not \"" + step_cache_mode + "\"");
  r.step_cache_mode = *cache_mode;
  if (step_cache_max_skips < 0 || step_cache_max_skips > 1000) {
    return invalid_argument("--step-cache-max-skips must be in [0, 1000] (0 = no cap)");
  }
  r.step_cache_max_skips = step_cache_max_skips;
  if (!(step_cache_uncond >= 0.0 && step_cache_uncond <= 100.0)) return invalid_argument("--step-cache-uncond must be in [0, 100]");
  r.step_cache_uncond = step_cache_uncond;
  if (!(step_cache_cond >= 0.0 && step_cache_cond <= 100.0)) return invalid_argument("--step-cache-cond must be in [0, 100]");
  r.step_cache_cond = step_cache_cond;
  if (step_cache_uncond_max_skips < -1 || step_cache_uncond_max_skips > 1000) {
    return invalid_argument("--step-cache-uncond-max-skips must be in [-1, 1000] (-1 = --step-cache-max-skips)");
  }
  r.step_cache_uncond_max_skips = step_cache_uncond_max_skips;
  if (step_cache_cfg != "own" && step_cache_cfg != "delta") {
    return invalid_argument("--step-cache-cfg must be own or delta, not \"" + step_cache_cfg + "\"");
  }
  r.step_cache_cfg_delta = step_cache_cfg == "delta";
  if (!(step_cache_start >= 0.0 && step_cache_start <= step_cache_end && step_cache_end <= 1.0)) {
    return invalid_argument("--step-cache-start / --step-cache-end need 0 <= start <= end <= 1");
  }
  r.step_cache_start = step_cache_start;
  r.step_cache_end = step_cache_end;
  r.step_cache_stagger = step_cache_stagger;
  if (!(step_cache_error_tol >= 0.0 && step_cache_error_tol <= 10.0)) {
    return invalid_argument("--step-cache-error-tol must be in [0, 10] (0 = off)");
  }
  r.step_cache_error_tol = step_cache_error_tol;
  return Status::ok();
}

Expected<std::vector<int32_t>> parse_token_ids(const std::string& text, const char* flag) {
  std::vector<int32_t> ids;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find(',', pos);
    if (end == std::string::npos) end = text.size();
    const std::string item = text.substr(pos, end - pos);
    char* stop = nullptr;
    const long long v = std::strtoll(item.c_str(), &stop, 10);
    if (item.empty() || *stop != '\0' || v < 0 || v > INT32_MAX) {
      return invalid_argument(std::string(flag) + ": \"" + item + "\" is not a token id");
    }
    ids.push_back(static_cast<int32_t>(v));
    pos = end + 1;
  }
  return ids;
}

Expected<std::unique_ptr<RawVideoFile>> RawVideoFile::create(const std::string& path, int64_t frames, int64_t height,
                                                             int64_t width) {
  std::unique_ptr<RawVideoFile> raw(new RawVideoFile());
  raw->path_ = path;
  raw->frames_ = frames;
  raw->plane_ = height * width;
  raw->file_ = std::fopen(path.c_str(), "wb");
  if (raw->file_ == nullptr) return not_found("cannot create " + path);
  return raw;
}

RawVideoFile::~RawVideoFile() {
  if (file_ != nullptr) std::fclose(file_);
}

Status RawVideoFile::append(const float* chunk, int64_t n) {
  if (file_ == nullptr || frames_done_ + n > frames_) return internal_error(path_ + ": more frames than announced");
  for (int64_t c = 0; c < 3; ++c) {
    const long offset = static_cast<long>(4 * (c * frames_ + frames_done_) * plane_);
    const auto count = static_cast<size_t>(n * plane_);
    if (std::fseek(file_, offset, SEEK_SET) != 0 || std::fwrite(chunk + c * n * plane_, 4, count, file_) != count) {
      return internal_error("write failed: " + path_);
    }
  }
  frames_done_ += n;
  return Status::ok();
}

Status RawVideoFile::close() {
  if (frames_done_ != frames_) {
    return internal_error(path_ + ": " + std::to_string(frames_done_) + " of " + std::to_string(frames_) + " frames written");
  }
  std::FILE* f = file_;
  file_ = nullptr;
  if (f == nullptr || std::fclose(f) != 0) return internal_error("write failed: " + path_);
  return Status::ok();
}

Expected<std::unique_ptr<VideoOutputSink>> VideoOutputSink::open(const VideoOutputPaths& paths, const VideoRequest& request,
                                                                 const VideoModelInfo& info, const VideoWatermark& watermark,
                                                                 std::function<Status(const std::string&)> before_publish) {
  std::unique_ptr<VideoOutputSink> sink(new VideoOutputSink());
  sink->paths_ = paths;
  sink->width_ = request.width;
  sink->height_ = request.height;
  sink->frames_ = request.frames;
  sink->fps_ = info.fps;
  if (!paths.mp4.empty()) {
    media::Mp4Options options;
    options.fps = media::FrameRate{static_cast<int>(info.fps), 1};
    options.before_publish = std::move(before_publish);
    auto writer = media::Mp4Writer::open(paths.mp4, static_cast<int>(request.width), static_cast<int>(request.height), options);
    if (!writer) return writer.error();
    sink->mp4_.emplace(std::move(*writer));
  }
  if (watermark.key != nullptr && (!paths.mp4.empty() || !paths.png_dir.empty())) {
    if (request.width < trust::kWatermarkMinSide || request.height < trust::kWatermarkMinSide) {
      std::fprintf(stderr, "frugal: %lldx%lld is below the watermark's minimum side of %d pixels: frames not marked\n",
                   static_cast<long long>(request.width), static_cast<long long>(request.height), trust::kWatermarkMinSide);
    } else {
      auto embedder = trust::WatermarkEmbedder::create(*watermark.key, trust::watermark_payload_for(*watermark.key, watermark.id),
                                                       static_cast<int>(request.width), static_cast<int>(request.height));
      if (!embedder) return embedder.error();
      sink->watermark_.emplace(std::move(*embedder));
      sink->watermark_id_ = watermark.id;
    }
  }
  if (!paths.png_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(paths.png_dir, ec);
    if (ec) return not_found("cannot create " + paths.png_dir + ": " + ec.message());
  }
  if (!paths.raw.empty()) {
    auto raw = RawVideoFile::create(paths.raw, request.frames, request.height, request.width);
    if (!raw) return raw.error();
    sink->raw_ = std::move(*raw);
  }
  if (!paths.latents.empty()) {
    sink->latents_ = std::fopen(paths.latents.c_str(), "wb");
    if (sink->latents_ == nullptr) return not_found("cannot create " + paths.latents);
  }
  return sink;
}

VideoOutputSink::~VideoOutputSink() {
  if (latents_ != nullptr) std::fclose(latents_);
}

Status VideoOutputSink::write_frames(const float* frames, int64_t n) {
  const int64_t plane = height_ * width_;
  if (frames_done_ + n > frames_) return internal_error("the decoder produced more frames than requested");
  clamped_.resize(static_cast<size_t>(3 * n * plane));
  for (size_t i = 0; i < clamped_.size(); ++i) clamped_[i] = std::clamp(frames[i], -1.0f, 1.0f);
  if (raw_) {
    if (Status s = raw_->append(paths_.raw_unclamped ? frames : clamped_.data(), n); !s) return s;
  }
  const media::VideoShape shape{static_cast<int>(n), static_cast<int>(height_), static_cast<int>(width_)};
  rgb_.resize(static_cast<size_t>(plane * 3));
  for (int64_t f = 0; f < n; ++f) {
    media::video_frame_to_rgb8(clamped_, shape, static_cast<int>(f), rgb_);
    if (watermark_) watermark_->embed_frame(rgb_);
    if (mp4_) {
      if (Status s = mp4_->write_frame(rgb_); !s) return s;
    }
    if (!paths_.png_dir.empty()) {
      char name[32];
      std::snprintf(name, sizeof(name), "frame_%04lld.png", static_cast<long long>(frames_done_ + f));
      if (Status s = media::write_png(paths_.png_dir + "/" + name, rgb_, static_cast<int>(width_), static_cast<int>(height_));
          !s) {
        return s;
      }
    }
  }
  frames_done_ += n;
  return Status::ok();
}

void VideoOutputSink::write_latent(int step, const float* latent, int64_t n) {
  if (latents_ == nullptr || !latent_error_.is_ok()) return;
  if (std::fwrite(latent, 4, static_cast<size_t>(n), latents_) != static_cast<size_t>(n)) {
    latent_error_ = internal_error("write failed: " + paths_.latents + " at step " + std::to_string(step));
  }
}

Status VideoOutputSink::finish() {
  if (frames_done_ != frames_) {
    return internal_error("decoded " + std::to_string(frames_done_) + " frames, expected " + std::to_string(frames_));
  }
  if (!latent_error_.is_ok()) return latent_error_;
  if (raw_) {
    if (Status s = raw_->close(); !s) return s;
  }
  if (latents_ != nullptr) {
    std::FILE* f = latents_;
    latents_ = nullptr;
    if (std::fclose(f) != 0) return internal_error("write failed: " + paths_.latents);
  }
  if (mp4_) return mp4_->finish();
  return Status::ok();
}

void VideoOutputSink::print_written() const {
  if (!paths_.mp4.empty()) {
    std::fprintf(stderr, "frugal: wrote %s (H.264, %lldx%lld, %lld frames, %lld fps, %s)\n", paths_.mp4.c_str(),
                 static_cast<long long>(width_), static_cast<long long>(height_), static_cast<long long>(frames_),
                 static_cast<long long>(fps_), mp4_ ? mp4_->encoder_name().c_str() : "");
  }
  if (watermark_) {
    std::fprintf(stderr, "frugal: frames watermarked with payload %s (id \"%s\"; `frugal watermark detect FILE`)\n",
                 trust::payload_hex(watermark_->payload()).c_str(), watermark_id_.c_str());
  }
  if (!paths_.png_dir.empty()) std::fprintf(stderr, "frugal: wrote %lld PNG frames to %s\n", static_cast<long long>(frames_), paths_.png_dir.c_str());
  if (!paths_.raw.empty()) {
    std::fprintf(stderr, "frugal: wrote %s: f32 [3, %lld, %lld, %lld]%s\n", paths_.raw.c_str(), static_cast<long long>(frames_),
                 static_cast<long long>(height_), static_cast<long long>(width_), paths_.raw_unclamped ? " (unclamped)" : "");
  }
  if (!paths_.latents.empty()) std::fprintf(stderr, "frugal: wrote latents to %s\n", paths_.latents.c_str());
}

}  // namespace frugal::cli
