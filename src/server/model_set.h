// The served-model set as the operator declares it (server layer, pure): `--model NAME=PATH`
// specs, `--route NAME=TIER,TIER` routes, and the split of one KV memory budget across engines.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/expected.h"

namespace frugal {

struct ModelSpec {
  std::string name;  // the id clients send as "model"
  std::string path;  // GGUF file
};

struct RouteSpec {
  std::string name;                // the id clients send as "model" (e.g. "auto", "chat")
  std::vector<std::string> tiers;  // served model names
};

// The route every multi-model server has: all local tiers.
inline constexpr const char* kAutoRoute = "auto";

// Names: 1..64 of [A-Za-z0-9._:-], not starting with '.' or '-'.
bool is_valid_served_name(const std::string& name);

// `--model` values. One value without '=' is the single-model form (name: `single_name`, or the
// file stem when empty); otherwise every value must be NAME=PATH. Errors (kInvalidArgument): no
// value, a value without '=' among several, a bad or duplicate name, an empty path.
Expected<std::vector<ModelSpec>> parse_model_specs(const std::vector<std::string>& values,
                                                   const std::string& single_name);

// `--route NAME=TIER[,TIER...]`, checked against the served names: unknown tiers, a name that
// is a model's or "auto", duplicates -> kInvalidArgument.
Expected<std::vector<RouteSpec>> parse_route_specs(const std::vector<std::string>& values,
                                                   const std::vector<ModelSpec>& models);

// Splits one KV budget across engines in proportion to what each wants (its bytes per token x
// context x max running sequences), never giving an engine more than it wants. The shares add up
// to at most total_bytes. Precondition (CHECKed): total_bytes >= 0, every want > 0.
std::vector<int64_t> split_kv_budget(int64_t total_bytes, const std::vector<int64_t>& wanted_bytes);

}  // namespace frugal
