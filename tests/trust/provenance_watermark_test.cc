// The watermark and C2PA together, end to end: a `frugal video` MP4 whose frames are marked carries a
// c2pa.watermarked action and a c2pa.soft-binding assertion naming frugal's watermark algorithm and
// the very payload the frames carry (HMAC(key, id), trust/watermark_key.h), and the reference
// validator (c2pa-rs) trusts it; with --no-watermark the manifest claims no watermark.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "common/c2pa_validation.h"
#include "common/subprocess.h"
#include "common/test_data.h"
#include "common/wan_tiny_workspace.h"
#include "trust/c2pa_manifest.h"
#include "trust/watermark_key.h"

namespace frugal {
namespace {

using testing::run_command;

std::string hex64(uint64_t value) {
  char buffer[17];
  std::snprintf(buffer, sizeof(buffer), "%016llx", static_cast<unsigned long long>(value));
  return buffer;
}

TEST(ProvenanceWatermark, TheSoftBindingNamesThePayloadTheFramesCarry) {
  FRUGAL_REQUIRE_C2PA_VALIDATOR();
  const testing::WanTinyWorkspace workspace("provenance_wm");
  ASSERT_TRUE(workspace.ready()) << workspace.mkmodel_output();
  const std::string& d = workspace.dir();
  const std::string video = workspace.video_command("64x64") + " --watermark-key " + d + "/wm.key";
  auto r = run_command(video + " --watermark-id job-7 -o " + d + "/marked.mp4 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto key = trust::load_watermark_key(d + "/wm.key");
  ASSERT_TRUE(key.has_value()) << key.error().to_string();
  const std::string ca = d + "/state/c2pa/dev-ca.pem";
  testing::expect_c2pa_reference_validation(d + "/marked.mp4", ca, "wan-tiny", trust::kFrugalWatermarkAlgorithm,
                                            hex64(trust::watermark_payload_for(*key, "job-7")));

  // Unmarked frames: still signed and trusted, and the manifest claims no watermark.
  r = run_command(video + " --no-watermark -o " + d + "/plain.mp4 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  testing::expect_c2pa_reference_validation(d + "/plain.mp4", ca, "wan-tiny");
  r = run_command("cd '" + testing::c2pa_repo_root().string() + "' && node tests/trust/c2pa_read.mjs " + d +
                  "/plain.mp4 " + ca + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("c2pa.watermarked"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("c2pa.soft-binding"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace frugal
