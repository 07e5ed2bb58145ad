// Loading a Wan model's parts and checking that they fit together (video/pipeline layer): the DiT
// (one, or two experts), the VAE, the umT5 encoder and its tokenizer.
#pragma once

#include <memory>
#include <vector>

#include "core/expected.h"
#include "core/thread_pool.h"
#include "video/pipeline/model_files.h"
#include "video/weights/weight_store.h"

namespace frugal::video {

class WanDit;
class WanVae;
class UmT5Encoder;
class UmT5Tokenizer;

// Which parts stay in memory between stages (docs/design/video-memory.md).
enum class StageResidency {
  kResident,  // every part loaded by load() and kept: a server answers requests without reloading
  kPerStage,  // one-shot runs (`frugal video`): the VAE and the text encoder are loaded by load(); the
              // text encoder is freed once the contexts are encoded, the DiT is loaded for the denoise
              // and freed after it, so the peak is the largest stage, not the sum of the parts. A
              // later request reloads what it needs (the load time is kept out of the stage times).
};

struct VideoPipelineOptions {
  int num_threads = 0;                                 // 0: default_num_threads()
  WeightPrecision precision = WeightPrecision::kStored;
  StageResidency residency = StageResidency::kResident;
};

// Sizes of the loaded model that requests are checked against.
struct VideoModelInfo {
  int64_t z_dim = 16;
  int64_t text_len = 512;
  int64_t text_dim = 0;
  int64_t vae_stride_t = 4, vae_stride_s = 8;  // latent frame = 4 frames; latent pixel = 8×8 pixels
  int64_t patch_t = 1, patch_h = 2, patch_w = 2;
  int64_t fps = 16;                            // Wan2.1's sample_fps
  int n_experts = 1;
  int64_t dit_params = 0, vae_params = 0, text_encoder_params = 0;
  bool has_tokenizer = false;
};

struct LoadedVideoModel {
  VideoModelInfo info;
  std::unique_ptr<ThreadPool> pool;
  std::vector<std::unique_ptr<WanDit>> dits;  // high-noise expert first when there are two; empty
                                              // between stages under kPerStage
  std::unique_ptr<WanVae> vae;
  std::unique_ptr<UmT5Encoder> text_encoder;  // null between stages under kPerStage
  std::unique_ptr<UmT5Tokenizer> tokenizer;   // null without a spiece.model
  // What the stage loaders need (kPerStage).
  VideoModelFiles files;
  VideoPipelineOptions options;
  ~LoadedVideoModel();

  // Load the part when it is not resident (no-op otherwise); Status names the part on failure.
  Status ensure_text_encoder();
  Status ensure_dits();
  // Free the part when options.residency is kPerStage (no-op under kResident), returning its pages to
  // the system.
  void release_text_encoder();
  void release_dits();
};

// Loads every part (kPerStage: the VAE and the text encoder; the DiT's tensors are only checked by
// name and shape); fails with a Status naming the part and file when one is missing or malformed,
// or when the parts do not fit together (the DiT's text_dim vs the encoder's width, the DiT's
// in/out channels vs the VAE's z_dim, two experts of different shapes).
Expected<std::unique_ptr<LoadedVideoModel>> load_video_model(const VideoModelFiles& files,
                                                             const VideoPipelineOptions& options);

}  // namespace frugal::video
