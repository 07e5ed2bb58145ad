// CPU feature detection (kernels layer): CPUID + OS state support, run once and cached.
#pragma once

namespace frugal {

struct CpuFeatures {
  bool avx2 = false, fma = false, f16c = false, bmi2 = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false;
  bool avx512vnni = false, avx512bf16 = false, avx512fp16 = false;
  bool amx_tile = false, amx_int8 = false, amx_bf16 = false;
  bool os_avx = false;       // XCR0 enables YMM state
  bool os_avx512 = false;    // XCR0 enables opmask + ZMM state
  bool amx_permitted = false;  // XCR0 enables tile state and the kernel granted XTILEDATA

  // What each kernel table's translation units were compiled to assume.
  bool supports_avx2_table() const { return os_avx && avx2 && fma && f16c && bmi2; }
  bool supports_avx512_table() const {
    return supports_avx2_table() && os_avx512 && avx512f && avx512bw && avx512vl && avx512dq &&
           avx512vnni;
  }
  // AMX-BF16 tiles plus the AVX-512 table (the F16 prefill's weight conversion).
  bool supports_amx_bf16() const { return supports_avx512_table() && amx_tile && amx_bf16 && amx_permitted; }
  bool supports_amx() const { return supports_avx512_table() && amx_tile && amx_int8 && amx_permitted; }
};

// Detected once on first call (thread-safe). On non-x86 builds every flag is false.
const CpuFeatures& cpu_features();

}  // namespace frugal
