// Loading and cross-checking a Wan model's parts (see model_loading.h).
#include "video/pipeline/model_loading.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "video/dit/dit_config.h"
#include "video/dit/wan_dit.h"
#include "video/text_encoder/tokenizer.h"
#include "video/text_encoder/umt5_encoder.h"
#include "video/vae/wan_vae.h"

namespace frugal::video {
namespace {

Status in_part(const Status& s, const std::string& part) {
  return s.is_ok() ? s : Status(s.code(), part + ": " + s.message());
}

// A DiT's config, its tensors checked by name and shape (check_dit_store); with `loaded`, the weights too.
Expected<DitConfig> open_dit(const DitFiles& files, WeightPrecision precision, int64_t* params,
                             std::unique_ptr<WanDit>* loaded) {
  auto store = WeightStore::open(files.weights);
  if (!store) return in_part(store.error(), "DiT");
  auto config = files.config_json.empty() ? infer_dit_config(*store) : load_dit_config_file(files.config_json);
  if (!config) return in_part(config.error(), "DiT config");
  if (params != nullptr) *params += store->total_params();
  if (loaded == nullptr) {
    if (Status s = check_dit_store(*config, *store); !s) return in_part(s, "DiT");
    return config;
  }
  auto dit = WanDit::load(*store, *config, precision);
  if (!dit) return in_part(dit.error(), "DiT");
  *loaded = std::make_unique<WanDit>(std::move(*dit));
  return config;
}

Expected<std::unique_ptr<UmT5Encoder>> load_text_encoder(const std::string& path, WeightPrecision precision,
                                                         int64_t* params) {
  auto t5_store = WeightStore::open({path});
  if (!t5_store) return in_part(t5_store.error(), "text encoder");
  auto t5 = UmT5Encoder::load(*t5_store, precision);
  if (!t5) return in_part(t5.error(), "text encoder");
  if (params != nullptr) *params = t5_store->total_params();
  return std::make_unique<UmT5Encoder>(std::move(*t5));
}

// Freed stages leave their pages with the allocator (the packed matrices are large mmapped chunks, but
// the smaller vectors sit in the heap): hand them back so the next stage's peak does not include them.
void return_free_pages() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace

LoadedVideoModel::~LoadedVideoModel() = default;

Status LoadedVideoModel::ensure_text_encoder() {
  if (text_encoder) return Status::ok();
  auto t5 = load_text_encoder(files.text_encoder, options.precision, nullptr);
  if (!t5) return t5.error();
  text_encoder = std::move(*t5);
  return Status::ok();
}

Status LoadedVideoModel::ensure_dits() {
  if (!dits.empty()) return Status::ok();
  std::vector<std::unique_ptr<WanDit>> loaded(files.dits.size());
  for (size_t i = 0; i < files.dits.size(); ++i) {
    auto config = open_dit(files.dits[i], options.precision, nullptr, &loaded[i]);
    if (!config) return config.error();
  }
  dits = std::move(loaded);
  return Status::ok();
}

void LoadedVideoModel::release_text_encoder() {
  if (options.residency != StageResidency::kPerStage || !text_encoder) return;
  text_encoder.reset();
  return_free_pages();
}

void LoadedVideoModel::release_dits() {
  if (options.residency != StageResidency::kPerStage || dits.empty()) return;
  dits.clear();
  return_free_pages();
}

Expected<std::unique_ptr<LoadedVideoModel>> load_video_model(const VideoModelFiles& files,
                                                             const VideoPipelineOptions& options) {
  auto model = std::make_unique<LoadedVideoModel>();
  model->files = files;
  model->options = options;
  model->pool = std::make_unique<ThreadPool>(options.num_threads > 0 ? options.num_threads : default_num_threads());
  VideoModelInfo& info = model->info;
  if (files.dits.empty() || files.dits.size() > 2) return invalid_argument("a Wan model has one DiT or two experts");
  const bool resident = options.residency == StageResidency::kResident;
  std::vector<DitConfig> configs;
  for (const DitFiles& dit_files : files.dits) {
    std::unique_ptr<WanDit> dit;
    auto config = open_dit(dit_files, options.precision, &info.dit_params, resident ? &dit : nullptr);
    if (!config) return config.error();
    configs.push_back(*config);
    if (dit) model->dits.push_back(std::move(dit));
  }
  info.n_experts = static_cast<int>(configs.size());
  const DitConfig& dit = configs.front();
  if (configs.size() == 2 && !(configs[1] == dit)) {
    return invalid_argument("the two DiT experts have different configs: " + dit_config_summary(dit) + " vs " +
                            dit_config_summary(configs[1]));
  }
  info.text_len = dit.text_len;
  info.text_dim = dit.text_dim;
  info.patch_t = dit.patch_size[0];
  info.patch_h = dit.patch_size[1];
  info.patch_w = dit.patch_size[2];

  auto vae_store = WeightStore::open({files.vae});
  if (!vae_store) return in_part(vae_store.error(), "VAE");
  auto vae = WanVae::load(*vae_store);
  if (!vae) return in_part(vae.error(), "VAE");
  model->vae = std::make_unique<WanVae>(std::move(*vae));
  info.vae_params = vae_store->total_params();
  info.z_dim = model->vae->config().z_dim;
  if (dit.in_dim != info.z_dim || dit.out_dim != info.z_dim) {
    return invalid_argument("the DiT (" + std::to_string(dit.in_dim) + " latent channels in, " +
                            std::to_string(dit.out_dim) + " out) does not fit the VAE (z_dim " +
                            std::to_string(info.z_dim) + ")");
  }

  auto t5 = load_text_encoder(files.text_encoder, options.precision, &info.text_encoder_params);
  if (!t5) return t5.error();
  model->text_encoder = std::move(*t5);
  if (model->text_encoder->config().dim != dit.text_dim) {
    return invalid_argument("the text encoder's width " + std::to_string(model->text_encoder->config().dim) +
                            " does not match the DiT's text_dim " + std::to_string(dit.text_dim));
  }
  if (!files.tokenizer.empty()) {
    auto tokenizer = UmT5Tokenizer::load(files.tokenizer);
    if (!tokenizer) return in_part(tokenizer.error(), "tokenizer");
    if (tokenizer->vocab_size() > model->text_encoder->config().vocab) {
      return invalid_argument("the tokenizer has " + std::to_string(tokenizer->vocab_size()) +
                              " pieces, more than the text encoder's vocabulary of " +
                              std::to_string(model->text_encoder->config().vocab));
    }
    model->tokenizer = std::make_unique<UmT5Tokenizer>(std::move(*tokenizer));
    info.has_tokenizer = true;
  }
  return model;
}

}  // namespace frugal::video
