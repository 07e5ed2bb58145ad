#include "server/embeddings_routes.h"

#include <algorithm>
#include <cstring>
#include <string_view>
#include <vector>

#include "core/logging.h"
#include "core/thread_pool.h"
#include "engine/embedding.h"
#include "server/access_log.h"
#include "server/openai_response.h"

namespace frugal {
namespace {

using json = nlohmann::json;

// Most inputs in one request (OpenAI allows 2048).
constexpr size_t kMaxEmbeddingInputs = 2048;
// Threads of one request's forward passes (the engine keeps its own pool for generation).
constexpr int kEmbeddingThreads = 2;

ApiReply bad_field(const std::string& param, const std::string& message) {
  return error_reply(invalid_field_error(param, message));
}

std::string base64_encode(const uint8_t* data, size_t size) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((size + 2) / 3 * 4);
  for (size_t i = 0; i < size; i += 3) {
    const uint32_t b0 = data[i], b1 = i + 1 < size ? data[i + 1] : 0, b2 = i + 2 < size ? data[i + 2] : 0;
    const uint32_t triple = (b0 << 16) | (b1 << 8) | b2;
    out += kAlphabet[(triple >> 18) & 63];
    out += kAlphabet[(triple >> 12) & 63];
    out += i + 1 < size ? kAlphabet[(triple >> 6) & 63] : '=';
    out += i + 2 < size ? kAlphabet[triple & 63] : '=';
  }
  return out;
}

// A JSON array of integers as token ids (no BOS added), or an error message.
std::optional<std::string> read_token_ids(const json& array, std::vector<int32_t>& out) {
  for (const json& item : array) {
    if (!item.is_number_integer()) return "token arrays must hold integers only";
    const int64_t id = item.get<int64_t>();
    if (id < 0 || id > INT32_MAX) return "token id " + std::to_string(id) + " is out of range";
    out.push_back(static_cast<int32_t>(id));
  }
  return std::nullopt;
}

// The inputs as token id lists; a reply when the input is malformed.
std::optional<ApiReply> read_inputs(const json& input, const Tokenizer& tokenizer,
                                    std::vector<std::vector<int32_t>>& out) {
  auto text_tokens = [&tokenizer](const std::string& text) {
    return tokenizer.encode(text, /*add_special=*/true, /*parse_special=*/false);
  };
  if (input.is_string()) {
    out.push_back(text_tokens(input.get<std::string>()));
  } else if (input.is_array() && !input.empty() && input.front().is_number_integer()) {
    out.emplace_back();
    if (auto e = read_token_ids(input, out.back())) return bad_field("input", "'input': " + *e);
  } else if (input.is_array() && !input.empty()) {
    if (input.size() > kMaxEmbeddingInputs) {
      return bad_field("input", "'input' holds " + std::to_string(input.size()) + " items; at most " +
                                    std::to_string(kMaxEmbeddingInputs));
    }
    for (size_t idx = 0; idx < input.size(); ++idx) {
      const std::string param = "input[" + std::to_string(idx) + "]";
      const json& item = input[idx];
      if (item.is_string()) {
        out.push_back(text_tokens(item.get<std::string>()));
      } else if (item.is_array()) {
        out.emplace_back();
        if (auto e = read_token_ids(item, out.back())) return bad_field(param, "'" + param + "': " + *e);
      } else {
        return bad_field(param, "'" + param + "' must be a string or an array of token ids");
      }
    }
  } else {
    return bad_field("input", "'input' must be a non-empty string, array of strings, or array of token ids");
  }
  for (size_t idx = 0; idx < out.size(); ++idx) {
    if (out[idx].empty()) {
      return bad_field(out.size() == 1 ? "input" : "input[" + std::to_string(idx) + "]", "an input has no tokens");
    }
  }
  return std::nullopt;
}

}  // namespace

ApiReply handle_embeddings_request(const ApiContext& context, const std::string& body_text) {
  const json body = json::parse(body_text, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) return bad_field("", "the request body is not a JSON object");
  for (const auto& [key, value] : body.items()) {
    static constexpr std::string_view kFields[] = {"model", "input", "encoding_format", "dimensions", "user"};
    if (std::find(std::begin(kFields), std::end(kFields), key) == std::end(kFields)) {
      return bad_field(key, "unknown field '" + key + "'");
    }
  }
  if (body.contains("user") && !body["user"].is_null()) {
    if (!body["user"].is_string()) return bad_field("user", "'user' must be a string");
    if (body["user"].get<std::string>().size() > kMaxUserLength) {
      return bad_field("user", "'user' is longer than " + std::to_string(kMaxUserLength) + " bytes");
    }
    log_info("embeddings request from user " + body["user"].dump());
  }
  std::string model_name;
  if (body.contains("model")) {
    if (!body["model"].is_string()) return bad_field("model", "'model' must be a string");
    model_name = body["model"].get<std::string>();
  }
  std::string encoding = "float";
  if (body.contains("encoding_format") && !body["encoding_format"].is_null()) {
    if (!body["encoding_format"].is_string()) return bad_field("encoding_format", "'encoding_format' must be a string");
    encoding = body["encoding_format"].get<std::string>();
    if (encoding != "float" && encoding != "base64") {
      return bad_field("encoding_format", "'encoding_format' must be \"float\" or \"base64\", got \"" + encoding + "\"");
    }
  }
  if (body.contains("dimensions") && !body["dimensions"].is_null()) {
    return bad_field("dimensions", "'dimensions' is not supported: the embedding has the model's width");
  }
  if (!body.contains("input")) return bad_field("input", "'input' is required");
  auto target = context.router->resolve(model_name, RouteNeeds{});
  if (!target) return error_reply(unknown_model_error(model_name));
  if (target->is_overflow() || target->model->model == nullptr) {
    return bad_field("model", "embeddings are computed by served models only");
  }
  const ServedModel& served = *target->model;
  std::vector<std::vector<int32_t>> inputs;
  if (auto rejected = read_inputs(body["input"], *served.tokenizer, inputs)) return *rejected;

  ThreadPool pool(kEmbeddingThreads);
  json data = json::array();
  int64_t prompt_tokens = 0;
  for (size_t idx = 0; idx < inputs.size(); ++idx) {
    auto embedding = embed_tokens(*served.model, inputs[idx], pool);
    if (!embedding) {
      const std::string param = inputs.size() == 1 ? "input" : "input[" + std::to_string(idx) + "]";
      return error_reply(api_error_from_status(embedding.error(), param));
    }
    prompt_tokens += static_cast<int64_t>(inputs[idx].size());
    json item{{"object", "embedding"}, {"index", idx}};
    if (encoding == "base64") {
      item["embedding"] = base64_encode(reinterpret_cast<const uint8_t*>(embedding->data()),
                                        embedding->size() * sizeof(float));  // x86-64: little-endian
    } else {
      item["embedding"] = *embedding;
    }
    data.push_back(std::move(item));
  }
  Usage usage;
  usage.prompt_tokens = prompt_tokens;
  access_note_usage(served.name, usage);
  ApiReply reply;
  reply.body = dump_json(json{{"object", "list"},
                              {"data", std::move(data)},
                              {"model", served.name},
                              {"usage", {{"prompt_tokens", prompt_tokens}, {"total_tokens", prompt_tokens}}}});
  return reply;
}

}  // namespace frugal
