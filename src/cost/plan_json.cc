#include "cost/plan_json.h"

namespace frugal {

using nlohmann::json;

json accelerator_to_json(const Accelerator& a) {
  return {{"name", a.name},
          {"description", a.description},
          {"kind", std::string(accelerator_kind_name(a.kind))},
          {"memory_bytes", a.memory_bytes},
          {"memory_bandwidth_bytes_per_s", a.memory_bandwidth_bytes_per_s},
          {"bf16_dense_flops_per_s", a.bf16_dense_flops_per_s},
          {"bf16_sparse_flops_per_s", a.bf16_sparse_flops_per_s},
          {"fp8_dense_flops_per_s", a.fp8_dense_flops_per_s},
          {"fp8_sparse_flops_per_s", a.fp8_sparse_flops_per_s},
          {"int8_dense_ops_per_s", a.int8_dense_ops_per_s},
          {"int8_sparse_ops_per_s", a.int8_sparse_ops_per_s},
          {"tdp_watts", a.tdp_watts},
          {"interconnect", {{"type", a.interconnect_type}, {"bandwidth_bytes_per_s", a.interconnect_bytes_per_s}}},
          {"cloud_usd_per_hour", {{"low", a.cloud_usd_per_hour_low}, {"high", a.cloud_usd_per_hour_high}}},
          {"purchase_usd", a.purchase_usd},
          {"measured", a.measured},
          {"weight_formats", a.weight_formats},
          {"host", a.has_host ? json{{"server_usd_per_device", a.host_server_usd},
                                     {"network_usd_per_device", a.host_network_usd},
                                     {"watts_per_device", a.host_watts},
                                     {"source", a.source_host}}
                              : json(nullptr)},
          {"sources",
           {{"datasheet", a.source_datasheet},
            {"cloud_usd_per_hour", a.source_cloud_price},
            {"purchase_usd", a.source_purchase_price}}}};
}

json llm_plan_to_json(const LlmPlan& p) {
  return {{"fits", p.fits},
          {"memory_bytes", p.memory.total_bytes()},
          {"capacity_bytes", p.capacity_bytes},
          {"memory",
           {{"weights_bytes", p.memory.weights_bytes},
            {"kv_bytes", p.memory.kv_bytes},
            {"activation_bytes", p.memory.activation_bytes},
            {"reserve_bytes", p.memory.reserve_bytes}}},
          {"max_batch", p.max_batch},
          {"prefill_tokens_per_s", p.prefill_tokens_per_s},
          {"decode_tokens_per_s", p.decode_tokens_per_s},
          {"decode_tokens_per_s_total", p.decode_tokens_per_s_total},
          {"decode_step_s", p.decode.total_s()},
          {"decode_memory_s", p.decode.memory_s},
          {"decode_compute_s", p.decode.compute_s},
          {"decode_comm_s", p.decode.comm_s},
          {"decode_bound", p.decode.compute_bound() ? "compute" : "memory"},
          {"usd_per_hour", p.usd_per_hour},
          {"priced", p.priced},
          {"usd_per_million_output_tokens", p.priced ? json(p.usd_per_million_output_tokens) : json(nullptr)},
          {"usd_per_million_input_tokens", p.priced ? json(p.usd_per_million_input_tokens) : json(nullptr)}};
}

json video_plan_to_json(const VideoPlan& p) {
  return {{"latent_frames", p.tokens.latent_frames},
          {"latent_height", p.tokens.latent_height},
          {"latent_width", p.tokens.latent_width},
          {"tokens", p.tokens.tokens},
          {"linear_flops_per_pass", p.linear_flops_per_pass},
          {"attention_flops_per_pass", p.attention_flops_per_pass},
          {"dit_flops_total", p.dit_flops_total},
          {"dit_s", p.dit_seconds},
          {"text_encoder_s", p.text_encoder_seconds},
          {"vae_decode_s", p.vae_seconds},
          {"seconds_per_video", p.seconds},
          {"gpu_seconds_per_video", p.gpu_seconds},
          {"memory_bytes", p.memory_bytes},
          {"fits", p.fits},
          {"usd_per_video", p.fits ? json(p.usd_per_video) : json(nullptr)}};
}

json candidate_to_json(const Candidate& c) {
  return {{"hardware", c.hardware},
          {"count", c.count},
          {"weights", c.weights},
          {"batch", c.batch},
          {"fits", c.fits},
          {"meets_slo", c.meets_slo},
          {"tpot_s", c.tpot_s},
          {"ttft_s", c.ttft_s},
          {"output_tokens_per_s", c.output_tokens_per_s},
          {"usd_per_hour", c.usd_per_hour},
          {"usd_per_million_output_tokens", c.usd_per_million_output_tokens}};
}

}  // namespace frugal
