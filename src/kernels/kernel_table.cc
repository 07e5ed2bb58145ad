// Kernel table selection (kernels layer): per-ISA tables completed entry by entry from ref, and
// the process-wide choice (FRUGAL_ISA override, else the best this CPU supports).
#include "kernels/kernel_table.h"

#include <atomic>
#include <cstdlib>
#include <optional>
#include <string>

#include "core/logging.h"
#include "kernels/cpu_features.h"
#include "kernels/isa_tables.h"

namespace frugal {
namespace {

// Copies `isa_table`, filling every null entry from the ref table.
KernelTable complete_from_ref(const KernelTable& isa_table) {
  const KernelTable& ref = ref_kernel_table();
  KernelTable t = isa_table;
  for (size_t i = 0; i < kDTypeTableSize; ++i) {
    if (!t.quantize_row[i]) t.quantize_row[i] = ref.quantize_row[i];
    if (!t.dequantize_row[i]) t.dequantize_row[i] = ref.dequantize_row[i];
    if (!t.vec_dot[i]) t.vec_dot[i] = ref.vec_dot[i];
  }
  if (!t.mul_mat) t.mul_mat = ref.mul_mat;
  if (!t.dot_rows_f32) t.dot_rows_f32 = ref.dot_rows_f32;
  if (!t.axpy_rows_f32) t.axpy_rows_f32 = ref.axpy_rows_f32;
  if (!t.exp_shifted_f32) t.exp_shifted_f32 = ref.exp_shifted_f32;
  if (!t.max_f32) t.max_f32 = ref.max_f32;
  if (!t.silu_mul_f32) t.silu_mul_f32 = ref.silu_mul_f32;
  if (!t.fma_probe.loop) t.fma_probe = ref.fma_probe;
  return t;
}

std::optional<Isa> parse_isa(std::string_view name) {
  for (Isa isa : {Isa::kRef, Isa::kAvx2, Isa::kAvx512, Isa::kAmx}) {
    if (isa_name(isa) == name) return isa;
  }
  return std::nullopt;
}

// The default: the widest vector table this CPU supports. AMX is opt-in (FRUGAL_ISA=amx): on the
// VMs measured it gave the same bits but no end-to-end gain (docs/PERFORMANCE.md).
Isa default_isa(const std::vector<Isa>& isas) {
  for (auto it = isas.rbegin(); it != isas.rend(); ++it) {
    if (*it != Isa::kAmx) return *it;
  }
  return Isa::kRef;
}

const KernelTable& select_table() {
  const std::vector<Isa> isas = available_isas();
  const Isa best = default_isa(isas);
  const char* forced = std::getenv("FRUGAL_ISA");
  if (forced == nullptr || *forced == '\0') return *kernels_for(best);
  const std::optional<Isa> isa = parse_isa(forced);
  if (!isa) {
    log_warn("FRUGAL_ISA=" + std::string(forced) + " is not one of ref|avx2|avx512|amx; using " +
             std::string(isa_name(best)));
    return *kernels_for(best);
  }
  if (const KernelTable* t = kernels_for(*isa)) return *t;
  log_warn("FRUGAL_ISA=" + std::string(forced) + " is not available on this CPU/build; using " +
           std::string(isa_name(best)));
  return *kernels_for(best);
}

AmxF16Mode initial_amx_f16_mode() {
  const char* env = std::getenv("FRUGAL_AMX_F16");
  if (env == nullptr || *env == '\0') return AmxF16Mode::kAuto;
  const std::string_view v(env);
  if (v == "off") return AmxF16Mode::kOff;
  if (v == "x1") return AmxF16Mode::kX1;
  if (v == "x3") return AmxF16Mode::kX3;
  log_warn("FRUGAL_AMX_F16=" + std::string(v) + " is not one of off|x1|x3; using the default");
  return AmxF16Mode::kAuto;
}

std::atomic<AmxF16Mode>& amx_f16_mode_state() {
  static std::atomic<AmxF16Mode> mode{initial_amx_f16_mode()};
  return mode;
}

}  // namespace

AmxF16Mode amx_f16_mode() { return amx_f16_mode_state().load(std::memory_order_relaxed); }
void set_amx_f16_mode(AmxF16Mode mode) { amx_f16_mode_state().store(mode, std::memory_order_relaxed); }

std::string_view isa_name(Isa isa) {
  switch (isa) {
    case Isa::kRef: return "ref";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
    case Isa::kAmx: return "amx";
  }
  return "unknown";
}

DType activation_dtype(DType weight_dtype) {
  switch (weight_dtype) {
    case DType::kQ4_0:
    case DType::kQ5_0:
    case DType::kQ8_0: return DType::kQ8_0;
    case DType::kQ4_K:
    case DType::kQ5_K:
    case DType::kQ6_K: return DType::kQ8_K;
    case DType::kF16: return DType::kF16;
    case DType::kBF16: return DType::kBF16;
    default: return DType::kF32;
  }
}

const KernelTable* kernels_for(Isa isa) {
  switch (isa) {
    case Isa::kRef: return &ref_kernel_table();
#if defined(FRUGAL_HAVE_X86_KERNELS)
    case Isa::kAvx2: {
      if (!cpu_features().supports_avx2_table()) return nullptr;
      static const KernelTable table = complete_from_ref(avx2_kernel_table());
      return &table;
    }
    case Isa::kAvx512: {
      if (!cpu_features().supports_avx512_table()) return nullptr;
      static const KernelTable table = complete_from_ref(avx512_kernel_table());
      return &table;
    }
    case Isa::kAmx: {
      if (!cpu_features().supports_amx()) return nullptr;
      static const KernelTable table = complete_from_ref(amx_kernel_table());
      return &table;
    }
#endif
    default: return nullptr;
  }
}

std::vector<Isa> available_isas() {
  std::vector<Isa> isas;
  for (Isa isa : {Isa::kRef, Isa::kAvx2, Isa::kAvx512, Isa::kAmx}) {
    if (kernels_for(isa) != nullptr) isas.push_back(isa);
  }
  return isas;
}

const KernelTable& kernels() {
  static const KernelTable& table = select_table();
  return table;
}

}  // namespace frugal
