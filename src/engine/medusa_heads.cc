#include "engine/medusa_heads.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>

#include "core/fp16.h"

namespace frugal {
namespace {

constexpr int32_t kMaxHeads = 16;
constexpr size_t kMaxTreeNodes = 256;

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
  if (Status st = out->load_tree(path); !st.is_ok()) return st;
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
  if (Status st = out->load_shortlist(path); !st.is_ok()) return st;
  out->prepare_weights();
  return std::shared_ptr<const MedusaHeads>(std::move(out));
}

Status MedusaHeads::load_shortlist(const std::string& path) {
  if (!file_.has("medusa.shortlist")) return Status::ok();
  auto ids = file_.get_int_array("medusa.shortlist");
  if (!ids) return bad(path, "medusa.shortlist must be an int array");
  const TensorView& output = base_.weights().output;
  const int64_t n_vocab = base_.config().n_vocab;
  if (static_cast<int64_t>(ids->size()) < top_ranks_ || static_cast<int64_t>(ids->size()) > n_vocab) {
    return bad(path, "medusa.shortlist must hold top_ranks to n_vocab token ids");
  }
  for (size_t i = 0; i < ids->size(); ++i) {
    const int64_t id = (*ids)[i];
    if (id < 0 || id >= n_vocab || (i > 0 && id <= (*ids)[i - 1])) {
      return bad(path, "medusa.shortlist must be ascending token ids in [0, n_vocab)");
    }
    shortlist_.push_back(static_cast<int32_t>(id));
  }
  // The shortlisted rows of the base's output matrix, in its own dtype (rows are independent).
  const int64_t row_bytes = output.row_bytes();
  shortlist_rows_.resize(static_cast<size_t>(row_bytes) * shortlist_.size());
  for (size_t i = 0; i < shortlist_.size(); ++i) {
    std::memcpy(shortlist_rows_.data() + i * static_cast<size_t>(row_bytes), output.row(shortlist_[i]),
                static_cast<size_t>(row_bytes));
  }
  shortlist_output_.dtype = output.dtype;
  shortlist_output_.ne = {output.ne[0], static_cast<int64_t>(shortlist_.size()), 1, 1};
  shortlist_output_.n_dims = 2;
  shortlist_output_.data = shortlist_rows_.data();
  pack_for_kernels(shortlist_output_, packed_);
  return Status::ok();
}

void MedusaHeads::prepare_weights() {
  const int64_t d = n_embd();
  weights_f16_.resize(static_cast<size_t>(num_heads_ * d * d));
  for (int32_t k = 0; k < num_heads_; ++k) {
    const float* w = static_cast<const float*>(weights_[static_cast<size_t>(k)].data);
    uint16_t* out = weights_f16_.data() + k * d * d;
    for (int64_t i = 0; i < d * d; ++i) out[i] = f32_to_f16(w[i]);
  }
  for (int32_t k = 0; k < num_heads_; ++k) {
    TensorView v;
    v.dtype = DType::kF16;
    v.ne = {d, d, 1, 1};
    v.n_dims = 2;
    v.data = weights_f16_.data() + k * d * d;
    pack_for_kernels(v, packed_);
    weights16_.push_back(v);
  }
}

Status MedusaHeads::load_tree(const std::string& path) {
  if (!file_.has("medusa.tree.parent")) return Status::ok();  // an older file: the engine models one
  auto parent = file_.get_int_array("medusa.tree.parent");
  auto rank = file_.get_int_array("medusa.tree.rank");
  auto chance = file_.get_float_array("medusa.tree.chance");
  if (!parent || !rank || !chance) return bad(path, "medusa.tree.parent/rank/chance must be int, int and float arrays");
  const size_t n = parent->size();
  if (n < 1 || n > kMaxTreeNodes || rank->size() != n || chance->size() != n) {
    return bad(path, "medusa.tree.* must hold the same number of nodes, 1 to " + std::to_string(kMaxTreeNodes));
  }
  std::vector<int32_t> depth;
  for (size_t i = 0; i < n; ++i) {
    const int64_t p = (*parent)[i], r = (*rank)[i];
    const double c = (*chance)[i];
    if (p < -1 || p >= static_cast<int64_t>(i)) return bad(path, "medusa.tree node " + std::to_string(i) + ": its parent must come before it");
    depth.push_back(p < 0 ? 1 : depth[static_cast<size_t>(p)] + 1);
    if (depth.back() > num_heads_) return bad(path, "medusa.tree node " + std::to_string(i) + " is deeper than the heads");
    if (r < 0 || r >= top_ranks_) return bad(path, "medusa.tree node " + std::to_string(i) + ": rank outside [0, top_ranks)");
    if (!(c >= 0 && c <= 1)) return bad(path, "medusa.tree.chance values must be in [0, 1]");
    tree_parent_.push_back(static_cast<int32_t>(p));
    tree_rank_.push_back(static_cast<int32_t>(r));
    tree_chance_.push_back(static_cast<float>(c));
  }
  return Status::ok();
}

void MedusaHeads::top_tokens(const float* hidden, int64_t n, int32_t heads, int32_t ranks, ThreadPool& pool, Scratch& s,
                             std::vector<int32_t>& out) const {
  const int64_t d = n_embd(), K = std::clamp(heads, 1, num_heads_), rows = n * K;
  // pre[k] = W_k h for every row: one matmul_multi over the K weights ([K, n, n_embd]).
  s.pre.resize(static_cast<size_t>(K * n * d));
  s.targets.clear();
  for (int64_t k = 0; k < K; ++k) s.targets.push_back({&weights16_[static_cast<size_t>(k)], s.pre.data() + k * n * d});
  matmul_multi(s.targets.data(), static_cast<int>(K), hidden, n, pool, s.matmul, MatmulPath::kFast);
  // z[i, k] = h_i + SiLU(W_k h_i + b_k): [n, K, n_embd]
  s.z.resize(static_cast<size_t>(rows * d));
  for (int64_t k = 0; k < K; ++k) {
    const float* bias = biases_[static_cast<size_t>(k)];
    for (int64_t i = 0; i < n; ++i) {
      const float* h = hidden + i * d;
      const float* p = s.pre.data() + (k * n + i) * d;
      float* z = s.z.data() + (i * K + k) * d;
      for (int64_t j = 0; j < d; ++j) {
        const float a = p[j] + bias[j];
        z[j] = h[j] + a / (1.0f + std::exp(-a));
      }
    }
  }
  // One matmul over the base's output matrix (or its shortlisted rows) for every head of every
  // row: [n * K, V].
  const TensorView& output = shortlist_.empty() ? base_.weights().output : shortlist_output_;
  const int64_t V = output.num_rows();
  s.logits.resize(static_cast<size_t>(rows * V));
  matmul(output, s.z.data(), rows, s.logits.data(), pool, s.matmul, MatmulPath::kFast);
  const auto token = [&](int64_t j) { return shortlist_.empty() ? static_cast<int32_t>(j) : shortlist_[static_cast<size_t>(j)]; };
  out.resize(static_cast<size_t>(rows * ranks));
  if (ranks > 1) s.order.resize(static_cast<size_t>(V));
  for (int64_t r = 0; r < rows; ++r) {
    const float* l = s.logits.data() + r * V;
    if (ranks == 1) {  // a chain-shaped tree: the argmax (the first of equal maxima, as below)
      out[static_cast<size_t>(r)] = token(std::max_element(l, l + V) - l);
      continue;
    }
    std::iota(s.order.begin(), s.order.end(), 0);
    std::partial_sort(s.order.begin(), s.order.begin() + ranks, s.order.end(), [l](int32_t a, int32_t b) {
      return l[a] > l[b] || (l[a] == l[b] && a < b);
    });
    for (int32_t j = 0; j < ranks; ++j) out[static_cast<size_t>(r * ranks + j)] = token(s.order[static_cast<size_t>(j)]);
  }
}

}  // namespace frugal
