// `frugal gguf-set FILE KEY=VALUE... [-o OUT]`: writes a copy of a GGUF file with metadata keys set
// (in place when -o is left out: written beside it, then renamed over it). The recommended
// sampling keys (general.sampling.temp/top_k/top_p/min_p/penalty_repeat/penalty_last_n,
// frugal.sampling.max_tokens) take their usual types and are checked as the server will read them;
// any other key is written as KEY:TYPE=VALUE with TYPE one of str, f32, i32, u32, bool.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cli_common.h"
#include "engine/sampling_defaults.h"
#include "gguf/gguf_writer.h"

namespace frugal::cli {
namespace {

struct GgufSetArgs {
  std::string input;
  std::string output;
  std::vector<std::string> assignments;
};

Expected<GgufValueType> parse_type(const std::string& name) {
  if (name == "str") return GgufValueType::kString;
  if (name == "f32") return GgufValueType::kFloat32;
  if (name == "i32") return GgufValueType::kInt32;
  if (name == "u32") return GgufValueType::kUint32;
  if (name == "bool") return GgufValueType::kBool;
  return invalid_argument("unknown type '" + name + "' (expected str, f32, i32, u32 or bool)");
}

Expected<GgufValue> parse_value(GgufValueType type, const std::string& key, const std::string& text) {
  try {
    size_t used = 0;
    switch (type) {
      case GgufValueType::kString:
        return GgufValue::make_string(text);
      case GgufValueType::kFloat32: {
        const double v = std::stod(text, &used);
        if (used == text.size()) return GgufValue::make_float(type, v);
        break;
      }
      case GgufValueType::kInt32: {
        const long long v = std::stoll(text, &used);
        if (used == text.size() && v >= INT32_MIN && v <= INT32_MAX) return GgufValue::make_int(type, v);
        break;
      }
      case GgufValueType::kUint32: {
        const long long v = std::stoll(text, &used);
        if (used == text.size() && v >= 0 && v <= UINT32_MAX) return GgufValue::make_uint(type, static_cast<uint64_t>(v));
        break;
      }
      case GgufValueType::kBool:
        if (text == "true" || text == "false") return GgufValue::make_bool(text == "true");
        break;
      default:
        break;
    }
  } catch (const std::exception&) {
  }
  return invalid_argument("value '" + text + "' of " + key + " is not a " +
                          std::string(gguf_value_type_name(type)));
}

// KEY=VALUE or KEY:TYPE=VALUE -> (key, typed value).
Expected<std::pair<std::string, GgufValue>> parse_assignment(const std::string& text) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) return invalid_argument("expected KEY=VALUE, got '" + text + "'");
  std::string key = text.substr(0, eq);
  const std::string value = text.substr(eq + 1);
  std::optional<GgufValueType> type = sampling_key_type(key);
  const size_t colon = key.find(':');
  if (colon != std::string::npos) {
    auto named = parse_type(key.substr(colon + 1));
    if (!named) return named.error();
    key = key.substr(0, colon);
    type = *named;
  }
  if (!type) return invalid_argument("give the type of " + key + " as " + key + ":TYPE=VALUE (str, f32, i32, u32, bool)");
  auto parsed = parse_value(*type, key, value);
  if (!parsed) return parsed.error();
  return std::make_pair(key, std::move(*parsed));
}

int gguf_set(const GgufSetArgs& args) {
  auto file = GgufFile::open(args.input);
  if (!file) return report_error(file.error());
  GgufWriter writer(file->alignment());
  for (const auto& [key, value] : file->metadata()) writer.set(key, value);
  for (const std::string& assignment : args.assignments) {
    auto kv = parse_assignment(assignment);
    if (!kv) return report_error(kv.error());
    writer.set(kv->first, std::move(kv->second));
  }
  for (const GgufTensorInfo& info : file->tensors()) {
    const TensorView view = file->tensor_view(info);
    const auto* data = static_cast<const uint8_t*>(view.data);
    writer.add_tensor(info.name, info.dtype, std::vector<int64_t>(info.ne.begin(), info.ne.begin() + info.n_dims),
                      std::vector<uint8_t>(data, data + info.size_bytes));
  }
  // What the server will read back must be valid before anything is written.
  const std::vector<uint8_t> bytes = writer.serialize();
  auto check = GgufFile::parse(MappedFile::borrow(bytes.data(), bytes.size()));
  if (!check) return report_error(check.error());
  auto defaults = read_sampling_defaults(*check);
  if (!defaults) return report_error(defaults.error());
  const std::string out = args.output.empty() ? args.input : args.output;
  const std::string temp = out + ".gguf-set.tmp";
  Status written = writer.write(temp);
  if (!written.is_ok()) return report_error(written);
  std::error_code ec;
  std::filesystem::rename(temp, out, ec);
  if (ec) {
    std::filesystem::remove(temp, ec);
    return report_error(unavailable("cannot replace " + out + ": " + ec.message()));
  }
  std::fprintf(stderr, "frugal: wrote %s (%zu key(s) set; recommended sampling: %s)\n", out.c_str(),
               args.assignments.size(), defaults->describe().c_str());
  return 0;
}

}  // namespace

void register_gguf_set(CLI::App& app) {
  auto args = std::make_shared<GgufSetArgs>();
  CLI::App* cmd = app.add_subcommand("gguf-set", "Set GGUF metadata keys (e.g. the recommended general.sampling.* settings)");
  cmd->add_option("file", args->input, "GGUF file")->required()->check(CLI::ExistingFile);
  cmd->add_option("assignments", args->assignments,
                  "KEY=VALUE for general.sampling.{temp,top_k,top_p,min_p,penalty_repeat,penalty_last_n} and "
                  "frugal.sampling.max_tokens; KEY:TYPE=VALUE (str, f32, i32, u32, bool) for any other key")
      ->required();
  cmd->add_option("-o,--output", args->output, "Write here instead of replacing FILE");
  cmd->callback([args] {
    const int code = gguf_set(*args);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace frugal::cli
