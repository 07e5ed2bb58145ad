#include "cost/llm_roofline.h"

#include <algorithm>
#include <cmath>

namespace frugal {
namespace {

// Bytes of one activation element exchanged by the all-reduces (BF16).
constexpr double kActivationBytes = 2.0;
// Fixed cost of one all-reduce: NVLink-class fabrics ~8 us, PCIe/Ethernet ~30 us (NCCL latency).
constexpr double kFastLinkLatencyS = 8e-6;
constexpr double kSlowLinkLatencyS = 30e-6;
constexpr double kFastLinkBytesPerS = 300e9;
constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

}  // namespace

double runtime_reserve_bytes(const Accelerator& hw) {
  if (hw.kind == AcceleratorKind::kCpu) return std::max(2.0 * kGiB, 0.10 * hw.memory_bytes);
  return 2.0 * kGiB;
}

Expected<LlmRoofline> LlmRoofline::create(LlmDeployment d) {
  const LlmShape& s = d.shape;
  if (s.n_layer <= 0 || s.n_embd <= 0 || s.n_head <= 0 || s.n_head_kv <= 0) {
    return invalid_argument("model '" + s.name + "' has a zero layer/embedding/head count");
  }
  if (d.tensor_parallel < 1) return invalid_argument("--count must be >= 1");
  if (d.tensor_parallel > 1) {
    if (d.hardware.interconnect_bytes_per_s <= 0) {
      return invalid_argument("hardware '" + d.hardware.name + "' has no interconnect: tensor parallelism over " +
                              std::to_string(d.tensor_parallel) + " devices is not possible");
    }
    if (s.n_head % d.tensor_parallel != 0) {
      return invalid_argument("tensor parallelism " + std::to_string(d.tensor_parallel) + " does not divide the " +
                              std::to_string(s.n_head) + " attention heads of '" + s.name + "'");
    }
  }
  if (d.hardware.memory_bandwidth_bytes_per_s <= 0 || d.hardware.bf16_dense_flops_per_s <= 0) {
    return invalid_argument("hardware '" + d.hardware.name + "' has no bandwidth or FLOP/s figure");
  }
  if (d.kv_bytes_per_element <= 0) return invalid_argument("KV bytes per element must be > 0");
  if (d.efficiency.mbu <= 0 || d.efficiency.mbu > 1 || d.efficiency.mfu <= 0 || d.efficiency.mfu > 1) {
    return invalid_argument("MBU and MFU must be in (0, 1]");
  }
  return LlmRoofline(std::move(d));
}

Efficiency LlmRoofline::efficiency_at(int64_t batch, int64_t context, CalibrationPhase phase) const {
  if (!d_.calibration) return d_.efficiency;
  // Interpolate in time: a decode step's work, or one prefill token's (prefill: batch = tokens).
  CalibrationWorkFn work = [this](int64_t b, int64_t c) { return decode_work(b, c); };
  if (phase == CalibrationPhase::kPrefill) {
    work = [this](int64_t tokens, int64_t prompt) {
      const int64_t n_prompts = std::max<int64_t>(1, tokens / std::max<int64_t>(1, prompt));
      CalibrationWork w = prefill_work(n_prompts, prompt);
      const double n_tokens = static_cast<double>(n_prompts) * static_cast<double>(std::max<int64_t>(1, prompt));
      return CalibrationWork{w.bytes / n_tokens, w.flops / n_tokens};
    };
  }
  if (auto e = calibrated_efficiency(*d_.calibration, d_.weights.name, batch, context, phase, work); e && e->mbu > 0) {
    Efficiency out = *e;
    if (out.mfu <= 0) out.mfu = d_.efficiency.mfu;
    return out;
  }
  return d_.efficiency;
}

bool LlmRoofline::uses_file_bytes() const {
  const LlmShape& s = d_.shape;
  return s.file_tensor_bytes > 0 && (d_.weights.name == "file" || d_.weights.name == s.file_weight_type);
}

double LlmRoofline::weight_bytes_per_device() const {
  if (uses_file_bytes()) return d_.shape.file_tensor_bytes / d_.tensor_parallel;
  return static_cast<double>(d_.shape.total_params()) * d_.weights.bytes_per_weight / d_.tensor_parallel;
}

double LlmRoofline::kv_bytes_per_token_per_device() const {
  // KV heads split across devices; with more devices than KV heads each device keeps one head.
  const int64_t heads_per_device = std::max<int64_t>(1, (d_.shape.n_head_kv + d_.tensor_parallel - 1) / d_.tensor_parallel);
  return d_.shape.kv_bytes_per_token(d_.kv_bytes_per_element) * static_cast<double>(heads_per_device) /
         static_cast<double>(d_.shape.n_head_kv);
}

MemoryBreakdown LlmRoofline::memory(int64_t batch, int64_t context) const {
  const LlmShape& s = d_.shape;
  const double tp = d_.tensor_parallel;
  MemoryBreakdown m;
  m.weights_bytes = weight_bytes_per_device();
  m.kv_bytes = static_cast<double>(batch) * static_cast<double>(context) * kv_bytes_per_token_per_device();
  // Live activations of the widest step: the residual stream and norms (~6 x n_embd), Q/K/V and
  // the FFN's gate and up projections (split by TP), in BF16; plus f32 logits per sequence.
  const double tokens = static_cast<double>(std::max(batch, d_.prefill_chunk_tokens));
  const double per_token = 6.0 * s.n_embd + (s.q_dim() + 2.0 * s.kv_dim()) / tp + 2.0 * s.n_ff / tp;
  m.activation_bytes = tokens * per_token * kActivationBytes + static_cast<double>(batch) * s.n_vocab * 4.0;
  m.reserve_bytes = runtime_reserve_bytes(d_.hardware);
  return m;
}

bool LlmRoofline::fits(int64_t batch, int64_t context) const {
  return memory(batch, context).total_bytes() <= capacity_bytes();
}

int64_t LlmRoofline::max_batch(int64_t context) const {
  if (!fits(1, context)) return 0;
  // memory() is increasing in batch: grow an upper bound, then bisect on the same predicate.
  int64_t lo = 1, hi = 2;
  while (fits(hi, context)) {
    lo = hi;
    if (hi > (int64_t{1} << 40)) return lo;
    hi *= 2;
  }
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    (fits(mid, context) ? lo : hi) = mid;
  }
  return lo;
}

double LlmRoofline::weight_read_bytes(int64_t batch) const {
  const LlmShape& s = d_.shape;
  if (uses_file_bytes() && !s.is_moe()) {
    // Exact: every stored tensor but the input embedding (a one-row-per-token lookup).
    return (s.file_tensor_bytes - (s.tied_output ? 0.0 : s.file_embedding_bytes)) / d_.tensor_parallel;
  }
  const double bpw = weight_bytes_per_device() * d_.tensor_parallel / static_cast<double>(s.total_params());
  // The input embedding is a lookup (one row per token); every other weight is streamed.
  double params = static_cast<double>(s.total_params() - (s.tied_output ? 0 : s.embedding_params()));
  if (s.is_moe()) {
    // Each token picks k of E experts: a layer touches E * (1 - (1 - k/E)^B) distinct experts.
    const double k_over_e = static_cast<double>(s.n_expert_used) / static_cast<double>(s.n_expert);
    const double touched = 1.0 - std::pow(1.0 - k_over_e, static_cast<double>(batch));
    params -= static_cast<double>(s.expert_params()) * (1.0 - touched);
  }
  return params * bpw / d_.tensor_parallel;
}

double LlmRoofline::allreduce_seconds(double bytes) const {
  const int tp = d_.tensor_parallel;
  if (tp <= 1) return 0.0;
  const double link = d_.hardware.interconnect_bytes_per_s;
  const double per_direction = link / 2.0;
  const double latency = link >= kFastLinkBytesPerS ? kFastLinkLatencyS : kSlowLinkLatencyS;
  // Ring all-reduce: each device sends and receives 2 (n-1)/n of the buffer.
  return latency + 2.0 * (tp - 1) / tp * bytes / per_direction;
}

CalibrationWork LlmRoofline::decode_work(int64_t batch, int64_t context) const {
  const LlmShape& s = d_.shape;
  const double b = static_cast<double>(batch);
  CalibrationWork w;
  w.bytes = weight_read_bytes(batch) + b * static_cast<double>(context) * kv_bytes_per_token_per_device();
  // 2 FLOPs per active parameter per token, plus QK^T and AV: 4 x n_layer x q_dim per cached token.
  w.flops = (2.0 * s.active_matmul_params() * b + 4.0 * s.n_layer * s.q_dim() * b * context) / d_.tensor_parallel;
  return w;
}

CalibrationWork LlmRoofline::prefill_work(int64_t n_prompts, int64_t prompt_tokens) const {
  const LlmShape& s = d_.shape;
  const double tokens = static_cast<double>(n_prompts) * static_cast<double>(prompt_tokens);
  const double chunks = std::ceil(tokens / static_cast<double>(std::max<int64_t>(1, d_.prefill_chunk_tokens)));
  CalibrationWork w;
  // Weights are streamed once per chunk; the KV of every prompt token is written once.
  w.bytes = chunks * weight_read_bytes(d_.prefill_chunk_tokens) + tokens * kv_bytes_per_token_per_device();
  // Causal attention: prompt position i attends to i + 1 tokens, P (P + 1) / 2 per prompt.
  const double p = static_cast<double>(prompt_tokens);
  const double attention = 4.0 * s.n_layer * s.q_dim() * static_cast<double>(n_prompts) * 0.5 * p * (p + 1.0);
  // The output projection runs for each prompt's last position only (its logits sample the next token).
  const double output_params = static_cast<double>(s.n_vocab) * static_cast<double>(s.n_embd);
  const double body_params = std::max(0.0, static_cast<double>(s.active_matmul_params()) - output_params);
  w.flops = (2.0 * body_params * tokens + 2.0 * output_params * static_cast<double>(n_prompts) + attention) /
            d_.tensor_parallel;
  return w;
}

StepTime LlmRoofline::decode_step(int64_t batch, int64_t context) const {
  const LlmShape& s = d_.shape;
  const Efficiency e = efficiency_at(batch, context);
  const CalibrationWork w = decode_work(batch, context);
  StepTime t;
  t.memory_s = w.bytes / (d_.hardware.memory_bandwidth_bytes_per_s * e.mbu);
  t.compute_s = w.flops / (compute_peak_per_s(d_.hardware, d_.weights) * e.mfu);
  // Two all-reduces per layer (after attention and after the FFN) of [batch, n_embd] activations.
  t.comm_s = d_.tensor_parallel > 1
                 ? 2.0 * s.n_layer * allreduce_seconds(static_cast<double>(batch) * s.n_embd * kActivationBytes)
                 : 0.0;
  return t;
}

StepTime LlmRoofline::prefill(int64_t n_prompts, int64_t prompt_tokens) const {
  const LlmShape& s = d_.shape;
  const double tokens = static_cast<double>(n_prompts) * static_cast<double>(prompt_tokens);
  const Efficiency e =
      efficiency_at(std::max<int64_t>(1, static_cast<int64_t>(tokens)), prompt_tokens, CalibrationPhase::kPrefill);
  const CalibrationWork w = prefill_work(n_prompts, prompt_tokens);
  const double chunks = std::ceil(tokens / static_cast<double>(std::max<int64_t>(1, d_.prefill_chunk_tokens)));
  StepTime t;
  t.memory_s = w.bytes / (d_.hardware.memory_bandwidth_bytes_per_s * e.mbu);
  t.compute_s = w.flops / (compute_peak_per_s(d_.hardware, d_.weights) * e.mfu);
  t.comm_s = d_.tensor_parallel > 1
                 ? chunks * 2.0 * s.n_layer *
                       allreduce_seconds(std::min(tokens, static_cast<double>(d_.prefill_chunk_tokens)) * s.n_embd *
                                         kActivationBytes)
                 : 0.0;
  return t;
}

double usd_per_million_tokens(double usd_per_hour, double tokens_per_s, double utilisation) {
  if (usd_per_hour <= 0 || tokens_per_s <= 0 || utilisation <= 0) return 0.0;
  return usd_per_hour / (tokens_per_s * 3600.0 * utilisation) * 1e6;
}

LlmPlan plan_llm(const LlmRoofline& model, const LlmPlanQuery& q) {
  LlmPlan p;
  const int64_t prompt = q.prompt_tokens > 0 ? q.prompt_tokens : q.context;
  p.memory = model.memory(q.batch, q.context);
  p.capacity_bytes = model.capacity_bytes();
  p.fits = p.memory.total_bytes() <= p.capacity_bytes;
  p.max_batch = model.max_batch(q.context);
  p.decode = model.decode_step(q.batch, q.context);
  p.prefill = model.prefill(1, prompt);
  p.prefill_tokens_per_s = static_cast<double>(prompt) / p.prefill.total_s();
  p.decode_tokens_per_s = 1.0 / p.decode.total_s();
  p.decode_tokens_per_s_total = static_cast<double>(q.batch) * p.decode_tokens_per_s;
  p.usd_per_hour = q.usd_per_hour_per_device * model.deployment().tensor_parallel;
  // A configuration that does not fit is not priced: it cannot run, so it has no cost per token.
  p.priced = p.fits && p.usd_per_hour > 0;
  if (!p.priced) return p;
  p.usd_per_million_output_tokens = usd_per_million_tokens(p.usd_per_hour, p.decode_tokens_per_s_total, q.utilisation);
  p.usd_per_million_input_tokens = usd_per_million_tokens(p.usd_per_hour, p.prefill_tokens_per_s, q.utilisation);
  return p;
}

}  // namespace frugal
