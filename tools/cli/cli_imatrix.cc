// `frugal imatrix -m MODEL -f TEXT -o FILE`: collect an importance matrix over a calibration text
// (tools layer) in llama.cpp's imatrix format (GGUF; legacy when FILE ends in .dat), for
// `frugal quantize --imatrix` or llama-quantize --imatrix (docs/design/imatrix.md).
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "cli_common.h"
#include "cli_imatrix.h"
#include "engine/imatrix_collector.h"

namespace frugal::cli {
namespace {

struct ImatrixArgs {
  std::string model_path;
  std::string file_path;
  std::string out_path;
  int64_t n_ctx = 0;
  int64_t chunks = -1;
  bool process_output = false;
  int threads = 0;
};

int imatrix(const ImatrixArgs& a) {
  auto loaded = load_model(a.model_path);
  if (!loaded) return report_error(loaded.error());
  std::ifstream in(a.file_path, std::ios::binary);
  if (!in) return report_error(not_found("cannot open '" + a.file_path + "'"));
  std::ostringstream text;
  text << in.rdbuf();
  const Tokenizer& tokenizer = *loaded->tokenizer;
  const std::vector<int32_t> tokens = tokenizer.encode(text.str(), /*add_special=*/true, /*parse_special=*/false);
  ImatrixOptions options;
  options.n_ctx = a.n_ctx;
  options.max_chunks = a.chunks;
  options.num_threads = a.threads;
  options.include_output = a.process_output;
  options.dataset = a.file_path;
  const int32_t bos_id = tokenizer.add_bos() ? tokenizer.bos_id() : -1;
  std::fprintf(stderr, "imatrix: %zu calibration tokens\n", tokens.size());
  auto m = collect_imatrix(*loaded->model, tokens, bos_id, options, [](int64_t done, int64_t total) {
    std::fprintf(stderr, "\rimatrix: window %lld/%lld", static_cast<long long>(done), static_cast<long long>(total));
  });
  std::fprintf(stderr, "\n");
  if (!m) return report_error(m.error());
  if (Status s = write_imatrix(*m, a.out_path); !s.is_ok()) return report_error(s);
  std::printf("imatrix: wrote %s (%zu matrices, %lld windows of %lld tokens)\n", a.out_path.c_str(), m->entries.size(),
              static_cast<long long>(m->chunk_count), static_cast<long long>(m->chunk_size));
  return 0;
}

}  // namespace

void register_imatrix(CLI::App& app) {
  auto a = std::make_shared<ImatrixArgs>();
  CLI::App* cmd = app.add_subcommand(
      "imatrix", "Collect an importance matrix (per-column activation mean squares) over a calibration text");
  cmd->add_option("-m,--model", a->model_path, "GGUF model file (F16/F32 preferred)")->required();
  cmd->add_option("-f,--file", a->file_path, "Calibration text file")->required();
  cmd->add_option("-o,--output", a->out_path, "Output imatrix: GGUF, or llama.cpp's legacy layout if it ends in .dat")
      ->required();
  cmd->add_option("-c,--ctx", a->n_ctx, "Window length in tokens (0 = the model's training context)")->capture_default_str();
  cmd->add_option("--chunks", a->chunks, "Use at most this many windows (-1 = all)")->capture_default_str();
  cmd->add_flag("--process-output", a->process_output, "Also collect output.weight (llama-imatrix's --process-output)");
  cmd->add_option("-t,--threads", a->threads, "Threads (0 = all cores)");
  cmd->callback([a] {
    const int code = imatrix(*a);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace frugal::cli
