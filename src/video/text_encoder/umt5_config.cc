#include "video/text_encoder/umt5_config.h"

#include <algorithm>
#include <charconv>
#include <set>

namespace frugal::video {
namespace {

// N of "blocks.N.<anything>", or -1.
int64_t block_index_of(const std::string& name) {
  static const std::string kPrefix = "blocks.";
  if (name.rfind(kPrefix, 0) != 0) return -1;
  const char* begin = name.data() + kPrefix.size();
  const char* end = name.data() + name.size();
  int64_t idx = -1;
  const auto [ptr, ec] = std::from_chars(begin, end, idx);
  if (ec != std::errc() || ptr == begin || ptr == end || *ptr != '.') return -1;
  return idx;
}

Expected<std::vector<int64_t>> shape_2d(const WeightStore& store, const std::string& name) {
  auto shape = store.shape(name);
  if (!shape) return not_found("umT5 checkpoint: tensor \"" + name + "\" is missing");
  if (shape->size() != 2 || (*shape)[0] <= 0 || (*shape)[1] <= 0) {
    return invalid_argument("umT5 checkpoint: tensor \"" + name + "\" has shape " + shape_string(*shape) +
                            "; expected a non-empty 2-D tensor");
  }
  return shape;
}

Expected<int64_t> count_layers(const WeightStore& store) {
  std::set<int64_t> indices;
  for (const std::string& name : store.names()) {
    const int64_t idx = block_index_of(name);
    if (idx >= 0) indices.insert(idx);
  }
  if (indices.empty()) return not_found("umT5 checkpoint: no \"blocks.N.*\" tensors");
  const int64_t num_layers = *indices.rbegin() + 1;
  if (static_cast<int64_t>(indices.size()) != num_layers) {
    for (int64_t i = 0; i < num_layers; ++i) {
      if (indices.count(i) == 0) return not_found("umT5 checkpoint: block " + std::to_string(i) + " is missing");
    }
  }
  return num_layers;
}

}  // namespace

int64_t UmT5Config::num_params() const {
  int64_t total = 0;
  for (const UmT5TensorSpec& spec : umt5_tensor_specs(*this)) {
    int64_t n = 1;
    for (int64_t d : spec.shape) n *= d;
    total += n;
  }
  return total;
}

UmT5Config umt5_xxl_config() {
  UmT5Config c;
  c.vocab = 256384;
  c.dim = 4096;
  c.dim_attn = 4096;
  c.dim_ffn = 10240;
  c.num_heads = 64;
  c.num_layers = 24;
  c.num_buckets = 32;
  return c;
}

std::string umt5_block_tensor(int64_t layer_idx, const std::string& suffix) {
  return "blocks." + std::to_string(layer_idx) + "." + suffix;
}

Expected<UmT5Config> infer_umt5_config(const WeightStore& store) {
  auto embedding = shape_2d(store, "token_embedding.weight");  // [vocab, dim]
  if (!embedding) return embedding.error();
  auto q = shape_2d(store, "blocks.0.attn.q.weight");  // [dim_attn, dim]
  if (!q) return q.error();
  auto fc1 = shape_2d(store, "blocks.0.ffn.fc1.weight");  // [dim_ffn, dim]
  if (!fc1) return fc1.error();
  auto pos = shape_2d(store, "blocks.0.pos_embedding.embedding.weight");  // [num_buckets, num_heads]
  if (!pos) return pos.error();
  auto num_layers = count_layers(store);
  if (!num_layers) return num_layers.error();

  UmT5Config c;
  c.vocab = (*embedding)[0];
  c.dim = (*embedding)[1];
  c.dim_attn = (*q)[0];
  c.dim_ffn = (*fc1)[0];
  c.num_buckets = (*pos)[0];
  c.num_heads = (*pos)[1];
  c.num_layers = *num_layers;
  if (c.dim_attn % c.num_heads != 0) {
    return invalid_argument("umT5 checkpoint: dim_attn " + std::to_string(c.dim_attn) + " is not a multiple of " +
                            std::to_string(c.num_heads) + " heads");
  }
  if (c.num_buckets % 2 != 0 || c.num_buckets < 4) {
    return invalid_argument("umT5 checkpoint: " + std::to_string(c.num_buckets) +
                            " position buckets; bidirectional buckets need an even count >= 4");
  }
  return c;
}

std::vector<UmT5TensorSpec> umt5_tensor_specs(const UmT5Config& c) {
  std::vector<UmT5TensorSpec> specs;
  specs.push_back({"norm.weight", {c.dim}});
  specs.push_back({"token_embedding.weight", {c.vocab, c.dim}});
  for (int64_t layer = 0; layer < c.num_layers; ++layer) {
    specs.push_back({umt5_block_tensor(layer, "attn.k.weight"), {c.dim_attn, c.dim}});
    specs.push_back({umt5_block_tensor(layer, "attn.o.weight"), {c.dim, c.dim_attn}});
    specs.push_back({umt5_block_tensor(layer, "attn.q.weight"), {c.dim_attn, c.dim}});
    specs.push_back({umt5_block_tensor(layer, "attn.v.weight"), {c.dim_attn, c.dim}});
    specs.push_back({umt5_block_tensor(layer, "ffn.fc1.weight"), {c.dim_ffn, c.dim}});
    specs.push_back({umt5_block_tensor(layer, "ffn.fc2.weight"), {c.dim, c.dim_ffn}});
    specs.push_back({umt5_block_tensor(layer, "ffn.gate.0.weight"), {c.dim_ffn, c.dim}});
    specs.push_back({umt5_block_tensor(layer, "norm1.weight"), {c.dim}});
    specs.push_back({umt5_block_tensor(layer, "norm2.weight"), {c.dim}});
    specs.push_back({umt5_block_tensor(layer, "pos_embedding.embedding.weight"), {c.num_buckets, c.num_heads}});
  }
  std::sort(specs.begin(), specs.end(),
            [](const UmT5TensorSpec& a, const UmT5TensorSpec& b) { return a.name < b.name; });
  return specs;
}

}  // namespace frugal::video
