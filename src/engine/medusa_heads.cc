#include "engine/medusa_heads.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>

namespace frugal {
namespace {

constexpr int32_t kMaxHeads = 16;

Status bad(const std::string& path, const std::string& what) {
  return invalid_argument("medusa heads " + path + ": " + what);
}

}  // namespace

std::string medusa_base_fingerprint(const Model& base) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a 64 over output_norm.weight's f32 bytes (little-endian hosts)
  const std::vector<float>& norm = base.weights().output_norm;
  const auto* bytes = reinterpret_cast<const unsigned char*>(norm.data());
  for (size_t i = 0; i < norm.size() * sizeof(float); ++i) h = (h ^ bytes[i]) * 0x100000001b3ULL;
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(h));
  return text;
}

Expected<std::shared_ptr<const MedusaHeads>> MedusaHeads::load(const std::string& path, const Model& base) {
  auto file = GgufFile::open(path);
  if (!file) return bad(path, file.error().message());
  auto arch = file->get_string("general.architecture");
  if (!arch || *arch != "medusa") {
    return bad(path, "not a Medusa heads file (general.architecture is " + (arch ? "\"" + *arch + "\"" : "missing") +
                         ", want \"medusa\"; train one with tools/train/medusa.py)");
  }
  auto heads = file->get_uint("medusa.head_count");
  auto ranks = file->get_uint("medusa.top_ranks");
  auto embd = file->get_uint("medusa.base.embedding_length");
  auto vocab = file->get_uint("medusa.base.vocab_size");
  auto layers = file->get_uint("medusa.base.block_count");
  auto print = file->get_string("medusa.base.fingerprint");
  auto acc = file->get_float_array("medusa.accuracy");
  if (!heads || !ranks || !embd || !vocab || !layers || !print || !acc) return bad(path, "missing medusa.* metadata");
  if (*heads < 1 || *heads > kMaxHeads) return bad(path, "head_count must be in [1, 16]");
  if (*ranks < 1 || *ranks > 64) return bad(path, "top_ranks must be in [1, 64]");
  const ModelConfig& c = base.config();
  if (static_cast<int64_t>(*embd) != c.n_embd || static_cast<int64_t>(*vocab) != c.n_vocab ||
      static_cast<int64_t>(*layers) != c.n_layer) {
    return bad(path, "made for a base with n_embd " + std::to_string(*embd) + ", " + std::to_string(*vocab) +
                         " tokens, " + std::to_string(*layers) + " layers; this target has n_embd " +
                         std::to_string(c.n_embd) + ", " + std::to_string(c.n_vocab) + " tokens, " +
                         std::to_string(c.n_layer) + " layers");
  }
  const std::string mine = medusa_base_fingerprint(base);
  if (*print != mine) {
    auto name = file->get_string_or("medusa.base.name", "?");
    return bad(path, "made for another model (\"" + (name ? *name : std::string("?")) + "\", fingerprint " + *print +
                         "); this target's fingerprint is " + mine);
  }
  if (acc->size() != *heads * *ranks) return bad(path, "medusa.accuracy must hold head_count x top_ranks values");
  std::shared_ptr<MedusaHeads> out(new MedusaHeads(std::move(*file), base));
  out->num_heads_ = static_cast<int32_t>(*heads);
  out->top_ranks_ = static_cast<int32_t>(*ranks);
  for (double a : *acc) {
    if (!(a >= 0 && a <= 1)) return bad(path, "medusa.accuracy values must be in [0, 1]");
    out->accuracy_.push_back(static_cast<float>(a));
  }
  for (int32_t k = 0; k < out->num_heads_; ++k) {
    const std::string w_name = "medusa." + std::to_string(k) + ".weight", b_name = "medusa." + std::to_string(k) + ".bias";
    const GgufTensorInfo* w = out->file_.find_tensor(w_name);
    const GgufTensorInfo* b = out->file_.find_tensor(b_name);
    if (w == nullptr || b == nullptr) return bad(path, "missing tensor " + (w == nullptr ? w_name : b_name));
    if (w->dtype != DType::kF32 || w->ne[0] != c.n_embd || w->ne[1] != c.n_embd || w->num_elements() != c.n_embd * c.n_embd) {
      return bad(path, w_name + " must be F32 [" + std::to_string(c.n_embd) + ", " + std::to_string(c.n_embd) + "]");
    }
    if (b->dtype != DType::kF32 || b->num_elements() != c.n_embd) {
      return bad(path, b_name + " must be F32 [" + std::to_string(c.n_embd) + "]");
    }
    out->weights_.push_back(out->file_.tensor_view(*w));
    out->biases_.push_back(static_cast<const float*>(out->file_.tensor_view(*b).data));
  }
  return std::shared_ptr<const MedusaHeads>(std::move(out));
}

void MedusaHeads::top_tokens(const float* hidden, int64_t n, int32_t ranks, ThreadPool& pool, Scratch& s,
                             std::vector<int32_t>& out) const {
  const ModelConfig& c = base_.config();
  const int64_t d = c.n_embd, K = num_heads_, rows = n * K;
  s.pre.resize(static_cast<size_t>(n * d));
  s.z.resize(static_cast<size_t>(rows * d));
  // z[i, k] = h_i + SiLU(W_k h_i + b_k): [n, K, n_embd]
  for (int64_t k = 0; k < K; ++k) {
    matmul(weights_[static_cast<size_t>(k)], hidden, n, s.pre.data(), pool, s.matmul, MatmulPath::kFast);
    const float* bias = biases_[static_cast<size_t>(k)];
    for (int64_t i = 0; i < n; ++i) {
      const float* h = hidden + i * d;
      const float* p = s.pre.data() + i * d;
      float* z = s.z.data() + (i * K + k) * d;
      for (int64_t j = 0; j < d; ++j) {
        const float a = p[j] + bias[j];
        z[j] = h[j] + a / (1.0f + std::exp(-a));
      }
    }
  }
  // One matmul over the base's output matrix for every head of every row: [n * K, n_vocab].
  s.logits.resize(static_cast<size_t>(rows * c.n_vocab));
  matmul(base_.weights().output, s.z.data(), rows, s.logits.data(), pool, s.matmul, MatmulPath::kFast);
  out.resize(static_cast<size_t>(rows * ranks));
  std::vector<int32_t> idx(static_cast<size_t>(c.n_vocab));
  for (int64_t r = 0; r < rows; ++r) {
    const float* l = s.logits.data() + r * c.n_vocab;
    std::iota(idx.begin(), idx.end(), 0);
    std::partial_sort(idx.begin(), idx.begin() + ranks, idx.end(), [l](int32_t a, int32_t b) {
      return l[a] > l[b] || (l[a] == l[b] && a < b);
    });
    std::copy(idx.begin(), idx.begin() + ranks, out.begin() + r * ranks);
  }
}

}  // namespace frugal
