// `frugal mkmodel`: write a random-weight GGUF of any llama/qwen2 (dense) or llama/qwen2moe/
// qwen3moe/olmoe (mixture-of-experts, 3-D ffn_*_exps tensors as llama.cpp writes them) shape with a given vocabulary and
// weight type, so benchmarks and tests never need a download. Weights are N(0, 1/sqrt(fan_in))
// (O(1) activations and clearly non-uniform attention, like the reference test models); norms 1.
#include <cmath>
#include <cstring>
#include <cstdio>
#include <string>
#include <vector>

#include "cli_common.h"
#include "core/thread_pool.h"
#include "gguf/gguf_writer.h"
#include "model/presets.h"
#include "mkmodel_wan.h"
#include "model/quant_recipe.h"

namespace frugal::cli {
namespace {

struct MkmodelArgs {
  std::string preset;
  std::string vocab_path;
  std::string out_path;
  std::string type_name = "f16";
  std::string name;
  uint64_t seed = 42;
  int threads = 0;
  int dit_shards = 0;  // Wan presets: 0 = the release's layout
  int t5_layers = 0;   // Wan presets: 0 = the preset's umT5 depth
  ModelShape shape;
  bool tie = false, untie = false;
};

// Deterministic N(0,1) stream per (seed, tensor, row): splitmix64 + Box-Muller, so the output
// does not depend on the thread count.
class NormalStream {
 public:
  explicit NormalStream(uint64_t seed) : state_(seed) {}
  float next() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double u1 = (static_cast<double>(next_u64() >> 11) + 0.5) * (1.0 / 9007199254740992.0);
    const double u2 = static_cast<double>(next_u64() >> 11) * (1.0 / 9007199254740992.0);
    const double r = std::sqrt(-2.0 * std::log(u1));
    spare_ = static_cast<float>(r * std::sin(2.0 * M_PI * u2));
    has_spare_ = true;
    return static_cast<float>(r * std::cos(2.0 * M_PI * u2));
  }

 private:
  uint64_t next_u64() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint64_t state_;
  float spare_ = 0.0f;
  bool has_spare_ = false;
};

// Adds one tensor: random (scale > 0: N(0, scale); scale < 0: 1 + N(0, -scale)) or constant 1
// (scale == 0), converted to the recipe's type.
Status add_tensor(GgufWriter& writer, ThreadPool& pool, const MkmodelArgs& a, FileType type, uint64_t tensor_idx,
                  const std::string& name, std::vector<int64_t> ne, float scale, bool is_output) {
  const int64_t row_len = ne[0];
  int64_t n_rows = 1;  // every dimension past the first: a 3-D expert tensor is n_expert stacked matrices
  for (size_t d = 1; d < ne.size(); ++d) n_rows *= ne[d];
  std::vector<float> values(static_cast<size_t>(row_len * n_rows), 1.0f);
  if (scale != 0.0f) {
    const float mean = scale < 0.0f ? 1.0f : 0.0f, sigma = std::fabs(scale);
    pool.parallel_for(n_rows, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        NormalStream rng(a.seed * 0x100000001b3ull + (tensor_idx << 32) + static_cast<uint64_t>(r));
        float* row = values.data() + r * row_len;
        for (int64_t i = 0; i < row_len; ++i) row[i] = mean + rng.next() * sigma;
      }
    });
  }
  const DType dtype = recipe_dtype(type, name, static_cast<int>(ne.size()), row_len, a.shape.n_layer, is_output);
  auto bytes = parallel_quantize(pool, dtype, values.data(), n_rows, row_len);
  if (!bytes) return bytes.error();
  writer.add_tensor(name, dtype, std::move(ne), std::move(*bytes));
  return Status::ok();
}

Status copy_vocabulary(const GgufFile& vocab, GgufWriter& writer, int64_t& n_vocab) {
  bool found = false;
  for (const auto& [key, value] : vocab.metadata()) {
    if (key.rfind("tokenizer.", 0) == 0) {
      writer.set(key, value);
      found = true;
    }
  }
  auto tokens = vocab.get_string_array("tokenizer.ggml.tokens");
  if (!found || !tokens) return invalid_argument("--vocab: '" + vocab.path() + "' has no tokenizer.ggml.tokens");
  n_vocab = static_cast<int64_t>(tokens->size());
  return Status::ok();
}

void write_hparams(GgufWriter& w, const MkmodelArgs& a, FileType type, bool tied) {
  const ModelShape& s = a.shape;
  const std::string p = s.arch + ".";
  w.set_string("general.architecture", s.arch);
  w.set_string("general.name", a.name.empty() ? "frugal-random-" + (a.preset.empty() ? s.arch : a.preset) : a.name);
  w.set_uint32("general.file_type", file_type_gguf_id(type));
  w.set_uint32("general.quantization_version", 2);
  w.set_uint32(p + "context_length", static_cast<uint32_t>(s.n_ctx));
  w.set_uint32(p + "embedding_length", static_cast<uint32_t>(s.n_embd));
  w.set_uint32(p + "block_count", static_cast<uint32_t>(s.n_layer));
  w.set_uint32(p + "feed_forward_length", static_cast<uint32_t>(s.n_ff));
  w.set_uint32(p + "attention.head_count", static_cast<uint32_t>(s.n_head));
  w.set_uint32(p + "attention.head_count_kv", static_cast<uint32_t>(s.n_head_kv));
  w.set_uint32(p + "rope.dimension_count", static_cast<uint32_t>(s.n_embd / s.n_head));
  w.set_float32(p + "rope.freq_base", s.rope_theta);
  w.set_float32(p + "attention.layer_norm_rms_epsilon", s.rms_eps);
  if (s.n_expert > 0) {
    w.set_uint32(p + "expert_count", static_cast<uint32_t>(s.n_expert));
    w.set_uint32(p + "expert_used_count", static_cast<uint32_t>(s.n_expert_used));
    if (s.n_ff_exp > 0) w.set_uint32(p + "expert_feed_forward_length", static_cast<uint32_t>(s.n_ff_exp));
    if (s.n_ff_shexp > 0) w.set_uint32(p + "expert_shared_feed_forward_length", static_cast<uint32_t>(s.n_ff_shexp));
  }
  (void)tied;
}

int mkmodel(MkmodelArgs a) {
  if (!a.preset.empty()) {
    auto preset = find_model_preset(a.preset);
    if (!preset) return report_error(invalid_argument("unknown --preset '" + a.preset + "'"));
    // Explicit dimension flags override the preset's.
    ModelShape merged = *preset;
    auto take = [](int64_t& dst, int64_t v) { if (v > 0) dst = v; };
    take(merged.n_layer, a.shape.n_layer);
    take(merged.n_embd, a.shape.n_embd);
    take(merged.n_head, a.shape.n_head);
    take(merged.n_head_kv, a.shape.n_head_kv);
    take(merged.n_ff, a.shape.n_ff);
    take(merged.n_ctx, a.shape.n_ctx);
    take(merged.n_expert, a.shape.n_expert);
    take(merged.n_expert_used, a.shape.n_expert_used);
    take(merged.n_ff_exp, a.shape.n_ff_exp);
    take(merged.n_ff_shexp, a.shape.n_ff_shexp);
    if (a.shape.arch != "llama") merged.arch = a.shape.arch;
    a.shape = merged;
  }
  ModelShape& s = a.shape;
  if (a.tie) s.tied_output = true;
  if (a.untie) s.tied_output = false;
  if (s.n_head_kv <= 0) s.n_head_kv = s.n_head;
  if (s.n_layer <= 0 || s.n_embd <= 0 || s.n_head <= 0 || s.n_ff <= 0 || s.n_ctx <= 0 || s.n_embd % s.n_head != 0 ||
      s.n_head % s.n_head_kv != 0 || (s.n_embd / s.n_head) % 2 != 0) {
    return report_error(invalid_argument("invalid shape: need positive dims, n_embd % n_head == 0, n_head % n_head_kv == 0, even head_dim"));
  }
  const bool moe_arch = s.arch == "qwen2moe" || s.arch == "qwen3moe" || s.arch == "olmoe";
  if (s.arch != "llama" && s.arch != "qwen2" && !moe_arch) {
    return report_error(invalid_argument("--arch must be llama, qwen2, qwen2moe, qwen3moe or olmoe"));
  }
  if (moe_arch && s.n_expert <= 0) return report_error(invalid_argument("--arch " + s.arch + " needs --n-expert > 0"));
  if (s.n_expert < 0 || s.n_expert > 512 || (s.n_expert > 0 && (s.n_expert_used < 1 || s.n_expert_used > s.n_expert))) {
    return report_error(invalid_argument("experts: need 0 <= --n-expert <= 512 and 1 <= --n-expert-used <= --n-expert"));
  }
  if (s.arch == "qwen2moe" && s.n_ff_shexp <= 0) s.n_ff_shexp = s.n_ff;
  if (s.arch == "olmoe" && s.n_head_kv != s.n_head) {
    return report_error(invalid_argument("olmoe: attn_k_norm is n_embd wide in llama.cpp, so --n-head-kv must equal --n-head"));
  }
  auto type = file_type_from_name(a.type_name);
  if (!type) return report_error(invalid_argument("unknown --type '" + a.type_name + "'"));
  auto vocab = GgufFile::open(a.vocab_path);
  if (!vocab) return report_error(vocab.error());

  GgufWriter writer;
  int64_t n_vocab = 0;
  Status st = copy_vocabulary(*vocab, writer, n_vocab);
  if (!st.is_ok()) return report_error(st);
  write_hparams(writer, a, *type, s.tied_output);

  ThreadPool pool(a.threads > 0 ? a.threads : default_num_threads());
  const int64_t head_dim = s.n_embd / s.n_head, q_dim = s.n_head * head_dim, kv_dim = s.n_head_kv * head_dim;
  uint64_t idx = 0;
  auto fan_in = [](int64_t n) { return 1.0f / std::sqrt(static_cast<float>(n)); };
  std::vector<Status> results;
  results.push_back(add_tensor(writer, pool, a, *type, idx++, "token_embd.weight", {s.n_embd, n_vocab}, fan_in(s.n_embd), s.tied_output));
  results.push_back(add_tensor(writer, pool, a, *type, idx++, "output_norm.weight", {s.n_embd}, 0.0f, false));
  if (!s.tied_output) {
    results.push_back(add_tensor(writer, pool, a, *type, idx++, "output.weight", {s.n_embd, n_vocab}, fan_in(s.n_embd), true));
  }
  if (s.rope_scaling_factor > 0.0f) {
    const auto factors = llama3_rope_freq_factors(s);
    std::vector<uint8_t> bytes(factors.size() * 4);
    std::memcpy(bytes.data(), factors.data(), bytes.size());
    writer.add_tensor("rope_freqs.weight", DType::kF32, {static_cast<int64_t>(factors.size())}, std::move(bytes));
  }
  for (int64_t l = 0; l < s.n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    std::fprintf(stderr, "\rmkmodel: layer %lld/%lld", static_cast<long long>(l + 1), static_cast<long long>(s.n_layer));
    results.push_back(add_tensor(writer, pool, a, *type, idx++, p + "attn_norm.weight", {s.n_embd}, 0.0f, false));
    results.push_back(add_tensor(writer, pool, a, *type, idx++, p + "attn_q.weight", {s.n_embd, q_dim}, fan_in(s.n_embd), false));
    results.push_back(add_tensor(writer, pool, a, *type, idx++, p + "attn_k.weight", {s.n_embd, kv_dim}, fan_in(s.n_embd), false));
    results.push_back(add_tensor(writer, pool, a, *type, idx++, p + "attn_v.weight", {s.n_embd, kv_dim}, fan_in(s.n_embd), false));
    if (s.arch == "qwen2" || s.arch == "qwen2moe") {
      results.push_back(add_tensor(writer, pool, a, *type, idx++, p + "attn_q.bias", {q_dim}, 0.1f, false));
      results.push_back(add_tensor(writer, pool, a, *type, idx++, p + "attn_k.bias", {kv_dim}, 0.1f, false));
      results.push_back(add_tensor(writer, pool, a, *type, idx++, p + "attn_v.bias", {kv_dim}, 0.1f, false));
    }
    results.push_back(add_tensor(writer, pool, a, *type, idx++, p + "attn_output.weight", {q_dim, s.n_embd}, fan_in(q_dim), false));
    // QK norms (qwen3moe: per head; olmoe: whole projection): random around 1 so a missing one shows.
    if (s.arch == "qwen3moe" || s.arch == "olmoe") {
      const bool per_head = s.arch == "qwen3moe";
      results.push_back(add_tensor(writer, pool, a, *type, idx++, p + "attn_q_norm.weight", {per_head ? head_dim : q_dim}, -0.2f, false));
      results.push_back(add_tensor(writer, pool, a, *type, idx++, p + "attn_k_norm.weight", {per_head ? head_dim : kv_dim}, -0.2f, false));
    }
    results.push_back(add_tensor(writer, pool, a, *type, idx++, p + "ffn_norm.weight", {s.n_embd}, 0.0f, false));
    if (s.n_expert == 0) {
      results.push_back(add_tensor(writer, pool, a, *type, idx++, p + "ffn_gate.weight", {s.n_embd, s.n_ff}, fan_in(s.n_embd), false));
      results.push_back(add_tensor(writer, pool, a, *type, idx++, p + "ffn_up.weight", {s.n_embd, s.n_ff}, fan_in(s.n_embd), false));
      results.push_back(add_tensor(writer, pool, a, *type, idx++, p + "ffn_down.weight", {s.n_ff, s.n_embd}, fan_in(s.n_ff), false));
    } else {
      // Router (kept F32 by the recipe, as llama.cpp's converter does) and 3-D expert stacks
      // ne = {cols, rows, n_expert}.
      const int64_t ff = s.n_ff_exp > 0 ? s.n_ff_exp : s.n_ff;
      results.push_back(add_tensor(writer, pool, a, *type, idx++, p + "ffn_gate_inp.weight", {s.n_embd, s.n_expert}, fan_in(s.n_embd), false));
      results.push_back(add_tensor(writer, pool, a, *type, idx++, p + "ffn_gate_exps.weight", {s.n_embd, ff, s.n_expert}, fan_in(s.n_embd), false));
      results.push_back(add_tensor(writer, pool, a, *type, idx++, p + "ffn_up_exps.weight", {s.n_embd, ff, s.n_expert}, fan_in(s.n_embd), false));
      results.push_back(add_tensor(writer, pool, a, *type, idx++, p + "ffn_down_exps.weight", {ff, s.n_embd, s.n_expert}, fan_in(ff), false));
      if (s.n_ff_shexp > 0) {
        const int64_t sh = s.n_ff_shexp;
        results.push_back(add_tensor(writer, pool, a, *type, idx++, p + "ffn_gate_inp_shexp.weight", {s.n_embd}, fan_in(s.n_embd), false));
        results.push_back(add_tensor(writer, pool, a, *type, idx++, p + "ffn_gate_shexp.weight", {s.n_embd, sh}, fan_in(s.n_embd), false));
        results.push_back(add_tensor(writer, pool, a, *type, idx++, p + "ffn_up_shexp.weight", {s.n_embd, sh}, fan_in(s.n_embd), false));
        results.push_back(add_tensor(writer, pool, a, *type, idx++, p + "ffn_down_shexp.weight", {sh, s.n_embd}, fan_in(sh), false));
      }
    }
    for (const Status& r : results) {
      if (!r.is_ok()) return report_error(r);
    }
    results.clear();
  }
  std::fprintf(stderr, "\n");
  st = writer.write(a.out_path);
  if (!st.is_ok()) return report_error(st);
  std::fprintf(stderr, "mkmodel: wrote %s (%s, %s, vocab %lld)\n", a.out_path.c_str(), s.arch.c_str(),
               std::string(file_type_name(*type)).c_str(), static_cast<long long>(n_vocab));
  return 0;
}

}  // namespace

void register_mkmodel(CLI::App& app) {
  auto a = std::make_shared<MkmodelArgs>();
  CLI::App* cmd = app.add_subcommand("mkmodel", "Write a random-weight GGUF model of a given shape and weight type");
  std::string presets;
  for (const auto& p : model_presets()) presets += (presets.empty() ? "" : ", ") + p.preset + " (" + p.description + ")";
  std::string wan;
  for (const auto& p : wan_preset_names()) wan += (wan.empty() ? "" : ", ") + p;
  cmd->add_option("--preset", a->preset, "Named shape: " + presets + "; video model folders: " + wan);
  cmd->add_option("--vocab", a->vocab_path, "GGUF whose tokenizer.* metadata (vocabulary) is copied (LLM presets)");
  cmd->add_option("-o,--out", a->out_path, "Output GGUF file (a folder for the Wan presets)")->required();
  CLI::Option* type_opt = cmd->add_option("--type", a->type_name, "Weight type: f32, f16, bf16, q8_0, q4_0, q5_0, q4_k_m, q5_k_m, q6_k")
      ->capture_default_str();
  cmd->add_option("--arch", a->shape.arch, "llama, qwen2, qwen2moe, qwen3moe or olmoe")->capture_default_str();
  cmd->add_option("--n-layer", a->shape.n_layer, "Transformer blocks");
  cmd->add_option("--n-embd", a->shape.n_embd, "Embedding width");
  cmd->add_option("--n-head", a->shape.n_head, "Attention heads");
  cmd->add_option("--n-head-kv", a->shape.n_head_kv, "Key/value heads (GQA/MQA); default = n-head");
  cmd->add_option("--n-ff", a->shape.n_ff, "Feed-forward width");
  cmd->add_option("--ctx", a->shape.n_ctx, "Training context length");
  cmd->add_option("--n-expert", a->shape.n_expert, "Experts per MoE layer (0 = dense FFN)");
  cmd->add_option("--n-expert-used", a->shape.n_expert_used, "Experts each token is routed to (top-k)");
  cmd->add_option("--n-ff-exp", a->shape.n_ff_exp, "FFN width of one expert (default: --n-ff)");
  cmd->add_option("--n-ff-shexp", a->shape.n_ff_shexp, "qwen2moe: shared expert FFN width (default: --n-ff)");
  cmd->add_option("--rope-theta", a->shape.rope_theta, "RoPE base frequency");
  cmd->add_option("--rms-eps", a->shape.rms_eps, "RMSNorm epsilon");
  cmd->add_flag("--tie", a->tie, "Tie the output matrix to the token embeddings");
  cmd->add_flag("--no-tie", a->untie, "Separate output matrix");
  cmd->add_option("--name", a->name, "general.name");
  cmd->add_option("--seed", a->seed, "Weight RNG seed")->capture_default_str();
  cmd->add_option("-t,--threads", a->threads, "Threads");
  CLI::Option* shards_opt = cmd->add_option(
      "--dit-shards", a->dit_shards,
      "Wan presets: write the DiT as N shards behind diffusion_pytorch_model.safetensors.index.json "
      "(default: as the release, 6 for wan2.1-14b, one file otherwise)");
  CLI::Option* t5_opt = cmd->add_option(
      "--t5-layers", a->t5_layers,
      "Wan presets: write only the first N umT5 blocks (full width; default: all, 24 for umT5-XXL), for "
      "benchmarks on machines that cannot hold the 11.4 GB encoder");
  cmd->callback([a, type_opt, shards_opt, t5_opt] {
    if (is_wan_preset(a->preset)) {
      // The DiT's dtype: f32 as the official release unless --type says otherwise.
      WanMkmodelArgs wan_args{a->preset, a->out_path, type_opt->count() > 0 ? a->type_name : "f32", a->seed, a->threads,
                              a->dit_shards, a->t5_layers};
      if (t5_opt->count() > 0 && a->t5_layers < 1) {
        throw CLI::RuntimeError(report_error(invalid_argument("--t5-layers must be at least 1")));
      }
      if (shards_opt->count() > 0 && a->dit_shards < 1) {
        throw CLI::RuntimeError(report_error(invalid_argument("--dit-shards must be at least 1")));
      }
      Status s = write_wan_model(wan_args);
      if (!s) throw CLI::RuntimeError(report_error(s));
      std::fprintf(stderr, "mkmodel: wrote the %s model folder %s\n", a->preset.c_str(), a->out_path.c_str());
      return;
    }
    if (shards_opt->count() > 0 || t5_opt->count() > 0) {
      throw CLI::RuntimeError(report_error(invalid_argument("--dit-shards and --t5-layers apply to the Wan presets only")));
    }
    if (a->vocab_path.empty()) throw CLI::RuntimeError(report_error(invalid_argument("--vocab is required for LLM models")));
    const int code = mkmodel(*a);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace frugal::cli
