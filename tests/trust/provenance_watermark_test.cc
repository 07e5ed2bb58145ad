// The watermark and C2PA together, end to end: a `frugal video` MP4 whose frames are marked carries a
// c2pa.watermarked action and a c2pa.soft-binding assertion naming frugal's watermark algorithm and
// the very payload the frames carry (HMAC(key, id), trust/watermark_key.h), and the reference
// validator (c2pa-rs) trusts it; with --no-watermark the manifest claims no watermark.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "common/c2pa_validation.h"
#include "common/subprocess.h"
#include "common/test_data.h"
#include "trust/c2pa_manifest.h"
#include "trust/watermark_key.h"

namespace frugal {
namespace {

namespace fs = std::filesystem;
using testing::frugal_binary;
using testing::run_command;

std::string hex64(uint64_t value) {
  char buffer[17];
  std::snprintf(buffer, sizeof(buffer), "%016llx", static_cast<unsigned long long>(value));
  return buffer;
}

TEST(ProvenanceWatermark, TheSoftBindingNamesThePayloadTheFramesCarry) {
  FRUGAL_REQUIRE_C2PA_VALIDATOR();
  const fs::path dir = fs::temp_directory_path() / ("frugal_provenance_wm_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string d = dir.string();
  auto r = run_command(frugal_binary() + " mkmodel --preset wan-tiny -o " + d + "/wan-tiny 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string video = "FRUGAL_STATE_DIR=" + d + "/state " + frugal_binary() + " video -m " + d +
                            "/wan-tiny -p 'a red circle' --size 64x64 --frames 5 --steps 2 -q --watermark-key " + d +
                            "/wm.key";
  r = run_command(video + " --watermark-id job-7 -o " + d + "/marked.mp4 2>&1");
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
  fs::remove_all(dir);
}

}  // namespace
}  // namespace frugal
