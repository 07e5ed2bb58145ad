// Helpers shared by the cost-model tests: the built-in catalogue and a roofline in one call.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "cost/catalogue.h"
#include "cost/llm_roofline.h"

namespace frugal::testing {

inline std::string catalogue_path() { return std::string(FRUGAL_TEST_DATA_DIR) + "/../../data/hardware/catalogue.json"; }

inline HardwareCatalogue builtin_catalogue() {
  auto c = HardwareCatalogue::load_file(catalogue_path());
  EXPECT_TRUE(c.has_value()) << c.error().to_string();
  return c.has_value() ? *c : HardwareCatalogue{};
}

inline Accelerator hardware(const std::string& name) {
  auto a = builtin_catalogue().get(name);
  EXPECT_TRUE(a.has_value()) << a.error().to_string();
  return a.has_value() ? *a : Accelerator{};
}

inline LlmRoofline roofline(const std::string& model, const std::string& hw, const std::string& weights, int tp = 1,
                            double kv_bytes = 2.0) {
  LlmDeployment d;
  d.shape = *find_llm_shape(model);
  d.weights = *find_weight_type(weights);
  d.hardware = hardware(hw);
  d.tensor_parallel = tp;
  d.kv_bytes_per_element = kv_bytes;
  d.efficiency = default_efficiency(d.hardware.kind);
  auto r = LlmRoofline::create(d);
  if (!r) ADD_FAILURE() << r.error().to_string();
  return std::move(*r);
}

}  // namespace frugal::testing
