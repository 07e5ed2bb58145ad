// `frugal inspect`: a GGUF file's metadata, tensor table, parameter count, bytes per type, and the
// memory a context length needs; for safetensors files and video model folders, see inspect_video.cc.
#include <cstdio>
#include <map>
#include <string>

#include "cli_common.h"
#include "gguf/gguf_reader.h"
#include "inspect_video.h"
#include "model/architecture.h"

namespace frugal::cli {
namespace {

struct InspectArgs {
  std::string model_path;
  int64_t n_ctx = 0;
  bool all_tensors = false;
};

std::string dims_string(const GgufTensorInfo& t) {
  std::string s = "[";
  for (int d = 0; d < t.n_dims; ++d) s += (d ? ", " : "") + std::to_string(t.ne[static_cast<size_t>(d)]);
  return s + "]";
}

void print_metadata(const GgufFile& file) {
  std::printf("GGUF v%u, %zu metadata keys, %zu tensors, alignment %llu, file %s\n", file.version(),
              file.metadata().size(), file.tensors().size(), static_cast<unsigned long long>(file.alignment()),
              human_bytes(static_cast<double>(file.file_size_bytes())).c_str());
  std::printf("\nmetadata:\n");
  for (const auto& [key, value] : file.metadata()) std::printf("  %-44s %s\n", key.c_str(), value.to_string(6).c_str());
}

void print_tensors(const GgufFile& file, bool all) {
  std::printf("\ntensors:\n  %-34s %-6s %-20s %12s\n", "name", "type", "shape (ne0 first)", "bytes");
  std::map<std::string, std::pair<int64_t, uint64_t>> per_type;  // type -> (elements, bytes)
  int64_t n_params = 0;
  size_t shown = 0;
  for (const auto& t : file.tensors()) {
    const std::string type(dtype_name(t.dtype));
    per_type[type].first += t.num_elements();
    per_type[type].second += t.size_bytes;
    n_params += t.num_elements();
    // Without --all, the per-layer tensors of layers past blk.0 are summarised.
    if (all || t.name.rfind("blk.", 0) != 0 || t.name.rfind("blk.0.", 0) == 0) {
      std::printf("  %-34s %-6s %-20s %12llu\n", t.name.c_str(), type.c_str(), dims_string(t).c_str(),
                  static_cast<unsigned long long>(t.size_bytes));
      ++shown;
    }
  }
  if (shown < file.tensors().size()) std::printf("  ... %zu more (--all lists every tensor)\n", file.tensors().size() - shown);
  std::printf("\nparameters: %lld (%.3f B)\nbytes per type:\n", static_cast<long long>(n_params), n_params / 1e9);
  for (const auto& [type, v] : per_type) {
    std::printf("  %-6s %14lld params %12s  (%.3f bytes/param)\n", type.c_str(), static_cast<long long>(v.first),
                human_bytes(static_cast<double>(v.second)).c_str(), static_cast<double>(v.second) / v.first);
  }
}

int inspect(const InspectArgs& args) {
  if (is_video_inspect_target(args.model_path)) return inspect_video(args.model_path, args.all_tensors);
  auto file = GgufFile::open(args.model_path);
  if (!file) return report_error(file.error());
  print_metadata(*file);
  print_tensors(*file, args.all_tensors);
  if (file->tensors().empty()) return 0;  // vocab-only file
  const auto arch = file->get_string_or("general.architecture", "");
  if (arch && *arch == "wan") {  // a video DiT, not an LLM
    std::printf("\n");
    return inspect_wan_gguf(args.model_path);
  }

  auto model = Model::from_file(std::move(*file));
  if (!model) return report_error(model.error());
  const ModelConfig& c = (*model)->config();
  const int64_t n_ctx = args.n_ctx > 0 ? args.n_ctx : c.n_ctx_train;
  uint64_t weight_bytes = 0;
  for (const auto& t : (*model)->file().tensors()) weight_bytes += t.size_bytes;
  const int64_t kv_bytes = c.kv_bytes_f32(n_ctx);
  // Activation scratch of one decode step plus the logits row (prefill batches grow it linearly).
  const int64_t scratch_bytes = 4 * (4 * c.n_embd + 2 * c.q_dim() + 2 * c.kv_dim() + 2 * c.ffn_scratch_width() + c.n_vocab);
  std::printf("\nmodel: %s '%s': %lld layers, n_embd %lld, heads %lld (kv %lld, head_dim %lld), n_ff %lld, vocab %lld, "
              "context %lld, %s output\n",
              c.arch.c_str(), c.name.c_str(), static_cast<long long>(c.n_layer), static_cast<long long>(c.n_embd),
              static_cast<long long>(c.n_head), static_cast<long long>(c.n_head_kv), static_cast<long long>(c.head_dim),
              static_cast<long long>(c.n_ff), static_cast<long long>(c.n_vocab), static_cast<long long>(c.n_ctx_train),
              c.tied_output ? "tied" : "separate");
  if (c.is_moe()) {
    std::printf("experts: %lld per layer, %lld used per token, expert FFN width %lld%s\n",
                static_cast<long long>(c.n_expert), static_cast<long long>(c.n_expert_used),
                static_cast<long long>(c.n_ff_exp),
                c.n_ff_shexp > 0 ? (", shared expert width " + std::to_string(c.n_ff_shexp)).c_str() : "");
  }
  std::printf("memory at context %lld: weights %s (mmap) + KV cache f32 %s + scratch %s = %s\n",
              static_cast<long long>(n_ctx), human_bytes(static_cast<double>(weight_bytes)).c_str(),
              human_bytes(static_cast<double>(kv_bytes)).c_str(), human_bytes(static_cast<double>(scratch_bytes)).c_str(),
              human_bytes(static_cast<double>(weight_bytes + kv_bytes + scratch_bytes)).c_str());
  return 0;
}

}  // namespace

void register_inspect(CLI::App& app) {
  auto args = std::make_shared<InspectArgs>();
  CLI::App* cmd = app.add_subcommand("inspect", "Print a model's metadata, tensors, parameters and memory needs");
  cmd->add_option("model", args->model_path, "GGUF file, safetensors file (or shard index) or video model folder")
      ->required();
  cmd->add_option("-c,--ctx-size", args->n_ctx, "Context length for the memory estimate (0 = the model's)");
  cmd->add_flag("--all", args->all_tensors, "List every tensor");
  cmd->callback([args] {
    const int code = inspect(*args);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace frugal::cli
