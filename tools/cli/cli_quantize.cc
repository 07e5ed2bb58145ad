// `frugal quantize`: convert a GGUF model to another weight type with frugal's own quantizers,
// using the same per-tensor mixtures as llama.cpp's default recipes (see model/quant_recipe.h).
#include <algorithm>
#include <cctype>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>

#include "cli_common.h"
#include "quantize_awq.h"
#include "video/pipeline/model_files.h"
#include "video/weights/gguf_export.h"
#include "gguf/gguf_writer.h"
#include "model/imatrix_file.h"
#include "model/quant_recipe.h"
#include "quant/quantize.h"
#include "quant/weighted_quantize.h"

namespace frugal::cli {
namespace {

struct QuantizeArgs {
  std::string in_path;
  std::string out_path;
  std::string type_name;
  std::string imatrix_path;
  bool awq = false;
  int threads = 0;
};

// The importance vector of one tensor from the imatrix, or an empty vector when the tensor has no
// entry (llama-quantize's rule: such tensors are quantized without one) or its type has no
// weighted quantizer. Wrong column counts are errors.
Expected<std::vector<float>> tensor_importance(const Imatrix* imatrix, const GgufTensorInfo& info, DType dst) {
  if (imatrix == nullptr || !has_weighted_quantizer(dst) || info.n_dims != 2) return std::vector<float>{};
  auto importance = imatrix->importance(info.name, info.ne[0]);
  if (!importance && importance.error().code() == StatusCode::kNotFound) return std::vector<float>{};
  return importance;
}

// How many of the file's matrices the imatrix has entries for; none is an error (an imatrix of
// another model), as is an entry whose size does not fit its tensor.
Status check_imatrix_matches(const Imatrix& imatrix, const GgufFile& file, const std::string& path) {
  int matched = 0;
  for (const auto& info : file.tensors()) {
    if (info.n_dims != 2 || imatrix.entries.count(info.name) == 0) continue;
    if (auto imp = imatrix.importance(info.name, info.ne[0]); !imp) return invalid_argument(path + ": " + imp.error().message());
    ++matched;
  }
  if (matched == 0) {
    return invalid_argument("imatrix '" + path + "' has no entry for any matrix of this model (first entry: '" +
                            imatrix.entries.begin()->first + "'): it was computed for another model");
  }
  std::fprintf(stderr, "quantize: imatrix %s: %d of its %zu entries match this model's matrices\n", path.c_str(), matched,
               imatrix.entries.size());
  return Status::ok();
}

// A Wan DiT (safetensors, shard index or model folder) → a GGUF DiT as the community ships them.
int quantize_dit(const QuantizeArgs& a) {
  std::string type = a.type_name;
  for (char& c : type) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto dtype = dtype_from_name(type == "Q4_K_M" ? "Q4_K" : type == "Q5_K_M" ? "Q5_K" : type);
  if (!dtype) return report_error(invalid_argument("unknown type '" + a.type_name + "'"));
  std::vector<std::string> paths = {a.in_path};
  if (std::filesystem::is_directory(a.in_path)) {
    auto files = video::resolve_video_model_files(a.in_path, {});
    if (!files) return report_error(files.error());
    paths = files->dits.front().weights;
  }
  auto store = WeightStore::open(paths);
  if (!store) return report_error(store.error());
  ThreadPool pool(a.threads > 0 ? a.threads : default_num_threads());
  if (Status s = write_weights_gguf(*store, a.out_path, *dtype, "wan", pool); !s) return report_error(s);
  std::fprintf(stderr, "quantize: wrote %s (matrices %s, the rest F32)\n", a.out_path.c_str(),
               std::string(dtype_name(*dtype)).c_str());
  return 0;
}

bool is_video_input(const std::string& path) {
  const auto ends = [&](const char* s) {
    const std::string suffix(s);
    return path.size() >= suffix.size() && path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return std::filesystem::is_directory(path) || ends(".safetensors") || ends(".json");
}

int quantize(const QuantizeArgs& a) {
  if (is_video_input(a.in_path)) return quantize_dit(a);
  auto type = file_type_from_name(a.type_name);
  if (!type) return report_error(invalid_argument("unknown type '" + a.type_name + "'"));
  auto file = GgufFile::open(a.in_path);
  if (!file) return report_error(file.error());
  auto n_layer = file->get_uint_or(file->get_string_or("general.architecture", "llama").value() + ".block_count", 0);
  if (!n_layer) return report_error(n_layer.error());
  const bool tied = file->find_tensor("output.weight") == nullptr;

  std::optional<Imatrix> imatrix;
  if (!a.imatrix_path.empty()) {
    auto read = read_imatrix(a.imatrix_path);
    if (!read) return report_error(read.error());
    if (Status s = check_imatrix_matches(*read, *file, a.imatrix_path); !s.is_ok()) return report_error(s);
    imatrix = std::move(*read);
  }

  AwqPlan awq;
  if (a.awq) {
    if (!imatrix) return report_error(invalid_argument("--awq needs --imatrix (the channel scales come from it)"));
    auto plan = plan_awq(*file, *imatrix, *type, static_cast<int64_t>(*n_layer), /*weighted=*/true);
    if (!plan) return report_error(plan.error());
    awq = std::move(*plan);
  }

  GgufWriter writer(file->alignment());
  for (const auto& [key, value] : file->metadata()) writer.set(key, value);
  writer.set_uint32("general.file_type", file_type_gguf_id(*type));
  writer.set_uint32("general.quantization_version", 2);
  if (imatrix) {  // the keys llama-quantize writes
    writer.set_string("quantize.imatrix.file", a.imatrix_path);
    if (!imatrix->datasets.empty()) writer.set_string("quantize.imatrix.dataset", imatrix->datasets.front());
    writer.set_int32("quantize.imatrix.entries_count", static_cast<int32_t>(imatrix->entries.size()));
    writer.set_int32("quantize.imatrix.chunks_count", static_cast<int32_t>(imatrix->chunk_count));
  }

  ThreadPool pool(a.threads > 0 ? a.threads : default_num_threads());
  size_t done = 0;
  for (const auto& info : file->tensors()) {
    const bool is_output = info.name == "output.weight" || (tied && info.name == "token_embd.weight");
    const DType dst = recipe_dtype(*type, info.name, info.n_dims, info.ne[0], static_cast<int64_t>(*n_layer), is_output);
    const TensorView view = file->tensor_view(info);
    std::vector<int64_t> ne(info.ne.begin(), info.ne.begin() + info.n_dims);
    const auto matrix_scale = awq.matrix_scales.find(info.name);
    const auto norm_scale = awq.norm_scales.find(info.name);
    const bool scaled = matrix_scale != awq.matrix_scales.end() || norm_scale != awq.norm_scales.end();
    if (dst == info.dtype && !scaled) {
      const auto* bytes = static_cast<const uint8_t*>(view.data);
      writer.add_tensor(info.name, dst, ne, std::vector<uint8_t>(bytes, bytes + info.size_bytes));
    } else {
      auto values = dequantize_rows(info.dtype, view.data, view.num_rows(), info.ne[0]);
      if (!values) return report_error(values.error());
      auto importance = tensor_importance(imatrix ? &*imatrix : nullptr, info, dst);
      if (!importance) return report_error(importance.error());
      if (matrix_scale != awq.matrix_scales.end()) {  // W[:, j] *= s_j; its importance / s_j^2
        const std::vector<float>& sc = matrix_scale->second;
        for (size_t i = 0; i < values->size(); ++i) (*values)[i] *= sc[i % sc.size()];
        for (size_t j = 0; j < importance->size(); ++j) (*importance)[j] /= sc[j] * sc[j];
      }
      if (norm_scale != awq.norm_scales.end()) {  // g_j /= s_j
        for (size_t j = 0; j < values->size(); ++j) (*values)[j] /= norm_scale->second[j % norm_scale->second.size()];
      }
      auto bytes = parallel_quantize(pool, dst, values->data(), view.num_rows(), info.ne[0],
                                              importance->empty() ? nullptr : importance->data());
      if (!bytes) return report_error(bytes.error());
      writer.add_tensor(info.name, dst, ne, std::move(*bytes));
    }
    std::fprintf(stderr, "\rquantize: %zu/%zu tensors", ++done, file->tensors().size());
  }
  std::fprintf(stderr, "\n");
  Status st = writer.write(a.out_path);
  if (!st.is_ok()) return report_error(st);
  std::fprintf(stderr, "quantize: wrote %s (%s)\n", a.out_path.c_str(), std::string(file_type_name(*type)).c_str());
  return 0;
}

}  // namespace

void register_quantize(CLI::App& app) {
  auto a = std::make_shared<QuantizeArgs>();
  CLI::App* cmd = app.add_subcommand("quantize", "Convert a GGUF model's weights to another type (frugal's quantizers); a Wan DiT to GGUF");
  cmd->add_option("input", a->in_path, "Input GGUF, or a Wan DiT (safetensors, index .json, model folder)")->required();
  cmd->add_option("output", a->out_path, "Output GGUF")->required();
  cmd->add_option("type", a->type_name, "f32, f16, bf16, q8_0, q4_0, q5_0, q4_k_m, q5_k_m, q6_k")->required();
  cmd->add_option("--imatrix", a->imatrix_path,
                  "Importance matrix (frugal imatrix / llama-imatrix, GGUF or .dat): importance-weighted rounding for "
                  "Q4_0, Q4_K, Q5_K, Q6_K");
  cmd->add_flag("--awq", a->awq,
                "With --imatrix: also fold AWQ-style per-channel scales into attn_norm/ffn_norm (searched per norm)");
  cmd->add_option("-t,--threads", a->threads, "Threads");
  cmd->callback([a] {
    const int code = quantize(*a);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace frugal::cli
