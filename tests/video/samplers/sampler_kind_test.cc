#include "video/samplers/sampler_kind.h"

#include <gtest/gtest.h>

namespace frugal::video {
namespace {

TEST(SamplerKindTest, NamesRoundTrip) {
  for (const SamplerKind kind : {SamplerKind::kUniPC, SamplerKind::kDpmPlusPlus, SamplerKind::kEuler}) {
    auto parsed = parse_sampler_kind(sampler_kind_name(kind));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*parsed, kind);
  }
  EXPECT_EQ(sampler_kind_name(SamplerKind::kUniPC), "unipc");
  EXPECT_EQ(sampler_kind_name(SamplerKind::kDpmPlusPlus), "dpm++");
  EXPECT_EQ(sampler_kind_name(SamplerKind::kEuler), "euler");
}

TEST(SamplerKindTest, UnknownNameListsTheValidOnes) {
  for (const char* bad : {"", "ddim", "UniPC", "dpm", "euler "}) {
    auto parsed = parse_sampler_kind(bad);
    ASSERT_FALSE(parsed.has_value()) << bad;
    EXPECT_EQ(parsed.error().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(parsed.error().message().find("\"unipc\", \"dpm++\", \"euler\""), std::string::npos)
        << parsed.error().message();
  }
}

}  // namespace
}  // namespace frugal::video
