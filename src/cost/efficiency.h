// Achieved-efficiency factors of the roofline model and their defaults (cost layer).
// MBU = achieved bytes/s / peak memory bandwidth; MFU = achieved FLOP/s / peak dense FLOP/s.
#pragma once

#include "cost/catalogue.h"

namespace frugal {

struct Efficiency {
  double mbu = 0.7;  // memory-bandwidth utilisation of bandwidth-bound phases (decode)
  double mfu = 0.4;  // model-FLOPs utilisation of compute-bound phases (prefill, large batches)
};

// Defaults when nothing is measured. GPUs: MBU 0.7 (well-tuned decode kernels read weights and KV
// at 70-80 % of HBM peak) and MFU 0.4 (prefill GEMMs plus attention, norms and launches rarely
// sustain more than ~40-50 % of the dense tensor peak). CPUs: MBU 0.6 (a STREAM-like read reaches
// ~80 % of DRAM peak and GEMV loses more to dequantisation), MFU 0.3.
inline Efficiency default_efficiency(AcceleratorKind kind) {
  switch (kind) {
    case AcceleratorKind::kGpu:
    case AcceleratorKind::kAccelerator: return {0.7, 0.4};
    case AcceleratorKind::kCpu: return {0.6, 0.3};
  }
  return {0.7, 0.4};
}

// Video DiTs run a few very large GEMMs and flash attention over 30k-100k tokens, which sustain a
// larger share of the tensor peak than LLM serving does: default MFU 0.6 for their denoising steps.
inline constexpr double kDefaultVideoDitMfu = 0.6;
// VAE decoding is convolution-heavy with poor tensor-core use: MFU 0.2.
inline constexpr double kDefaultVaeMfu = 0.2;

}  // namespace frugal
