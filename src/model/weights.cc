#include "model/weights.h"

#include <string>

#include "kernels/kernel_table.h"

namespace frugal {
namespace {

std::string shape_string(const std::array<int64_t, 4>& ne, int n_dims) {
  std::string s = "[";
  for (int d = 0; d < n_dims; ++d) {
    if (d > 0) s += ", ";
    s += std::to_string(ne[static_cast<size_t>(d)]);
  }
  return s + "]";
}

// A tensor with exactly the given GGUF dims (ne[0] innermost).
Expected<const GgufTensorInfo*> find_shaped(const GgufFile& file, const std::string& name,
                                            std::initializer_list<int64_t> dims) {
  const GgufTensorInfo* info = file.find_tensor(name);
  if (info == nullptr) return not_found("model: required tensor '" + name + "' is missing");
  std::array<int64_t, 4> want = {1, 1, 1, 1};
  int n = 0;
  for (int64_t d : dims) want[static_cast<size_t>(n++)] = d;
  bool same = true;
  for (size_t d = 0; d < 4; ++d) same = same && info->ne[d] == want[d];
  if (!same) {
    return invalid_argument("model: tensor '" + name + "' has shape " + shape_string(info->ne, info->n_dims) +
                            ", expected " + shape_string(want, n));
  }
  return info;
}

Expected<TensorView> bind_matrix(const GgufFile& file, const std::string& name, int64_t n_in, int64_t n_out) {
  auto info = find_shaped(file, name, {n_in, n_out});
  if (!info) return info.error();
  const DType act = activation_dtype((*info)->dtype);
  const int64_t act_block = dtype_traits(act).block_elems;
  if (n_in % act_block != 0) {
    return invalid_argument("model: tensor '" + name + "' of type " + std::string(dtype_name((*info)->dtype)) +
                            " has rows of " + std::to_string(n_in) + " elements, not a multiple of " +
                            std::to_string(act_block));
  }
  return file.tensor_view(**info);
}

// A 3-D expert tensor ne = {n_in, n_out, n_expert}: one [n_out, n_in] view per expert.
Expected<std::vector<TensorView>> bind_experts(const GgufFile& file, const std::string& name, int64_t n_in,
                                               int64_t n_out, int64_t n_expert) {
  auto info = find_shaped(file, name, {n_in, n_out, n_expert});
  if (!info) return info.error();
  const int64_t act_block = dtype_traits(activation_dtype((*info)->dtype)).block_elems;
  if (n_in % act_block != 0) {
    return invalid_argument("model: tensor '" + name + "' of type " + std::string(dtype_name((*info)->dtype)) +
                            " has rows of " + std::to_string(n_in) + " elements, not a multiple of " +
                            std::to_string(act_block));
  }
  const TensorView all = file.tensor_view(**info);
  std::vector<TensorView> experts(static_cast<size_t>(n_expert), all);
  for (int64_t e = 0; e < n_expert; ++e) {
    TensorView& v = experts[static_cast<size_t>(e)];
    v.ne = {n_in, n_out, 1, 1};
    v.n_dims = 2;
    v.data = all.row(e * n_out);
  }
  return experts;
}

Expected<std::vector<float>> bind_vector(const GgufFile& file, const std::string& name, int64_t n) {
  auto info = find_shaped(file, name, {n});
  if (!info) return info.error();
  const TensorView view = file.tensor_view(**info);
  const KernelTable* ref = kernels_for(Isa::kRef);
  std::vector<float> out(static_cast<size_t>(n));
  ref->dequantize_row[static_cast<size_t>(view.dtype)](view.data, out.data(), n);
  return out;
}

Status bind_layer(const GgufFile& file, const ModelConfig& c, int64_t layer_idx, LayerWeights& l) {
  const std::string p = "blk." + std::to_string(layer_idx) + ".";
  auto set_matrix = [&](TensorView& dst, const char* suffix, int64_t n_in, int64_t n_out) -> Status {
    auto v = bind_matrix(file, p + suffix, n_in, n_out);
    if (!v) return v.error();
    dst = *v;
    return Status::ok();
  };
  auto set_vector = [&](std::vector<float>& dst, const char* suffix, int64_t n) -> Status {
    auto v = bind_vector(file, p + suffix, n);
    if (!v) return v.error();
    dst = std::move(*v);
    return Status::ok();
  };
  auto set_experts = [&](std::vector<TensorView>& dst, const char* suffix, int64_t n_in, int64_t n_out) -> Status {
    auto v = bind_experts(file, p + suffix, n_in, n_out, c.n_expert);
    if (!v) return v.error();
    dst = std::move(*v);
    return Status::ok();
  };
  for (Status st : {set_vector(l.attn_norm, "attn_norm.weight", c.n_embd),
                    set_matrix(l.wq, "attn_q.weight", c.n_embd, c.q_dim()),
                    set_matrix(l.wk, "attn_k.weight", c.n_embd, c.kv_dim()),
                    set_matrix(l.wv, "attn_v.weight", c.n_embd, c.kv_dim()),
                    set_matrix(l.wo, "attn_output.weight", c.q_dim(), c.n_embd),
                    set_vector(l.ffn_norm, "ffn_norm.weight", c.n_embd)}) {
    if (!st.is_ok()) return st;
  }
  if (c.qk_norm != QkNorm::kNone) {
    const bool per_head = c.qk_norm == QkNorm::kPerHead;
    for (Status st : {set_vector(l.q_norm, "attn_q_norm.weight", per_head ? c.head_dim : c.q_dim()),
                      set_vector(l.k_norm, "attn_k_norm.weight", per_head ? c.head_dim : c.kv_dim())}) {
      if (!st.is_ok()) return st;
    }
  }
  if (!c.is_moe()) {
    for (Status st : {set_matrix(l.w_gate, "ffn_gate.weight", c.n_embd, c.n_ff),
                      set_matrix(l.w_up, "ffn_up.weight", c.n_embd, c.n_ff),
                      set_matrix(l.w_down, "ffn_down.weight", c.n_ff, c.n_embd)}) {
      if (!st.is_ok()) return st;
    }
  } else {
    for (Status st : {set_matrix(l.gate_inp, "ffn_gate_inp.weight", c.n_embd, c.n_expert),
                      set_experts(l.gate_exps, "ffn_gate_exps.weight", c.n_embd, c.n_ff_exp),
                      set_experts(l.up_exps, "ffn_up_exps.weight", c.n_embd, c.n_ff_exp),
                      set_experts(l.down_exps, "ffn_down_exps.weight", c.n_ff_exp, c.n_embd)}) {
      if (!st.is_ok()) return st;
    }
    if (c.n_ff_shexp > 0) {
      for (Status st : {set_vector(l.shexp_gate, "ffn_gate_inp_shexp.weight", c.n_embd),
                        set_matrix(l.gate_shexp, "ffn_gate_shexp.weight", c.n_embd, c.n_ff_shexp),
                        set_matrix(l.up_shexp, "ffn_up_shexp.weight", c.n_embd, c.n_ff_shexp),
                        set_matrix(l.down_shexp, "ffn_down_shexp.weight", c.n_ff_shexp, c.n_embd)}) {
        if (!st.is_ok()) return st;
      }
    }
  }
  if (c.qkv_bias) {
    for (Status st : {set_vector(l.bq, "attn_q.bias", c.q_dim()), set_vector(l.bk, "attn_k.bias", c.kv_dim()),
                      set_vector(l.bv, "attn_v.bias", c.kv_dim())}) {
      if (!st.is_ok()) return st;
    }
  }
  return Status::ok();
}

}  // namespace

Expected<ModelWeights> bind_weights(const GgufFile& file, ModelConfig& config) {
  ModelWeights w;
  const GgufTensorInfo* embd = file.find_tensor("token_embd.weight");
  if (embd == nullptr) return not_found("model: required tensor 'token_embd.weight' is missing");
  if (embd->n_dims != 2 || embd->ne[0] != config.n_embd) {
    return invalid_argument("model: tensor 'token_embd.weight' has shape " + shape_string(embd->ne, embd->n_dims) +
                            ", expected [" + std::to_string(config.n_embd) + ", n_vocab]");
  }
  config.n_vocab = embd->ne[1];
  w.token_embd = file.tensor_view(*embd);

  auto norm = bind_vector(file, "output_norm.weight", config.n_embd);
  if (!norm) return norm.error();
  w.output_norm = std::move(*norm);

  config.tied_output = file.find_tensor("output.weight") == nullptr;
  if (config.tied_output) {
    auto out = bind_matrix(file, "token_embd.weight", config.n_embd, config.n_vocab);
    if (!out) return out.error();
    w.output = *out;
  } else {
    auto out = bind_matrix(file, "output.weight", config.n_embd, config.n_vocab);
    if (!out) return out.error();
    w.output = *out;
  }

  if (file.find_tensor("rope_freqs.weight") != nullptr) {
    auto factors = bind_vector(file, "rope_freqs.weight", config.rope.n_rot / 2);
    if (!factors) return factors.error();
    config.rope.freq_factors = std::move(*factors);
  }

  w.layers.resize(static_cast<size_t>(config.n_layer));
  for (int64_t layer_idx = 0; layer_idx < config.n_layer; ++layer_idx) {
    Status st = bind_layer(file, config, layer_idx, w.layers[static_cast<size_t>(layer_idx)]);
    if (!st.is_ok()) return st;
  }
  return w;
}

void pack_matrices(ModelWeights& weights, const GgufFile& file) {
  auto pack = [&](TensorView& w) {
    pack_for_kernels(w, weights.packed);
    if (w.packed != nullptr) file.release_pages(w.data, static_cast<size_t>(w.size_bytes()));
  };
  for (LayerWeights& l : weights.layers) {
    for (TensorView* w : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down, &l.gate_inp, &l.gate_shexp,
                          &l.up_shexp, &l.down_shexp}) {
      if (w->valid()) pack(*w);
    }
    for (auto* experts : {&l.gate_exps, &l.up_exps, &l.down_exps}) {
      for (TensorView& w : *experts) pack(w);
    }
  }
  pack(weights.output);
}

}  // namespace frugal
