// Where `frugal video` puts what it makes (tools layer): the H.264 MP4, PNG frames, the raw f32
// video and latents of the reference mode. Frames arrive in chunks from the streaming VAE decode and
// are written as they come, so no output holds the whole video in memory.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/expected.h"
#include "media/mp4_writer.h"
#include "trust/watermark_embed.h"
#include "video/pipeline/generation_defaults.h"
#include "video/pipeline/video_pipeline.h"

namespace frugal::cli {

struct VideoOutputPaths {
  std::string mp4;
  std::string png_dir;
  std::string raw;            // [3, F, H, W] f32, clamped to [-1, 1] (what WanT2V.generate returns)
  bool raw_unclamped = false;  // write the decoder's output before the clamp instead
  std::string latents;        // [steps + 1, z, T, h, w] f32
  std::string noise;          // input: the initial latent
};

// Reads / writes a raw little-endian f32 file.
Expected<std::vector<float>> read_raw_f32(const std::string& path);
Status write_raw_f32(const std::string& path, const float* data, int64_t n);
// The generation settings `frugal video` and `frugal video-eval` share, as flags.
struct VideoSettingsFlags {
  std::string size;
  int64_t frames = 0;
  int steps = 0;
  std::string sampler = "unipc";
  float shift = 5.0f, cfg = 5.0f;
  std::string attention = "dense";      // --attention dense | sliding-tile | block-sparse
  std::string attention_tile = "4,4,4";  // --attention-tile T,H,W tokens per tile
  std::string attention_window = "3,3,3";  // --attention-window T,H,W tiles (sliding-tile)
  double attention_keep = 0.25;         // --attention-keep fraction of key tiles (block-sparse)
  std::string attention_rest = "drop";  // --attention-rest drop | pooled: the key tiles not attended
  double attention_warmup = 0;          // --attention-warmup fraction of the steps attended densely
  double step_cache = 0;                // --step-cache threshold, 0 = off
  std::string step_cache_mode = "reuse";  // --step-cache-mode reuse | extrapolate
  int step_cache_max_skips = 0;         // --step-cache-max-skips, 0 = no cap
  double step_cache_uncond = 1.0;       // --step-cache-uncond: the unconditional branch's threshold / --step-cache
  double step_cache_cond = 1.0;         // --step-cache-cond: the conditional branch's threshold / --step-cache
  int step_cache_uncond_max_skips = -1;  // --step-cache-uncond-max-skips, -1 = --step-cache-max-skips
  std::string step_cache_cfg = "own";   // --step-cache-cfg own | delta: what a skipped uncond pass adds
  double step_cache_start = 0.0, step_cache_end = 1.0;  // --step-cache-start / -end: fractions of the steps
  bool step_cache_stagger = false;      // --step-cache-stagger: the branches skip on alternate steps
  double step_cache_error_tol = 0;      // --step-cache-error-tol: error-controlled skipping, 0 = off
  CLI::Option* size_opt = nullptr;  // set by add_to: was the flag given?
  CLI::Option* frames_opt = nullptr;
  CLI::Option* steps_opt = nullptr;
  CLI::Option* sampler_opt = nullptr;
  CLI::Option* shift_opt = nullptr;
  CLI::Option* cfg_opt = nullptr;

  // Adds --size --frames --steps --sampler --shift --cfg (defaults: the values set before the call)
  // and the speed flags --attention --attention-tile --attention-window --attention-keep --attention-rest
  // --attention-warmup --step-cache --step-cache-mode --step-cache-max-skips --step-cache-uncond
  // --step-cache-cond --step-cache-uncond-max-skips --step-cache-cfg --step-cache-start --step-cache-end
  // --step-cache-stagger --step-cache-error-tol.
  void add_to(CLI::App* cmd);
  // After parsing: the model folder's generation_config.json (if any) replaces the values of the
  // flags that were not given on the command line; a malformed file is an error.
  Status apply_model_defaults(const std::string& model_dir);
  // Sets the request's size, frames, steps, sampler, shift, cfg, attention and step cache;
  // kInvalidArgument naming the flag on a bad value.
  Status apply(video::VideoRequest& request) const;
};

// "832x480" → width, height (video::parse_video_size); kInvalidArgument naming --size otherwise.
Status parse_size(const std::string& text, int64_t* width, int64_t* height);
// "1,2,3" → ids (each in [0, 2^31)); `flag` names the option in errors.
Expected<std::vector<int32_t>> parse_token_ids(const std::string& text, const char* flag);

// A raw f32 video [3, F, H, W] written as decoded chunks [3, n, H, W] arrive: each chunk's channels go
// to their own places in the file, so nothing holds the whole video.
class RawVideoFile {
 public:
  static Expected<std::unique_ptr<RawVideoFile>> create(const std::string& path, int64_t frames, int64_t height,
                                                        int64_t width);
  ~RawVideoFile();
  // The next n frames. kInternal on a write error or more frames than announced.
  Status append(const float* chunk, int64_t n);
  // Checks every frame arrived and closes the file.
  Status close();
  const std::string& path() const { return path_; }

 private:
  RawVideoFile() = default;
  std::string path_;
  std::FILE* file_ = nullptr;
  int64_t frames_ = 0, plane_ = 0, frames_done_ = 0;
};

// The invisible watermark of the MP4 and PNG frames (docs/design/trust-watermark.md); the raw f32
// outputs of the reference mode are never marked.
struct VideoWatermark {
  const trust::WatermarkKey* key = nullptr;  // null: no watermark
  std::string id;                            // the payload is watermark_payload_for(*key, id)
};

class VideoOutputSink {
 public:
  // Frames below trust::kWatermarkMinSide on a side are written unmarked, with a note on stderr.
  // `before_publish` runs on the finished MP4 before it appears (media::Mp4Options::before_publish).
  static Expected<std::unique_ptr<VideoOutputSink>> open(const VideoOutputPaths& paths, const video::VideoRequest& request,
                                                         const video::VideoModelInfo& info,
                                                         const VideoWatermark& watermark = {},
                                                         std::function<Status(const std::string&)> before_publish = {});
  ~VideoOutputSink();
  // frames: [3, n, H, W] unclamped decoder output; they follow the frames written before.
  Status write_frames(const float* frames, int64_t n);
  void write_latent(int step, const float* latent, int64_t n);
  // Closes every output (the MP4 appears only now); checks that every frame arrived.
  Status finish();
  // "wrote out.mp4 (…)" lines on stderr.
  void print_written() const;

 private:
  VideoOutputSink() = default;
  VideoOutputPaths paths_;
  int64_t width_ = 0, height_ = 0, frames_ = 0, fps_ = 16;
  int64_t frames_done_ = 0;
  std::optional<media::Mp4Writer> mp4_;
  std::optional<trust::WatermarkEmbedder> watermark_;
  std::string watermark_id_;
  std::unique_ptr<RawVideoFile> raw_;
  std::FILE* latents_ = nullptr;
  Status latent_error_;
  std::vector<float> clamped_;  // [3, n, H, W]
  std::vector<uint8_t> rgb_;    // [H, W, 3]
};

}  // namespace frugal::cli
