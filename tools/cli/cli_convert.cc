// `frugal convert`: turn a trained checkpoint in frugal's interchange format into a llama GGUF
// (tools layer). The interchange format is what tools/train/export.py writes: a JSON header
// (hyper-parameters, byte-level BPE vocabulary, tensor list) plus one raw little-endian f32 file
// holding every tensor back to back. 1-D tensors stay F32; matrices get --type (f32, f16, q8_0),
// converted by frugal's own quantizers and written by its GgufWriter.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli_common.h"
#include "engine/sampling_defaults.h"
#include "core/mapped_file.h"
#include "gguf/gguf_writer.h"
#include "model/quant_recipe.h"

namespace frugal::cli {
namespace {

struct ConvertArgs {
  std::string header_path;
  std::string data_path;
  std::string out_path;
  std::string type_name = "f16";
  int threads = 0;
};

Expected<nlohmann::json> read_header(const std::string& path) {
  std::ifstream in(path);
  if (!in) return not_found("cannot open header '" + path + "'");
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return invalid_argument("header '" + path + "' is not a JSON object");
  for (const char* key : {"name", "hparams", "tokenizer", "tensors"}) {
    if (!j.contains(key)) return invalid_argument(std::string("header: missing '") + key + "'");
  }
  return j;
}

// The header's "sampling" object ({"temp": 0.8, "top_k": 40, ...}): the recommended settings as
// general.sampling.<name> (frugal.sampling.max_tokens for max_tokens), typed as llama.cpp reads them.
void write_sampling(GgufWriter& w, const nlohmann::json& sampling) {
  for (const auto& [name, value] : sampling.items()) {
    const std::string key = name == "max_tokens" ? kSamplingMaxTokensKey : "general.sampling." + name;
    const std::optional<GgufValueType> type = sampling_key_type(key);
    if (!type) throw std::runtime_error("header: unknown sampling setting '" + name + "'");
    if (*type == GgufValueType::kFloat32) w.set_float32(key, value.get<float>());
    if (*type == GgufValueType::kInt32) w.set_int32(key, value.get<int32_t>());
    if (*type == GgufValueType::kUint32) w.set_uint32(key, value.get<uint32_t>());
  }
}

// llama hyper-parameters and the tokenizer metadata frugal's loader reads (gpt2 model, llama-bpe pre).
void write_metadata(GgufWriter& w, const nlohmann::json& h, FileType type) {
  const nlohmann::json& hp = h["hparams"];
  const nlohmann::json& tok = h["tokenizer"];
  w.set_string("general.architecture", "llama");
  w.set_string("general.name", h["name"].get<std::string>());
  if (h.contains("license")) w.set_string("general.license", h["license"].get<std::string>());
  if (h.contains("description")) w.set_string("general.description", h["description"].get<std::string>());
  if (h.contains("sampling")) write_sampling(w, h["sampling"]);
  w.set_uint32("general.file_type", file_type_gguf_id(type));
  w.set_uint32("general.quantization_version", 2);
  const int64_t n_embd = hp["n_embd"], n_head = hp["n_head"];
  w.set_uint32("llama.context_length", hp["n_ctx"].get<uint32_t>());
  w.set_uint32("llama.embedding_length", static_cast<uint32_t>(n_embd));
  w.set_uint32("llama.block_count", hp["n_layer"].get<uint32_t>());
  w.set_uint32("llama.feed_forward_length", hp["n_ff"].get<uint32_t>());
  w.set_uint32("llama.attention.head_count", static_cast<uint32_t>(n_head));
  w.set_uint32("llama.attention.head_count_kv", hp["n_head_kv"].get<uint32_t>());
  w.set_uint32("llama.rope.dimension_count", static_cast<uint32_t>(n_embd / n_head));
  w.set_float32("llama.rope.freq_base", hp["rope_theta"].get<float>());
  w.set_float32("llama.attention.layer_norm_rms_epsilon", hp["rms_eps"].get<float>());
  w.set_uint32("llama.vocab_size", static_cast<uint32_t>(tok["tokens"].size()));
  w.set_string("tokenizer.ggml.model", "gpt2");
  w.set_string("tokenizer.ggml.pre", "llama-bpe");
  w.set_string_array("tokenizer.ggml.tokens", tok["tokens"].get<std::vector<std::string>>());
  w.set_int32_array("tokenizer.ggml.token_type", tok["token_type"].get<std::vector<int32_t>>());
  w.set_string_array("tokenizer.ggml.merges", tok["merges"].get<std::vector<std::string>>());
  w.set_uint32("tokenizer.ggml.bos_token_id", tok["bos_id"].get<uint32_t>());
  w.set_uint32("tokenizer.ggml.eos_token_id", tok["eos_id"].get<uint32_t>());
  if (tok.contains("eot_id")) w.set_uint32("tokenizer.ggml.eot_token_id", tok["eot_id"].get<uint32_t>());
  w.set_bool("tokenizer.ggml.add_bos_token", true);
  w.set_bool("tokenizer.ggml.add_eos_token", false);
  if (tok.contains("chat_template")) w.set_string("tokenizer.chat_template", tok["chat_template"].get<std::string>());
}

// Adds every tensor listed in the header; `data` holds them as f32, PyTorch [rows, cols] order.
Status add_tensors(GgufWriter& w, const nlohmann::json& h, const MappedFile& data, FileType type, ThreadPool& pool) {
  const size_t n_floats = data.size_bytes() / sizeof(float);
  const auto* floats = reinterpret_cast<const float*>(data.data());
  for (const nlohmann::json& t : h["tensors"]) {
    const std::string name = t["name"];
    const auto shape = t["shape"].get<std::vector<int64_t>>();  // PyTorch order: [rows, cols] or [n]
    const auto offset = t["offset"].get<uint64_t>();           // in floats
    if (shape.empty() || shape.size() > 2) return invalid_argument("tensor '" + name + "': need 1 or 2 dims");
    const int64_t row_len = shape.back(), n_rows = shape.size() == 2 ? shape[0] : 1;
    if (row_len <= 0 || n_rows <= 0 || offset + static_cast<uint64_t>(row_len * n_rows) > n_floats) {
      return invalid_argument("tensor '" + name + "' lies outside the data file");
    }
    const DType dtype = shape.size() == 1 ? DType::kF32 : recipe_dtype(type, name, 2, row_len, 0, false);
    auto bytes = parallel_quantize(pool, dtype, floats + offset, n_rows, row_len);
    if (!bytes) return bytes.error();
    std::vector<int64_t> ne = shape.size() == 2 ? std::vector<int64_t>{row_len, n_rows} : std::vector<int64_t>{row_len};
    w.add_tensor(name, dtype, std::move(ne), std::move(*bytes));
  }
  return Status::ok();
}

int convert(const ConvertArgs& a) {
  auto type = file_type_from_name(a.type_name);
  if (!type || (*type != FileType::kF32 && *type != FileType::kF16 && *type != FileType::kQ8_0)) {
    return report_error(invalid_argument("--type must be f32, f16 or q8_0"));
  }
  auto header = read_header(a.header_path);
  if (!header) return report_error(header.error());
  auto data = MappedFile::open(a.data_path);
  if (!data) return report_error(data.error());
  GgufWriter writer;
  try {  // nlohmann::json throws on a wrongly typed field: turn that into a Status here.
    write_metadata(writer, *header, *type);
    ThreadPool pool(a.threads > 0 ? a.threads : default_num_threads());
    const Status st = add_tensors(writer, *header, *data, *type, pool);
    if (!st.is_ok()) return report_error(st);
  } catch (const nlohmann::json::exception& e) {
    return report_error(invalid_argument(std::string("header: ") + e.what()));
  } catch (const std::runtime_error& e) {
    return report_error(invalid_argument(e.what()));
  }
  const Status st = writer.write(a.out_path);
  if (!st.is_ok()) return report_error(st);
  std::fprintf(stderr, "convert: wrote %s (%s)\n", a.out_path.c_str(), std::string(file_type_name(*type)).c_str());
  return 0;
}

}  // namespace

void register_convert(CLI::App& app) {
  auto a = std::make_shared<ConvertArgs>();
  CLI::App* cmd = app.add_subcommand("convert", "Write a llama GGUF from a tools/train interchange checkpoint");
  cmd->add_option("--header", a->header_path, "Interchange JSON header")->required();
  cmd->add_option("--data", a->data_path, "Interchange raw f32 tensor data")->required();
  cmd->add_option("-o,--out", a->out_path, "Output GGUF file")->required();
  cmd->add_option("--type", a->type_name, "Matrix type: f32, f16, q8_0")->capture_default_str();
  cmd->add_option("-t,--threads", a->threads, "Threads");
  cmd->callback([a] {
    const int code = convert(*a);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace frugal::cli
