// LlmRoofline: memory fit, prefill and decode-step times of one LLM deployment (cost layer).
// Central idea: a decode step reads every weight once plus every sequence's KV cache (bandwidth
// bound) and does 2 FLOPs per active parameter per token plus attention (compute bound); the
// step takes the larger of the two (a roofline), plus tensor-parallel all-reduces over the
// interconnect. Prefill is the same with many tokens per weight read, so it is compute bound.
#pragma once

#include <optional>
#include <string>

#include "core/expected.h"
#include "cost/calibration.h"
#include "cost/catalogue.h"
#include "cost/efficiency.h"
#include "cost/llm_shape.h"
#include "cost/weight_type.h"

namespace frugal {

struct LlmDeployment {
  LlmShape shape;
  WeightType weights;
  double kv_bytes_per_element = 2.0;  // f16 KV cache; 1.0 for an FP8/INT8 cache
  Accelerator hardware;
  int tensor_parallel = 1;            // devices the model is split over
  Efficiency efficiency;              // used where no calibration point applies
  // When set (--hardware this-machine), the efficiency of the closest measured configuration.
  std::optional<CalibrationRecord> calibration;
  int64_t prefill_chunk_tokens = 512; // tokens per prefill chunk (sets activation memory)
};

// The deployment a planner search builds for one (hardware, weights, devices) point: the
// efficiency override when given, else the accelerator kind's default.
inline LlmDeployment make_llm_deployment(const LlmShape& shape, const WeightType& weights, double kv_bytes_per_element,
                                         const Accelerator& hardware, int tensor_parallel,
                                         const std::optional<Efficiency>& efficiency) {
  LlmDeployment d;
  d.shape = shape;
  d.weights = weights;
  d.kv_bytes_per_element = kv_bytes_per_element;
  d.hardware = hardware;
  d.tensor_parallel = tensor_parallel;
  d.efficiency = efficiency ? *efficiency : default_efficiency(hardware.kind);
  return d;
}

// Per-device memory, in bytes.
struct MemoryBreakdown {
  double weights_bytes = 0;
  double kv_bytes = 0;
  double activation_bytes = 0;
  double reserve_bytes = 0;  // runtime context, workspaces, fragmentation
  double total_bytes() const { return weights_bytes + kv_bytes + activation_bytes + reserve_bytes; }
};

struct StepTime {
  double memory_s = 0;    // bytes / (bandwidth x MBU)
  double compute_s = 0;   // FLOPs / (peak x MFU)
  double comm_s = 0;      // tensor-parallel all-reduces
  double total_s() const { return (memory_s > compute_s ? memory_s : compute_s) + comm_s; }
  bool compute_bound() const { return compute_s > memory_s; }
};

// Runtime reserve per device: GPUs 2 GiB (CUDA context ~0.5 GiB, cuBLAS/NCCL workspaces,
// allocator fragmentation); CPUs 10 % of RAM, at least 2 GiB (OS, page cache, other processes).
double runtime_reserve_bytes(const Accelerator& hw);

class LlmRoofline {
 public:
  // kInvalidArgument for a deployment that cannot be planned (TP > 1 without an interconnect,
  // TP not dividing the heads, zero sizes).
  static Expected<LlmRoofline> create(LlmDeployment deployment);

  const LlmDeployment& deployment() const { return d_; }
  double weight_bytes_per_device() const;
  double kv_bytes_per_token_per_device() const;
  MemoryBreakdown memory(int64_t batch, int64_t context) const;
  // Calibrated efficiency of `phase` at (batch, context) when a record is set, else d_.efficiency.
  // Prefill looks up (batch = tokens in the forward, context = prompt tokens).
  Efficiency efficiency_at(int64_t batch, int64_t context, CalibrationPhase phase = CalibrationPhase::kDecode) const;
  // True when the weights are the GGUF file's own (no --weights, or the file's type): byte counts
  // then come from the file's tensors rather than params x bytes per weight.
  bool uses_file_bytes() const;
  double capacity_bytes() const { return d_.hardware.memory_bytes; }
  // fits <=> memory(batch, context).total_bytes() <= capacity_bytes().
  bool fits(int64_t batch, int64_t context) const;
  // Largest batch that fits at this context (0 when not even one sequence fits).
  int64_t max_batch(int64_t context) const;

  // One decode step: `batch` sequences each with `context` tokens in the KV cache.
  StepTime decode_step(int64_t batch, int64_t context) const;
  // Prefill of `n_prompts` prompts of `prompt_tokens` tokens each (chunked, causal attention;
  // logits of each prompt's last position only, as serving engines compute them).
  StepTime prefill(int64_t n_prompts, int64_t prompt_tokens) const;

 private:
  explicit LlmRoofline(LlmDeployment d) : d_(std::move(d)) {}
  double weight_read_bytes(int64_t batch) const;  // per device, per step (MoE: touched experts)
  // Bytes and FLOPs per device of one decode step, and of a prefill of n_prompts x prompt_tokens.
  CalibrationWork decode_work(int64_t batch, int64_t context) const;
  CalibrationWork prefill_work(int64_t n_prompts, int64_t prompt_tokens) const;
  double allreduce_seconds(double bytes) const;

  LlmDeployment d_;
};

// Summary of one (batch, context) operating point, with cost.
struct LlmPlan {
  MemoryBreakdown memory;
  double capacity_bytes = 0;
  bool fits = false;
  int64_t max_batch = 0;
  StepTime decode;
  StepTime prefill;                   // one prompt of prompt_tokens
  double prefill_tokens_per_s = 0;
  double decode_tokens_per_s = 0;     // per sequence
  double decode_tokens_per_s_total = 0;
  double usd_per_hour = 0;            // all devices
  bool priced = false;                // fits and a price is known; else the costs below are 0
  double usd_per_million_output_tokens = 0;  // 0 when not priced
  double usd_per_million_input_tokens = 0;
};

struct LlmPlanQuery {
  int64_t batch = 1;
  int64_t context = 4096;
  int64_t prompt_tokens = 0;          // 0 = context
  double usd_per_hour_per_device = 0; // price of one device-hour
  double utilisation = 1.0;           // fraction of the hour spent producing tokens
};

LlmPlan plan_llm(const LlmRoofline& model, const LlmPlanQuery& query);

// Cost of a million tokens from a throughput and an hourly price (0 when either is 0).
double usd_per_million_tokens(double usd_per_hour, double tokens_per_s, double utilisation);

}  // namespace frugal
