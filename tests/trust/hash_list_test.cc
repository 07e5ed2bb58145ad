#include <gtest/gtest.h>

#include "trust/hash_list.h"

namespace frugal::trust {
namespace {

const std::string kA = "998dbb029300d60fc60c761f801fc37bdd0b807b13ead1ef910f328656b6ff52";
const std::string kB = "c07da8bed57d6abe347d50be287d54beaa5d553aaa9d555aaa8d014615032a81";

TEST(PdqHashList, ParsesHashesLabelsAndComments) {
  auto list = PdqHashList::parse("# known content\n\n" + kA + ",100,cellauto.png\n" + kB + "\n", "list.txt");
  ASSERT_TRUE(list) << list.error().to_string();
  EXPECT_EQ(list->size(), 2u);
  auto match = list->nearest(*parse_pdq_hex(kA), 31);
  ASSERT_TRUE(match);
  EXPECT_EQ(match->distance, 0);
  EXPECT_EQ(match->label, "100,cellauto.png");
  auto unlabelled = list->nearest(*parse_pdq_hex(kB), 0);
  ASSERT_TRUE(unlabelled);
  EXPECT_EQ(unlabelled->label, "line 4");
}

TEST(PdqHashList, ThresholdIsInclusive) {
  auto list = PdqHashList::parse(kA + "\n", "list.txt");
  ASSERT_TRUE(list);
  PdqHash near = *parse_pdq_hex(kA);
  for (int k = 0; k < 31; ++k) near.words[static_cast<size_t>(k / 16)] ^= static_cast<uint16_t>(1u << (k % 16));
  EXPECT_EQ(list->nearest(near, 31)->distance, 31);
  EXPECT_FALSE(list->nearest(near, 30));
}

TEST(PdqHashList, MalformedFileNamesTheLine) {
  auto bad = PdqHashList::parse(kA + "\nnot-a-hash\n", "ops/hashes.txt");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.error().message().find("ops/hashes.txt:2:"), std::string::npos) << bad.error().message();
  auto short_hash = PdqHashList::parse(kA.substr(0, 63) + "\n", "h");
  ASSERT_FALSE(short_hash);
  EXPECT_NE(short_hash.error().message().find("64 hex digits"), std::string::npos);
  auto empty = PdqHashList::parse("# nothing\n\n", "h");
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().message().find("no hashes"), std::string::npos);
  EXPECT_EQ(PdqHashList::load("/nonexistent/hashes.txt").error().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace frugal::trust
