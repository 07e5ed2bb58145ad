#include "bench_measure.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cctype>
#include <cstdio>
#include <random>

#include "engine/session.h"
#include "model/quant_recipe.h"

namespace frugal::cli {
namespace {

// Fixed seed: every run of the benchmark feeds the same token ids.
constexpr uint32_t kTokenSeed = 20240601;
// The f32 KV cache: 4 bytes per element.
constexpr double kKvBytesPerElement = 4.0;
// A reference top-1 counts as "clear" when it leads the runner-up by 1 % of the row's logit range.
constexpr double kClearTop1MarginFraction = 0.01;
// Warm-up steps before the tg timing (each step already reads every weight once).
constexpr int64_t kGenerationWarmupSteps = 4;

std::vector<int32_t> random_tokens(const Model& model, int64_t n) {
  std::mt19937 rng(kTokenSeed);
  std::uniform_int_distribution<int32_t> dist(0, static_cast<int32_t>(model.config().n_vocab - 1));
  std::vector<int32_t> ids(static_cast<size_t>(n));
  for (int32_t& id : ids) id = dist(rng);
  return ids;
}

SessionOptions session_options(int threads, int64_t n_ctx, MatmulPath path) {
  SessionOptions o;
  o.num_threads = threads;
  o.n_ctx = n_ctx;
  o.path = path;
  return o;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

Expected<std::vector<float>> all_logits(const Model& model, int threads, const std::vector<int32_t>& ids,
                                        MatmulPath path, RoutingTrace* trace) {
  SessionOptions options = session_options(threads, static_cast<int64_t>(ids.size()), path);
  options.routing_trace = trace;
  Session session(model, options);
  return session.eval(ids, LogitsMode::kAll);
}

// One position: cosine, max |diff|, and whether a clear reference top-1 is also the fast top-1.
void compare_row(const float* fast, const float* ref, int64_t n_vocab, ValidationResult& r) {
  double dot = 0, norm_fast = 0, norm_ref = 0;
  int64_t fast_top = 0, ref_top = 0;
  for (int64_t i = 0; i < n_vocab; ++i) {
    dot += static_cast<double>(fast[i]) * ref[i];
    norm_fast += static_cast<double>(fast[i]) * fast[i];
    norm_ref += static_cast<double>(ref[i]) * ref[i];
    r.max_abs_diff = std::max(r.max_abs_diff, std::fabs(static_cast<double>(fast[i]) - ref[i]));
    if (fast[i] > fast[fast_top]) fast_top = i;
    if (ref[i] > ref[ref_top]) ref_top = i;
  }
  const double cosine = (norm_fast > 0 && norm_ref > 0) ? dot / std::sqrt(norm_fast * norm_ref) : 0.0;
  r.min_cosine = std::min(r.min_cosine, cosine);
  float runner_up = -INFINITY, lowest = ref[0];
  for (int64_t i = 0; i < n_vocab; ++i) {
    if (i != ref_top) runner_up = std::max(runner_up, ref[i]);
    lowest = std::min(lowest, ref[i]);
  }
  const double margin = static_cast<double>(ref[ref_top]) - runner_up;
  if (margin > kClearTop1MarginFraction * (static_cast<double>(ref[ref_top]) - lowest)) {
    ++r.top1_checked;
    if (fast_top != ref_top) ++r.top1_mismatches;
  }
}

}  // namespace

Expected<ValidationResult> compare_fast_with_reference(const Model& model, int threads, int64_t n_tokens,
                                                       bool inject_error) {
  const std::vector<int32_t> ids = random_tokens(model, n_tokens);
  // MoE: the reference path multiplies the experts the fast path chose (see RoutingTrace).
  RoutingTrace trace;
  RoutingTrace* routing = model.config().is_moe() ? &trace : nullptr;
  auto fast = all_logits(model, threads, ids, MatmulPath::kFast, routing);
  if (!fast) return fast.error();
  trace.mode = RoutingTrace::Mode::kReplay;
  auto ref = all_logits(model, threads, ids, MatmulPath::kReference, routing);
  if (!ref) return ref.error();
  // The corruption a broken kernel could cause: logits of the wrong rows (here: reversed rows).
  if (inject_error) std::reverse(fast->begin(), fast->end());
  const int64_t n_vocab = model.config().n_vocab;
  ValidationResult r;
  r.n_tokens = n_tokens;
  r.moe_routes = trace.routes;
  r.moe_routes_differing = trace.differing;
  r.moe_max_mass_gap = trace.max_mass_gap;
  if (routing != nullptr && (trace.overrun || trace.cursor != trace.chosen.size())) {
    return internal_error("validation: the reference run's MoE layers did not replay the fast run's routes one for one");
  }
  for (int64_t pos = 0; pos < n_tokens; ++pos) compare_row(fast->data() + pos * n_vocab, ref->data() + pos * n_vocab, n_vocab, r);
  return r;
}

Status check_validation(const ValidationResult& r) {
  if (r.moe_max_mass_gap > kMaxRouteMassGap) {
    char buf[256];
    std::snprintf(buf, sizeof(buf),
                  "validation failed: the fast path routed %lld of %lld tokens to other experts than the reference "
                  "path would, by up to %.3f of router probability (near-ties allowed up to %.3f)",
                  static_cast<long long>(r.moe_routes_differing), static_cast<long long>(r.moe_routes),
                  r.moe_max_mass_gap, kMaxRouteMassGap);
    return internal_error(buf);
  }
  if (r.min_cosine >= kMinValidationCosine && r.top1_mismatches == 0) return Status::ok();
  char buf[256];
  std::snprintf(buf, sizeof(buf),
                "validation failed: fast-path logits disagree with the reference path on %lld tokens "
                "(min cosine %.6f, need >= %.3f; max |diff| %.4g; top-1 differs at %lld of %lld clear positions)",
                static_cast<long long>(r.n_tokens), r.min_cosine, kMinValidationCosine, r.max_abs_diff,
                static_cast<long long>(r.top1_mismatches), static_cast<long long>(r.top1_checked));
  return internal_error(buf);
}

Expected<RepetitionTimer> RepetitionTimer::create(const Model& model, int threads, int64_t n_prompt, int64_t n_gen,
                                                  int64_t depth) {
  RepetitionTimer t;
  t.model_ = &model;
  t.threads_ = threads;
  t.n_prompt_ = n_prompt;
  t.n_gen_ = n_gen;
  t.depth_ = depth;
  if (n_prompt > 0) {
    t.ids_ = random_tokens(model, n_prompt);
    return t;
  }
  t.ids_ = random_tokens(model, depth + n_gen + 1);
  t.session_ = std::make_unique<Session>(model, session_options(threads, depth + n_gen + 1, MatmulPath::kFast));
  auto context = t.session_->eval(std::vector<int32_t>(t.ids_.begin(), t.ids_.begin() + depth + 1));
  if (!context) return context.error();
  return t;
}

Expected<double> RepetitionTimer::run(bool warmup) {
  if (n_prompt_ > 0) {
    Session session(*model_, session_options(threads_, n_prompt_, MatmulPath::kFast));
    const auto start = std::chrono::steady_clock::now();
    auto logits = session.eval(ids_, LogitsMode::kLast);
    const double seconds = seconds_since(start);
    if (!logits) return logits.error();
    return static_cast<double>(n_prompt_) / seconds;
  }
  const int64_t steps = warmup ? std::min(n_gen_, kGenerationWarmupSteps) : n_gen_;
  session_->truncate(depth_ + 1);
  const auto start = std::chrono::steady_clock::now();
  for (int64_t step = 1; step <= steps; ++step) {
    auto logits = session_->eval({ids_[static_cast<size_t>(depth_ + step)]});
    if (!logits) return logits.error();
  }
  return static_cast<double>(steps) / seconds_since(start);
}

Expected<std::vector<double>> time_repetitions(RepetitionTimer& timer, int repetitions) {
  std::vector<double> tokens_per_s;
  for (int rep = -1; rep < repetitions; ++rep) {  // rep -1: warm-up
    auto tps = timer.run(rep < 0);
    if (!tps) return tps.error();
    if (rep >= 0) tokens_per_s.push_back(*tps);
  }
  return tokens_per_s;
}

Expected<std::vector<double>> time_prompt(const Model& model, int threads, int64_t n_prompt, int repetitions) {
  auto timer = RepetitionTimer::create(model, threads, n_prompt, 0, 0);
  if (!timer) return timer.error();
  return time_repetitions(*timer, repetitions);
}

Expected<std::vector<double>> time_generation(const Model& model, int threads, int64_t n_gen, int64_t depth,
                                              int repetitions) {
  auto timer = RepetitionTimer::create(model, threads, 0, n_gen, depth);
  if (!timer) return timer.error();
  return time_repetitions(*timer, repetitions);
}

namespace {

struct WeightTotals {
  double layer_bytes = 0, layer_params = 0;    // every block's matrices a token always reads (experts apart)
  double expert_bytes = 0, expert_params = 0;  // all routed experts' matrices (MoE; 0 for dense)
  double expert_used_fraction = 1;             // n_expert_used / n_expert: a token reads this share of them
  double output_bytes = 0, output_params = 0;  // the output (lm head) matrix
  double embedding_row_bytes = 0;              // one token_embd row
};

WeightTotals weight_totals(const Model& model) {
  WeightTotals t;
  auto add = [](double& bytes, double& params, const TensorView& w) {
    if (!w.valid()) return;
    bytes += static_cast<double>(w.size_bytes());
    params += static_cast<double>(w.num_elements());
  };
  for (const LayerWeights& l : model.weights().layers) {
    for (const TensorView* w : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down, &l.gate_inp, &l.gate_shexp,
                                &l.up_shexp, &l.down_shexp}) {
      add(t.layer_bytes, t.layer_params, *w);
    }
    for (const auto* experts : {&l.gate_exps, &l.up_exps, &l.down_exps}) {
      for (const TensorView& w : *experts) add(t.expert_bytes, t.expert_params, w);
    }
  }
  const ModelConfig& c = model.config();
  if (c.is_moe()) t.expert_used_fraction = static_cast<double>(c.n_expert_used) / static_cast<double>(c.n_expert);
  t.output_bytes = static_cast<double>(model.weights().output.size_bytes());
  t.output_params = static_cast<double>(model.weights().output.num_elements());
  t.embedding_row_bytes = static_cast<double>(model.weights().token_embd.row_bytes());
  return t;
}

double kv_bytes_per_position(const ModelConfig& c) {
  return 2.0 * static_cast<double>(c.n_layer * c.kv_dim()) * kKvBytesPerElement;
}

// QK^T and AV for one query over `context` cached positions: 2 x 2 x q_dim FLOPs per position per layer.
double attention_flops(const ModelConfig& c, double context) {
  return 4.0 * static_cast<double>(c.n_layer * c.q_dim()) * context;
}

}  // namespace

TokenCost prompt_token_cost(const Model& model, int64_t n_prompt) {
  const WeightTotals w = weight_totals(model);
  const ModelConfig& c = model.config();
  const double n = static_cast<double>(n_prompt);
  // One forward: every matrix read once, logits for the last token only, each position's K/V
  // read once; causal attention sums i+1 positions over i in [0, n). MoE: each token multiplies
  // its n_expert_used experts; an expert's weights are read once if any of the n tokens picks it
  // (expected share 1 - (1 - k/E)^n under uniform routing).
  const double experts_touched = 1.0 - std::pow(1.0 - w.expert_used_fraction, n);
  const double bytes = w.layer_bytes + experts_touched * w.expert_bytes + w.output_bytes + n * w.embedding_row_bytes +
                       n * kv_bytes_per_position(c);
  const double flops = 2.0 * (w.layer_params + w.expert_used_fraction * w.expert_params) * n + 2.0 * w.output_params +
                       attention_flops(c, n * (n + 1) / 2);
  return {bytes / n, flops / n};
}

double generation_mean_context(int64_t n_gen, int64_t depth) {
  return static_cast<double>(depth) + 1.0 + static_cast<double>(n_gen + 1) / 2.0;
}

TokenCost generation_token_cost(const Model& model, int64_t n_gen, int64_t depth) {
  const WeightTotals w = weight_totals(model);
  const ModelConfig& c = model.config();
  const double mean_context = generation_mean_context(n_gen, depth);
  // Decode reads only the chosen experts: the active parameters (n_expert_used of n_expert).
  const double bytes = w.layer_bytes + w.expert_used_fraction * w.expert_bytes + w.output_bytes + w.embedding_row_bytes +
                       mean_context * kv_bytes_per_position(c);
  const double flops = 2.0 * (w.layer_params + w.expert_used_fraction * w.expert_params + w.output_params) +
                       attention_flops(c, mean_context);
  return {bytes, flops};
}

std::string model_weight_type(const Model& model) {
  constexpr FileType kAll[] = {FileType::kF32,  FileType::kF16,    FileType::kBF16,   FileType::kQ8_0, FileType::kQ4_0,
                               FileType::kQ5_0, FileType::kQ4_K_M, FileType::kQ5_K_M, FileType::kQ6_K};
  std::string name;
  if (auto id = model.file().get_uint("general.file_type")) {
    for (FileType t : kAll) {
      if (file_type_gguf_id(t) == *id) name = std::string(file_type_name(t));
    }
  }
  if (name.empty() && !model.weights().layers.empty()) {
    const LayerWeights& l0 = model.weights().layers[0];
    name = std::string(dtype_name(l0.w_gate.valid() ? l0.w_gate.dtype : l0.gate_exps.at(0).dtype));
  }
  for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return name.empty() ? "unknown" : name;
}

}  // namespace frugal::cli
