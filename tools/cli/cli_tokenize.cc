// `frugal tokenize`: print a text's token ids as a JSON array.
#include <cstdio>
#include <string>

#include "cli_common.h"
#include "gguf/gguf_reader.h"

namespace frugal::cli {
namespace {

struct TokenizeArgs {
  std::string model_path;
  std::string text;
  bool no_bos = false;
  bool parse_special = false;
};

int tokenize(const TokenizeArgs& args) {
  // Only the vocabulary is needed, so vocab-only GGUFs work too.
  auto file = GgufFile::open(args.model_path);
  if (!file) return report_error(file.error());
  auto tokenizer = Tokenizer::from_gguf(*file);
  if (!tokenizer) return report_error(tokenizer.error());
  const auto ids = tokenizer->encode(args.text, /*add_special=*/!args.no_bos, args.parse_special);
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(ids[i]);
  }
  out += "]\n";
  std::fputs(out.c_str(), stdout);
  return 0;
}

}  // namespace

void register_tokenize(CLI::App& app) {
  auto args = std::make_shared<TokenizeArgs>();
  CLI::App* cmd = app.add_subcommand("tokenize", "Print the token ids of a text as a JSON array");
  cmd->add_option("-m,--model", args->model_path, "GGUF model or vocab file")->required();
  cmd->add_option("text", args->text, "Text to tokenize")->required();
  cmd->add_flag("--no-bos", args->no_bos, "Do not add the BOS token the model asks for");
  cmd->add_flag("--parse-special", args->parse_special, "Turn special-token text (e.g. <|eot_id|>) into its token");
  cmd->callback([args] {
    const int code = tokenize(*args);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace frugal::cli
