// CPU feature detection via CPUID/XGETBV and Linux's AMX permission request (kernels layer).
#include "kernels/cpu_features.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#define FRUGAL_X86_CPUID 1
#endif

#include <cstdint>

#include "core/logging.h"

namespace frugal {
namespace {

#if defined(FRUGAL_X86_CPUID)

constexpr bool bit(uint32_t reg, int index) { return ((reg >> index) & 1u) != 0; }

uint64_t read_xcr0() {
  uint32_t eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}

// Linux >= 5.16 keeps AMX tile data disabled until a process asks for it.
bool request_amx_permission() {
  constexpr long kArchReqXcompPerm = 0x1023;
  constexpr long kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
}

CpuFeatures detect() {
  CpuFeatures f;
  uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return f;
  f.fma = bit(ecx, 12);
  f.f16c = bit(ecx, 29);
  const bool osxsave = bit(ecx, 27), avx = bit(ecx, 28);
  const uint64_t xcr0 = osxsave ? read_xcr0() : 0;
  f.os_avx = avx && (xcr0 & 0x6) == 0x6;             // SSE + YMM state
  f.os_avx512 = f.os_avx && (xcr0 & 0xe0) == 0xe0;   // opmask, ZMM_Hi256, Hi16_ZMM
  const bool os_amx = (xcr0 & 0x60000) == 0x60000;   // XTILECFG + XTILEDATA
  if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) {
    const uint32_t max_subleaf = eax;
    f.avx2 = bit(ebx, 5);
    f.bmi2 = bit(ebx, 8);
    f.avx512f = bit(ebx, 16);
    f.avx512dq = bit(ebx, 17);
    f.avx512bw = bit(ebx, 30);
    f.avx512vl = bit(ebx, 31);
    f.avx512vnni = bit(ecx, 11);
    f.amx_bf16 = bit(edx, 22);
    f.avx512fp16 = bit(edx, 23);
    f.amx_tile = bit(edx, 24);
    f.amx_int8 = bit(edx, 25);
    if (max_subleaf >= 1 && __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx)) f.avx512bf16 = bit(eax, 5);
  }
  if (f.amx_tile && os_amx) {
    f.amx_permitted = request_amx_permission();
    if (!f.amx_permitted) log_warn("cpu_features: the kernel refused AMX tile data; AMX disabled");
  }
  return f;
}

#else

CpuFeatures detect() { return CpuFeatures{}; }

#endif

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

}  // namespace frugal
