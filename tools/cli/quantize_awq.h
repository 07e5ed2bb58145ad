// `frugal quantize --awq`: the per-channel scales folded into each RMSNorm, planned for a whole
// model before its tensors are written (tools layer; the search is model/awq_scales.h).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/expected.h"
#include "gguf/gguf_reader.h"
#include "model/imatrix_file.h"
#include "model/quant_recipe.h"

namespace frugal::cli {

struct AwqPlan {
  std::map<std::string, std::vector<float>> matrix_scales;  // multiply column j of the matrix by s_j
  std::map<std::string, std::vector<float>> norm_scales;    // divide element j of the norm weight by s_j
};

// For each block: attn_norm -> attn_q/k/v and ffn_norm -> ffn_gate/up, where all of a group's
// tensors exist and the imatrix has the group's input statistics. Logs the chosen alpha and the
// error reduction per group on stderr.
Expected<AwqPlan> plan_awq(const GgufFile& file, const Imatrix& imatrix, FileType type, int64_t n_layer, bool weighted);

}  // namespace frugal::cli
