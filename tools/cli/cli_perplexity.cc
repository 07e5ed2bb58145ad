// `frugal perplexity -m MODEL -f FILE`: token-level perplexity of a text file over fixed windows
// (tools layer), computed as llama.cpp's perplexity tool does (see engine/perplexity.h): BOS at
// the start of each window, the second half of each window scored unless --all is given.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "cli_common.h"
#include "engine/perplexity.h"

namespace frugal::cli {
namespace {

struct PerplexityArgs {
  std::string model_path;
  std::string file_path;
  int64_t n_ctx = 0;
  int64_t chunks = -1;
  bool score_all = false;
  int threads = 0;
};

Expected<std::string> read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found("cannot open '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

int perplexity(const PerplexityArgs& a) {
  auto loaded = load_model(a.model_path);
  if (!loaded) return report_error(loaded.error());
  auto text = read_text(a.file_path);
  if (!text) return report_error(text.error());
  const Tokenizer& tokenizer = *loaded->tokenizer;
  const std::vector<int32_t> tokens = tokenizer.encode(*text, /*add_special=*/true, /*parse_special=*/false);
  PerplexityOptions options;
  options.n_ctx = a.n_ctx;
  options.max_chunks = a.chunks;
  options.score_all = a.score_all;
  options.num_threads = a.threads;
  const int32_t bos_id = tokenizer.add_bos() ? tokenizer.bos_id() : -1;
  std::fprintf(stderr, "perplexity: %zu tokens, scoring %s of each window\n", tokens.size(),
               a.score_all ? "every prediction" : "the second half");
  auto result = compute_perplexity(*loaded->model, tokens, bos_id, options, [](const PerplexityChunk& chunk) {
    std::fprintf(stderr, "[%lld] %.4f\n", static_cast<long long>(chunk.chunk_idx + 1), chunk.running_ppl);
  });
  if (!result) return report_error(result.error());
  std::printf("Final estimate: PPL = %.4f +/- %.5f (%lld chunks of %lld tokens, %lld tokens scored, %.4f nats/token)\n",
              result->ppl, result->ppl_stderr, static_cast<long long>(result->n_chunks),
              static_cast<long long>(result->n_ctx), static_cast<long long>(result->n_scored), result->mean_nll);
  return 0;
}

}  // namespace

void register_perplexity(CLI::App& app) {
  auto a = std::make_shared<PerplexityArgs>();
  CLI::App* cmd = app.add_subcommand("perplexity", "Token-level perplexity of a text file over fixed windows");
  cmd->add_option("-m,--model", a->model_path, "GGUF model file")->required();
  cmd->add_option("-f,--file", a->file_path, "Text file")->required();
  cmd->add_option("-c,--ctx", a->n_ctx, "Window length in tokens (0 = the model's training context)")->capture_default_str();
  cmd->add_option("--chunks", a->chunks, "Score at most this many windows (-1 = all)")->capture_default_str();
  cmd->add_flag("--all", a->score_all, "Score every prediction of a window, not only its second half");
  cmd->add_option("-t,--threads", a->threads, "Threads (0 = all cores)");
  cmd->callback([a] {
    const int code = perplexity(*a);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace frugal::cli
