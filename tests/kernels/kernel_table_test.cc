// Tests the kernel table selection surface: activation dtypes, ISA availability, completeness.
#include "kernels/kernel_table.h"

#include <gtest/gtest.h>

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
    EXPECT_EQ(selected, available_isas().back());
  }
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
