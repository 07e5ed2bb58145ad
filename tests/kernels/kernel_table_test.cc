// Tests the kernel table selection surface: activation dtypes, ISA availability, completeness.
#include "kernels/kernel_table.h"

#include <gtest/gtest.h>

#include <vector>

#include "kernel_test_util.h"
#include "kernels/cpu_features.h"

namespace frugal {
namespace {

using testing::slot;

TEST(KernelTable, ActivationDtypesFollowLlamaCpp) {
  EXPECT_EQ(activation_dtype(DType::kQ4_0), DType::kQ8_0);
  EXPECT_EQ(activation_dtype(DType::kQ5_0), DType::kQ8_0);
  EXPECT_EQ(activation_dtype(DType::kQ8_0), DType::kQ8_0);
  EXPECT_EQ(activation_dtype(DType::kQ4_K), DType::kQ8_K);
  EXPECT_EQ(activation_dtype(DType::kQ5_K), DType::kQ8_K);
  EXPECT_EQ(activation_dtype(DType::kQ6_K), DType::kQ8_K);
  EXPECT_EQ(activation_dtype(DType::kF16), DType::kF16);
  EXPECT_EQ(activation_dtype(DType::kBF16), DType::kBF16);
  EXPECT_EQ(activation_dtype(DType::kF32), DType::kF32);
}

TEST(KernelTable, RefIsFirstAndAlwaysAvailable) {
  const auto isas = available_isas();
  ASSERT_FALSE(isas.empty());
  EXPECT_EQ(isas.front(), Isa::kRef);
  ASSERT_NE(kernels_for(Isa::kRef), nullptr);
  EXPECT_EQ(kernels_for(Isa::kRef)->isa, Isa::kRef);
}

TEST(KernelTable, IsaNames) {
  EXPECT_EQ(isa_name(Isa::kRef), "ref");
  EXPECT_EQ(isa_name(Isa::kAvx2), "avx2");
  EXPECT_EQ(isa_name(Isa::kAvx512), "avx512");
  EXPECT_EQ(isa_name(Isa::kAmx), "amx");
}

TEST(KernelTable, EveryAvailableTableIsComplete) {
  for (Isa isa : available_isas()) {
    const KernelTable* t = kernels_for(isa);
    ASSERT_NE(t, nullptr) << isa_name(isa);
    EXPECT_EQ(t->isa, isa);
    EXPECT_NE(t->mul_mat, nullptr);
    for (DType w : testing::weight_dtypes()) {
      EXPECT_NE(t->vec_dot[slot(w)], nullptr) << isa_name(isa) << " " << dtype_name(w);
      EXPECT_NE(t->dequantize_row[slot(w)], nullptr) << isa_name(isa) << " " << dtype_name(w);
      EXPECT_NE(t->quantize_row[slot(w)], nullptr) << isa_name(isa) << " " << dtype_name(w);
      EXPECT_NE(t->quantize_row[slot(activation_dtype(w))], nullptr) << isa_name(isa);
    }
    EXPECT_NE(t->dequantize_row[slot(DType::kQ8_K)], nullptr);
  }
}

TEST(KernelTable, SelectedTableIsAvailable) {
  const Isa selected = kernels().isa;
  bool found = false;
  for (Isa isa : available_isas()) found = found || isa == selected;
  EXPECT_TRUE(found) << isa_name(selected);
  if (std::getenv("FRUGAL_ISA") == nullptr) {
    // The widest vector table; AMX only when asked for.
    std::vector<Isa> isas = available_isas();
    if (isas.back() == Isa::kAmx) isas.pop_back();
    EXPECT_EQ(selected, isas.back());
  }
}

// The AMX table exists exactly where the CPU and OS grant AMX int8, and is the AVX-512 table with
// AMX tiles added: every entry but the packed matmul is the AVX-512 one.
TEST(KernelTable, AmxTableIsAvx512PlusTiles) {
#if defined(FRUGAL_HAVE_X86_KERNELS)
  EXPECT_EQ(kernels_for(Isa::kAmx) != nullptr, cpu_features().supports_amx());
#endif
  const KernelTable* amx = kernels_for(Isa::kAmx);
  if (amx == nullptr) GTEST_SKIP() << "this CPU does not grant AMX int8";
  const KernelTable* avx512 = kernels_for(Isa::kAvx512);
  ASSERT_NE(avx512, nullptr);
  EXPECT_EQ(amx->isa, Isa::kAmx);
  EXPECT_EQ(amx->mul_mat, avx512->mul_mat);
  for (DType w : {DType::kQ4_0, DType::kQ8_0, DType::kQ4_K, DType::kQ6_K, DType::kF16}) {
    EXPECT_EQ(amx->packed_size[slot(w)], avx512->packed_size[slot(w)]) << dtype_name(w);
    EXPECT_EQ(amx->pack_rows[slot(w)], avx512->pack_rows[slot(w)]) << dtype_name(w);
  }
  EXPECT_NE(amx->mul_mat_packed, nullptr);
}

TEST(CpuFeatures, TableRequirementsAreConsistent) {
  const CpuFeatures& f = cpu_features();
  if (f.supports_avx512_table()) {
    EXPECT_TRUE(f.supports_avx2_table());
  }
  if (f.supports_amx()) {
    EXPECT_TRUE(f.supports_avx512_table());
  }
#if defined(FRUGAL_HAVE_X86_KERNELS)
  EXPECT_EQ(kernels_for(Isa::kAvx2) != nullptr, f.supports_avx2_table());
  EXPECT_EQ(kernels_for(Isa::kAvx512) != nullptr, f.supports_avx512_table());
#endif
}

}  // namespace
}  // namespace frugal
