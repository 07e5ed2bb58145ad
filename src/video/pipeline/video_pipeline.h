// VideoPipeline: one Wan text-to-video generation, stage by stage (video/pipeline layer).
//   text encode (umT5) → denoise (sampler loop owns time; the DiT owns one pass; CFG) → VAE decode,
//   streamed one latent frame at a time to the caller's frame sink (memory does not grow with length).
// Threading contract: one generate() at a time per pipeline (it owns the thread pool and scratch).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/expected.h"
#include "core/thread_pool.h"
#include "video/pipeline/model_files.h"
#include "video/pipeline/model_loading.h"
#include "video/pipeline/video_request.h"
#include "video/weights/weight_store.h"

namespace frugal::video {

struct LoadedVideoModel;

class VideoPipeline {
 public:
  static Expected<std::unique_ptr<VideoPipeline>> load(const VideoModelFiles& files, const VideoPipelineOptions& options);
  ~VideoPipeline();

  const VideoModelInfo& info() const;
  int num_threads() const;
  // Checks a request against the model without running it: sizes multiples of 16, frames 4n+1, a
  // non-empty prompt (or ids), steps ≥ 1, a positive shift, a finite cfg ≥ 0, a noise tensor of the
  // latent's shape. kInvalidArgument with a message naming the field.
  Status validate(const VideoRequest& request) const;
  // Runs the request. Frames go to callbacks.on_frames as they are decoded.
  Expected<VideoRunStats> generate(const VideoRequest& request, const VideoCallbacks& callbacks);

  // Stage entry points (the component tools and tests use them):
  // The DiT context of a prompt: [L, text_dim] f32 (L = real tokens incl. eos).
  Expected<std::vector<float>> encode_text(const std::string& text, int64_t* n_rows);
  Expected<std::vector<float>> encode_ids(const std::vector<int32_t>& ids, int64_t* n_rows);
  // Token ids of a prompt as the text encoder sees them (cleaned, eos appended, truncated to text_len).
  Expected<std::vector<int32_t>> tokenize(const std::string& text) const;

  // Which parts are in memory now (VideoPipelineOptions::residency; docs/design/video-memory.md).
  struct ResidentParts {
    bool text_encoder = false, dit = false, vae = false;
  };
  ResidentParts resident_parts() const;

 private:
  explicit VideoPipeline(std::unique_ptr<LoadedVideoModel> model);
  Status denoise(const VideoRequest& request, const std::vector<float>& ctx_pos, int64_t pos_rows,
                 const std::vector<float>& ctx_neg, int64_t neg_rows, std::vector<float>& latent,
                 const VideoCallbacks& callbacks, VideoRunStats& stats);
  Status decode(const VideoRequest& request, const std::vector<float>& latent, const VideoCallbacks& callbacks,
                VideoRunStats& stats);

  std::unique_ptr<LoadedVideoModel> model_;
};

}  // namespace frugal::video
