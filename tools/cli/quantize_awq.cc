// `frugal quantize --awq`: plan the norm-folded channel scales (tools layer).
#include "quantize_awq.h"

#include <cstdio>

#include "model/awq_scales.h"
#include "quant/quantize.h"

namespace frugal::cli {

Expected<AwqPlan> plan_awq(const GgufFile& file, const Imatrix& imatrix, FileType type, int64_t n_layer, bool weighted) {
  AwqPlan plan;
  double before = 0, after = 0;
  for (int64_t l = 0; l < n_layer; ++l) {
    const std::string blk = "blk." + std::to_string(l) + ".";
    const std::pair<std::string, std::vector<std::string>> groups[] = {
        {"attn_norm", {"attn_q", "attn_k", "attn_v"}}, {"ffn_norm", {"ffn_gate", "ffn_up"}}};
    for (const auto& [norm, names] : groups) {
      const GgufTensorInfo* norm_info = file.find_tensor(blk + norm + ".weight");
      if (norm_info == nullptr) continue;
      std::vector<std::vector<float>> values;
      std::vector<AwqMatrix> group;
      bool complete = true;
      for (const std::string& name : names) {
        const GgufTensorInfo* info = file.find_tensor(blk + name + ".weight");
        if (info == nullptr || info->n_dims != 2 || info->ne[0] != norm_info->ne[0]) {
          complete = false;
          break;
        }
        const TensorView view = file.tensor_view(*info);
        auto v = dequantize_rows(info->dtype, view.data, view.num_rows(), info->ne[0]);
        if (!v) return v.error();
        values.push_back(std::move(*v));
        const DType dst = recipe_dtype(type, info->name, info->n_dims, info->ne[0], n_layer, false);
        group.push_back({values.back().data(), view.num_rows(), dst});
      }
      auto importance = imatrix.importance(blk + names[0] + ".weight", norm_info->ne[0]);
      if (!complete || !importance) continue;
      for (size_t i = 0; i < group.size(); ++i) group[i].values = values[i].data();
      auto choice = search_awq_scales(group, *importance, weighted);
      if (!choice) return choice.error();
      before += choice->error_unscaled;
      after += choice->error;
      std::fprintf(stderr, "awq: %s%s alpha %.1f, weighted error x%.3f\n", blk.c_str(), norm.c_str(), choice->alpha,
                   choice->error_unscaled > 0 ? choice->error / choice->error_unscaled : 1.0);
      if (choice->alpha == 0.0f) continue;
      plan.norm_scales[blk + norm + ".weight"] = choice->scales;
      for (const std::string& name : names) plan.matrix_scales[blk + name + ".weight"] = choice->scales;
    }
  }
  std::fprintf(stderr, "awq: %zu norms scaled; importance-weighted error of the scaled matrices x%.3f overall\n",
               plan.norm_scales.size(), before > 0 ? after / before : 1.0);
  return plan;
}

}  // namespace frugal::cli
