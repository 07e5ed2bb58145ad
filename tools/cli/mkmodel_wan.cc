// Random-weight Wan model folders (see mkmodel_wan.h).
//   weights ≥ 2-D: uniform with std 1/√fan_in (fan_in = product of the trailing dims), so activations
//   stay O(1); norms (`norm`, `gamma`) 1; DiT modulations N-ish(0, 1/√dim) as WanModel.init_weights;
//   embeddings std 1; biases std 0.02. Values depend only on (seed, tensor name, element index), so
//   the files do not depend on the thread count.
#include "mkmodel_wan.h"

#include <nlohmann/json.hpp>
#include <sentencepiece_trainer.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>

#include "core/fp16.h"
#include "core/thread_pool.h"
#include "safetensors/safetensors_writer.h"
#include "video/dit/dit_config.h"
#include "video/text_encoder/umt5_config.h"
#include "video/vae/vae_tensor_specs.h"

namespace frugal::cli {
namespace {

struct WanPreset {
  const char* name;
  const char* dit;            // dit_config_preset name, or "" for the tiny test shape
  int64_t vae_dim;            // Wan2.1 VAE base width (96 in the release)
  bool real_text_encoder;     // umT5-XXL, else a tiny umT5
  int dit_shards;             // the release's DiT files: 1, or N shards behind an index JSON
};

// Wan2.1-T2V-1.3B ships one diffusion_pytorch_model.safetensors; Wan2.1-T2V-14B six shards,
// diffusion_pytorch_model-0000k-of-00006.safetensors, behind diffusion_pytorch_model.safetensors.index.json.
constexpr WanPreset kPresets[] = {
    {"wan2.1-1.3b", "wan2.1-1.3b", 96, true, 1},
    {"wan2.1-14b", "wan2.1-14b", 96, true, 6},
    {"wan-tiny", "", 8, false, 1},
};

using TensorSpecs = std::vector<std::pair<std::string, std::vector<int64_t>>>;

uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t name_hash(const std::string& name) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : name) h = (h ^ c) * 1099511628211ull;
  return h;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// (mean, std) of a tensor's random values, from its official name and shape.
std::pair<float, float> init_of(const std::string& name, const std::vector<int64_t>& shape) {
  const bool is_norm = name.find("norm") != std::string::npos || ends_with(name, ".gamma");
  if (is_norm) return {1.0f, 0.0f};
  if (name.find("modulation") != std::string::npos) return {0.0f, 1.0f / std::sqrt(static_cast<float>(shape.back()))};
  if (name.find("token_embedding") != std::string::npos || name.find("pos_embedding") != std::string::npos) return {0.0f, 1.0f};
  if (shape.size() < 2) return {0.0f, 0.02f};
  int64_t fan_in = 1;
  for (size_t d = 1; d < shape.size(); ++d) fan_in *= shape[d];
  return {0.0f, 1.0f / std::sqrt(static_cast<float>(fan_in))};
}

// Fills a tensor with uniform values of the given mean and std (±std·√3), element i from
// mix64(seed ^ hash(name) + i): cheap and independent of the thread count.
SafetensorsWriter::Fill random_fill(uint64_t seed, const std::string& name, const std::vector<int64_t>& shape,
                                    StDType dtype, ThreadPool& pool) {
  const std::pair<float, float> init = init_of(name, shape);
  const float mean = init.first, std = init.second;
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  const uint64_t base = seed ^ name_hash(name);
  return [=, &pool](uint8_t* dst) {
    const float half_width = std * std::sqrt(3.0f);
    pool.parallel_for(n, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const double u = static_cast<double>(mix64(base + static_cast<uint64_t>(i)) >> 11) * (1.0 / 9007199254740992.0);
        const float v = mean + half_width * static_cast<float>(2.0 * u - 1.0);
        if (dtype == StDType::kF32) {
          std::memcpy(dst + 4 * i, &v, 4);
        } else {
          const uint16_t h = dtype == StDType::kBF16 ? f32_to_bf16(v) : f32_to_f16(v);
          std::memcpy(dst + 2 * i, &h, 2);
        }
      }
    });
  };
}

Status write_store(const std::string& path, const TensorSpecs& specs, StDType dtype, const std::string& component,
                   uint64_t seed, ThreadPool& pool) {
  SafetensorsWriter writer;
  writer.set_metadata("component", component);
  writer.set_metadata("frugal_random_weights", "true");
  for (const auto& [name, shape] : specs) writer.add(name, dtype, shape, random_fill(seed, name, shape, dtype, pool));
  std::fprintf(stderr, "mkmodel: writing %s (%zu tensors)\n", path.c_str(), specs.size());
  return writer.write(path);
}

// The DiT as `shards` files in name order, cut where the running byte count passes k/shards of the
// total (every shard gets at least one tensor), and the index JSON the official sharded releases ship:
// {"metadata": {"total_size": bytes}, "weight_map": {tensor name: shard file}}.
Status write_sharded_dit(const std::string& dir, TensorSpecs specs, StDType dtype, int shards, uint64_t seed,
                         ThreadPool& pool) {
  if (shards < 1 || static_cast<size_t>(shards) > specs.size()) {
    return invalid_argument("--dit-shards must be between 1 and the DiT's " + std::to_string(specs.size()) +
                            " tensors, not " + std::to_string(shards));
  }
  std::sort(specs.begin(), specs.end());
  const int64_t elem_bytes = dtype == StDType::kF32 ? 4 : 2;
  std::vector<int64_t> bytes;
  int64_t total = 0;
  for (const auto& spec : specs) {
    int64_t n = elem_bytes;
    for (int64_t d : spec.second) n *= d;
    bytes.push_back(n);
    total += n;
  }
  nlohmann::json weight_map = nlohmann::json::object();
  size_t next = 0;
  int64_t written = 0;
  for (int k = 0; k < shards; ++k) {
    char name[80];
    std::snprintf(name, sizeof name, "diffusion_pytorch_model-%05d-of-%05d.safetensors", k + 1, shards);
    const size_t keep_for_later = static_cast<size_t>(shards - k - 1);  // one tensor per shard still to write
    const int64_t target = total / shards * (k + 1);
    TensorSpecs part;
    do {
      part.push_back(specs[next]);
      weight_map[specs[next].first] = name;
      written += bytes[next];
      ++next;
    } while (next < specs.size() - keep_for_later && (k == shards - 1 || written < target));
    if (Status s = write_store(dir + "/" + name, part, dtype, "dit", seed, pool); !s) return s;
  }
  const nlohmann::json index = {{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}};
  std::ofstream out(dir + "/diffusion_pytorch_model.safetensors.index.json");
  out << index.dump(2) << "\n";
  if (!out) return internal_error("cannot write " + dir + "/diffusion_pytorch_model.safetensors.index.json");
  return Status::ok();
}

// A unigram SentencePiece model with umT5's special ids (pad 0, </s> 1, <unk> 2), trained on
// generated captions.
Status write_tokenizer(const std::string& dir, int64_t vocab) {
  const char* colours[] = {"red", "green", "blue", "yellow", "white", "orange", "purple", "cyan", "black", "gray", "brown"};
  const char* things[] = {"circle", "square", "triangle", "cat", "dog", "car", "river", "city", "forest", "person"};
  const char* moves[] = {"moving left", "moving right", "moving up", "moving down", "walking", "running", "flying"};
  const std::string corpus = dir + "/captions.txt";
  {
    std::ofstream out(corpus);
    for (const char* c : colours)
      for (const char* t : things)
        for (const char* m : moves)
          for (const char* b : colours) out << "a " << c << " " << t << " " << m << " on a " << b << " background\n";
  }
  const std::string args = "--input=" + corpus + " --model_prefix=" + dir + "/spiece --vocab_size=" +
                           std::to_string(vocab) + " --model_type=unigram --pad_id=0 --eos_id=1 --unk_id=2 --bos_id=-1 "
                           "--hard_vocab_limit=false --minloglevel=2";
  const auto status = sentencepiece::SentencePieceTrainer::Train(args);
  std::filesystem::remove(corpus);
  std::filesystem::remove(dir + "/spiece.vocab");
  if (!status.ok()) return internal_error("training the tokenizer failed: " + std::string(status.message()));
  return Status::ok();
}

std::string dit_config_json(const video::DitConfig& c) {
  char buf[512];
  std::snprintf(buf, sizeof(buf),
                "{\n  \"_class_name\": \"WanModel\",\n  \"model_type\": \"t2v\",\n  \"text_len\": %lld,\n  \"in_dim\": %lld,\n"
                "  \"dim\": %lld,\n  \"ffn_dim\": %lld,\n  \"freq_dim\": %lld,\n  \"text_dim\": %lld,\n  \"out_dim\": %lld,\n"
                "  \"num_heads\": %lld,\n  \"num_layers\": %lld,\n  \"window_size\": [-1, -1],\n  \"qk_norm\": true,\n"
                "  \"cross_attn_norm\": true,\n  \"eps\": 1e-06\n}\n",
                static_cast<long long>(c.text_len), static_cast<long long>(c.in_dim), static_cast<long long>(c.dim),
                static_cast<long long>(c.ffn_dim), static_cast<long long>(c.freq_dim), static_cast<long long>(c.text_dim),
                static_cast<long long>(c.out_dim), static_cast<long long>(c.num_heads), static_cast<long long>(c.num_layers));
  return buf;
}

video::DitConfig tiny_dit_config() {
  video::DitConfig c;
  c.dim = 64;
  c.ffn_dim = 128;
  c.freq_dim = 32;
  c.text_dim = 32;
  c.num_heads = 4;
  c.num_layers = 2;
  c.text_len = 512;
  return c;
}

video::UmT5Config tiny_umt5_config() {
  video::UmT5Config c;
  c.vocab = 512;
  c.dim = 32;
  c.dim_attn = 32;
  c.dim_ffn = 64;
  c.num_heads = 4;
  c.num_layers = 2;
  c.num_buckets = 32;
  return c;
}

}  // namespace

bool is_wan_preset(const std::string& name) {
  for (const WanPreset& p : kPresets) {
    if (name == p.name) return true;
  }
  return false;
}

std::vector<std::string> wan_preset_names() {
  std::vector<std::string> names;
  for (const WanPreset& p : kPresets) names.emplace_back(p.name);
  return names;
}

Status write_wan_model(const WanMkmodelArgs& args) {
  const WanPreset* preset = nullptr;
  for (const WanPreset& p : kPresets) {
    if (args.preset == p.name) preset = &p;
  }
  if (preset == nullptr) return invalid_argument("unknown Wan preset \"" + args.preset + "\"");
  StDType dit_dtype;
  if (args.dit_type == "f32") dit_dtype = StDType::kF32;
  else if (args.dit_type == "bf16") dit_dtype = StDType::kBF16;
  else if (args.dit_type == "f16") dit_dtype = StDType::kF16;
  else return invalid_argument("--type for a Wan model must be f32, bf16 or f16, not \"" + args.dit_type + "\"");
  video::DitConfig dit = tiny_dit_config();
  if (preset->dit[0] != '\0') {
    auto c = video::dit_config_preset(preset->dit);
    if (!c) return c.error();
    dit = *c;
  }
  video::UmT5Config t5 = preset->real_text_encoder ? video::umt5_xxl_config() : tiny_umt5_config();
  if (args.t5_layers < 0 || args.t5_layers > t5.num_layers) {
    return invalid_argument("--t5-layers must be between 1 and the preset's " + std::to_string(t5.num_layers));
  }
  if (args.t5_layers > 0) t5.num_layers = args.t5_layers;
  std::error_code ec;
  std::filesystem::create_directories(args.out_dir + "/google/umt5-xxl", ec);
  if (ec) return not_found("cannot create " + args.out_dir + ": " + ec.message());
  ThreadPool pool(args.threads > 0 ? args.threads : default_num_threads());

  std::ofstream(args.out_dir + "/config.json") << dit_config_json(dit);
  TensorSpecs specs;
  for (const auto& s : video::dit_tensor_specs(dit)) specs.emplace_back(s.name, s.shape);
  const int shards = args.dit_shards > 0 ? args.dit_shards : preset->dit_shards;
  if (Status s = shards == 1 ? write_store(args.out_dir + "/diffusion_pytorch_model.safetensors", specs, dit_dtype, "dit",
                                           args.seed, pool)
                             : write_sharded_dit(args.out_dir, specs, dit_dtype, shards, args.seed, pool);
      !s) {
    return s;
  }
  specs.clear();
  for (const auto& s : video::vae_tensor_specs(video::wan21_vae_config(preset->vae_dim))) specs.emplace_back(s.name, s.shape);
  if (Status s = write_store(args.out_dir + "/Wan2.1_VAE.safetensors", specs, StDType::kF32, "vae", args.seed + 1, pool); !s) {
    return s;
  }
  specs.clear();
  for (const auto& s : video::umt5_tensor_specs(t5)) specs.emplace_back(s.name, s.shape);
  if (Status s = write_store(args.out_dir + "/models_t5_umt5-xxl-enc-bf16.safetensors", specs, StDType::kBF16, "t5",
                             args.seed + 2, pool);
      !s) {
    return s;
  }
  return write_tokenizer(args.out_dir + "/google/umt5-xxl", std::min<int64_t>(t5.vocab, 400));
}

}  // namespace frugal::cli
