// Test helpers of the video pipeline: the reference Wan model folder (t5_a + dit_a + vae_a laid out
// as an official release) and the fidelity measure the reference README uses.
#pragma once

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "common/test_data.h"

namespace frugal::testing {

// A folder laid out as Wan2.1-T2V-* releases are, linking the reference parts of the e2e cases.
inline std::string reference_model_dir(const std::string& tag) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("frugal_wan_ref_" + tag + "_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::pair<const char*, const char*> links[] = {
      {"config.json", "wan/dit_a/config.json"},
      {"diffusion_pytorch_model.safetensors", "wan/dit_a/diffusion_pytorch_model.safetensors"},
      {"Wan2.1_VAE.safetensors", "wan/vae_a/Wan2.1_VAE.safetensors"},
      {"models_t5_umt5-xxl-enc.safetensors", "wan/t5_a/models_t5_umt5-xxl-enc.safetensors"},
  };
  for (const auto& [name, target] : links) {
    std::error_code ec;
    fs::remove(dir / name, ec);
    fs::create_symlink(data_path(target), dir / name);
  }
  return dir.string();
}

struct Fidelity {
  double max_abs_diff = 0, max_abs_ref = 0, cosine = 0;
  double relative() const { return max_abs_ref > 0 ? max_abs_diff / max_abs_ref : max_abs_diff; }
};

inline Fidelity compare(const float* ours, const std::vector<float>& ref, const char* what) {
  Fidelity f;
  double dot = 0, na = 0, nb = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    f.max_abs_diff = std::max(f.max_abs_diff, std::fabs(static_cast<double>(ours[i]) - ref[i]));
    f.max_abs_ref = std::max(f.max_abs_ref, std::fabs(static_cast<double>(ref[i])));
    dot += static_cast<double>(ours[i]) * ref[i];
    na += static_cast<double>(ours[i]) * ours[i];
    nb += static_cast<double>(ref[i]) * ref[i];
  }
  f.cosine = dot / std::sqrt(na * nb + 1e-300);
  std::printf("  %-28s max|d| %.3e  max|ref| %.3e  rel %.3e  cos %.9f\n", what, f.max_abs_diff, f.max_abs_ref, f.relative(),
              f.cosine);
  return f;
}

}  // namespace frugal::testing
