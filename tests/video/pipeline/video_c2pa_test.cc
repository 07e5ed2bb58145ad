// `frugal video` signs C2PA provenance into its MP4: the development CA on first run (announced on
// stderr, reused after), the reference validator (c2pa-rs as npm @contentauth/c2pa-wasm) trusting
// the file with that CA, and clear start-up errors for bad --c2pa-key/--c2pa-cert.
#include <gtest/gtest.h>

#include <filesystem>

#include "common/c2pa_validation.h"
#include "common/subprocess.h"
#include "common/test_data.h"
#include "common/wan_tiny_workspace.h"

namespace frugal {
namespace {

namespace fs = std::filesystem;
using testing::run_command;

TEST(VideoC2pa, EveryMp4IsSignedAndTheReferenceValidatorTrustsIt) {
  FRUGAL_REQUIRE_C2PA_VALIDATOR();
  const testing::WanTinyWorkspace workspace("video_c2pa");
  ASSERT_TRUE(workspace.ready()) << workspace.mkmodel_output();
  const std::string& d = workspace.dir();
  const std::string video = workspace.video_command("32x32");
  auto r = run_command(video + " -o " + d + "/clip.mp4 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("made a local development C2PA CA"), std::string::npos) << r.output;
  const std::string ca = d + "/state/c2pa/dev-ca.pem";
  ASSERT_TRUE(fs::exists(ca));
  testing::expect_c2pa_reference_validation(d + "/clip.mp4", ca, "wan-tiny");

  // The second run reuses the development signer, silently.
  r = run_command(video + " -o " + d + "/again.mp4 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("made a local development"), std::string::npos) << r.output;

  // The operator's key and chain (here the development ones, given explicitly) are used as given.
  const std::string key = d + "/state/c2pa/dev-signer.key", chain = d + "/state/c2pa/dev-signer-chain.pem";
  r = run_command(video + " --c2pa-key " + key + " --c2pa-cert " + chain + " -o " + d + "/operator.mp4 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  testing::expect_c2pa_reference_validation(d + "/operator.mp4", ca, "wan-tiny");

  // Bad credentials stop the run before anything is generated.
  r = run_command(video + " --c2pa-key " + key + " --c2pa-cert " + ca + " -o " + d + "/bad.mp4 2>&1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("does not match the signer certificate"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(d + "/bad.mp4"));
  r = run_command(video + " --c2pa-key " + key + " -o " + d + "/bad.mp4 2>&1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("--c2pa-key needs --c2pa-cert"), std::string::npos) << r.output;
  r = run_command(video + " --c2pa-key " + chain + " --c2pa-cert " + chain + " -o " + d + "/bad.mp4 2>&1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("not a PEM private key"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace frugal
