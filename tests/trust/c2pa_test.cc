// C2PA provenance (src/trust): frugal's own checks of the pieces, and the reference validator.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>
#include <openssl/evp.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/c2pa_validation.h"
#include "media/mp4_writer.h"
#include "trust/c2pa_test_util.h"
#include "trust/bmff.h"
#include "trust/c2pa_manifest.h"
#include "trust/cbor.h"
#include "trust/cose_sign.h"
#include "trust/signing_credentials.h"

namespace frugal::trust {
namespace {

namespace fs = std::filesystem;

using c2pa_test::make_mp4;
using c2pa_test::read_bytes;

std::string temp_dir(const std::string& name) { return c2pa_test::temp_dir("c2pa", name); }

TEST(Cbor, PreferredSerialisation) {
  CborWriter w;
  w.uint(23).uint(24).uint(0x1234).integer(-7).text("a").bytes(std::vector<uint8_t>{1, 2}).map(1).array(0).tag(18);
  const std::vector<uint8_t> expected = {0x17, 0x18, 0x18, 0x19, 0x12, 0x34, 0x26, 0x61, 'a', 0x42, 1, 2, 0xa1, 0x80, 0xd2};
  EXPECT_EQ(w.data(), expected);
}

TEST(DevCredentials, MadeOnceThenLoaded) {
  const std::string dir = temp_dir("dev");
  bool created = false;
  auto first = ensure_dev_credentials(dir, &created);
  ASSERT_TRUE(first.has_value()) << first.error().to_string();
  EXPECT_TRUE(created);
  EXPECT_EQ(first->chain_der.size(), 2u);
  auto second = ensure_dev_credentials(dir, &created);
  ASSERT_TRUE(second.has_value()) << second.error().to_string();
  EXPECT_FALSE(created);
  EXPECT_EQ(first->chain_der, second->chain_der);
  EXPECT_EQ(fs::status(dev_credential_paths(dir).key).permissions() & fs::perms::others_read, fs::perms::none);
}

TEST(DevCredentials, StartingTogetherAllGetTheSameMatchingPair) {
  const std::string dir = temp_dir("race");
  constexpr int kStarters = 6;
  std::vector<Expected<SigningCredentials>> got(kStarters, Expected<SigningCredentials>(internal_error("unset")));
  std::vector<int> created(kStarters, 0);  // not vector<bool>: its bits share words
  std::vector<std::thread> threads;
  for (int i = 0; i < kStarters; ++i) {
    threads.emplace_back([&, i] {
      bool c = false;
      got[i] = ensure_dev_credentials(dir, &c);
      created[i] = c;
    });
  }
  for (std::thread& t : threads) t.join();
  int makers = 0;
  for (int i = 0; i < kStarters; ++i) {
    ASSERT_TRUE(got[i].has_value()) << got[i].error().to_string();
    EXPECT_EQ(got[i]->chain_der, got[0]->chain_der);
    makers += created[i] ? 1 : 0;
  }
  EXPECT_EQ(makers, 1);
}

TEST(CoseSign1, VerifiesAndRejectsAnotherPayload) {
  const std::string dir = temp_dir("cose");
  bool created = false;
  auto creds = ensure_dev_credentials(dir, &created);
  ASSERT_TRUE(creds.has_value());
  const std::vector<uint8_t> payload = {1, 2, 3, 4};
  auto cose = cose_sign1_es256(creds->key.get(), creds->chain_der, payload);
  ASSERT_TRUE(cose.has_value()) << cose.error().to_string();
  EXPECT_TRUE(cose_verify_es256(*cose, creds->key.get(), payload));
  const std::vector<uint8_t> other = {1, 2, 3, 5};
  EXPECT_FALSE(cose_verify_es256(*cose, creds->key.get(), other));
}

TEST(Embed, ManifestBoxAfterFtypAndChunkOffsetsShifted) {
  const std::string dir = temp_dir("embed");
  const std::string mp4 = make_mp4(dir);
  bool created = false;
  auto creds = ensure_dev_credentials(dir, &created);
  ASSERT_TRUE(creds.has_value());
  const std::vector<uint8_t> before = read_bytes(mp4);
  ProvenanceInfo info{"test", "tiny-model", "clip.mp4", WatermarkBinding{"org.frugal.test", {0xde, 0xad}}};
  ASSERT_TRUE(embed_c2pa_file(mp4, info, *creds).is_ok());
  const std::vector<uint8_t> after = read_bytes(mp4);
  auto boxes = top_level_boxes(after);
  ASSERT_TRUE(boxes.has_value());
  ASSERT_GE(boxes->size(), 3u);
  EXPECT_EQ((*boxes)[0].type, "ftyp");
  EXPECT_TRUE((*boxes)[1].c2pa);
  EXPECT_EQ(after.size(), before.size() + (*boxes)[1].size);
  // The hash covers everything but the excluded boxes, so it is stable; a second embed is refused.
  auto again = embed_c2pa(after, info, *creds);
  EXPECT_FALSE(again.has_value());
  // ffprobe still decodes every frame (the stco offsets follow the moved mdat).
  const std::string probe = "ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames "
                            "-of csv=p=0 '" + mp4 + "' > '" + dir + "/frames.txt' 2>&1";
  if (std::system("command -v ffprobe >/dev/null 2>&1") == 0) {
    ASSERT_EQ(std::system(probe.c_str()), 0);
    std::ifstream in(dir + "/frames.txt");
    int frames = 0;
    in >> frames;
    EXPECT_EQ(frames, 6);
  }
}

TEST(Embed, MalformedFilesAreErrorsNotCrashes) {
  bool created = false;
  auto creds = ensure_dev_credentials(temp_dir("malformed"), &created);
  ASSERT_TRUE(creds.has_value());
  const ProvenanceInfo info{"test", "m", "", std::nullopt};
  // A box whose size runs past the end, one smaller than its header, no ftyp first, an empty file.
  const std::vector<std::vector<uint8_t>> files = {
      {0, 0, 0, 16, 'f', 't', 'y', 'p', 0, 0, 0, 0},
      {0, 0, 0, 4, 'f', 't', 'y', 'p', 0, 0, 0, 0},
      {0, 0, 0, 8, 'm', 'o', 'o', 'v'},
      {},
  };
  for (const auto& file : files) {
    auto out = embed_c2pa(file, info, *creds);
    EXPECT_FALSE(out.has_value());
  }
  // A moov whose stco claims more entries than it holds.
  std::vector<uint8_t> file = {0, 0, 0, 8, 'f', 't', 'y', 'p', 0, 0, 0, 24, 'm', 'o', 'o', 'v',
                               0, 0, 0, 16, 's', 't', 'c', 'o', 0, 0, 0, 0, 0, 0, 0, 9};
  auto out = embed_c2pa(file, info, *creds);
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().code(), StatusCode::kDataLoss) << out.error().to_string();
}

// ---- the reference validator: c2pa-rs (npm @contentauth/c2pa-wasm) under node --test ----

TEST(ReferenceValidator, TrustsFrugalsDevelopmentSignatureAndCatchesAFlippedMdatByte) {
  FRUGAL_REQUIRE_C2PA_VALIDATOR();
  const std::string dir = temp_dir("reference");
  const std::string mp4 = make_mp4(dir);
  bool created = false;
  auto creds = ensure_dev_credentials(dir, &created);
  ASSERT_TRUE(creds.has_value()) << creds.error().to_string();
  const ProvenanceInfo info{"0.1.0", "wan-tiny", "clip.mp4", WatermarkBinding{"org.frugal.luma.1", {0x01, 0x23, 0x45, 0x67,
                                                                                                    0x89, 0xab, 0xcd, 0xef}}};
  ASSERT_TRUE(embed_c2pa_file(mp4, info, *creds).is_ok());
  testing::expect_c2pa_reference_validation(mp4, dev_credential_paths(dir).ca, info.model, info.watermark->algorithm,
                                            "0123456789abcdef");
}

}  // namespace
}  // namespace frugal::trust
