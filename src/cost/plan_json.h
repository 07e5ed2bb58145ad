// JSON renderings of planner results, shared by `frugal plan --json` and the tests (cost layer).
#pragma once

#include <nlohmann/json.hpp>

#include "cost/catalogue.h"
#include "cost/llm_roofline.h"
#include "cost/recommend.h"
#include "cost/video_model.h"

namespace frugal {

nlohmann::json accelerator_to_json(const Accelerator& a);
// Keys: fits, memory_bytes, capacity_bytes, memory{...}, max_batch, prefill_tokens_per_s,
// decode_tokens_per_s, decode_tokens_per_s_total, decode_step_s, decode_bound, usd_per_hour,
// priced, usd_per_million_output_tokens, usd_per_million_input_tokens (null unless priced: a
// configuration that does not fit has no price).
nlohmann::json llm_plan_to_json(const LlmPlan& plan);
nlohmann::json video_plan_to_json(const VideoPlan& plan);
nlohmann::json candidate_to_json(const Candidate& c);

}  // namespace frugal
