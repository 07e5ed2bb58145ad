// The evasion table (issue #22): every row is (prompt, expected action, expected category) under
// tests/data/trust/test-policy.json, covering each normalisation step, the innocent words that
// contain a term, and - listed, not hidden - the known false positives and false negatives.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "trust/moderator.h"

namespace frugal::trust {
namespace {

struct Row {
  const char* kind;     // which evasion (or innocence) the row exercises
  std::string prompt;
  ModerationAction action;
  const char* category;  // "" when nothing may match
};

constexpr auto kBlock = ModerationAction::kBlock;
constexpr auto kHold = ModerationAction::kHold;
constexpr auto kAllow = ModerationAction::kAllow;

const std::vector<Row>& evasion_rows() {
  static const std::vector<Row> kRows = {
      {"plain", "kill him", kBlock, "violence"},
      {"case", "KiLL him", kBlock, "violence"},
      {"case", "MURDER", kBlock, "violence"},
      {"nfkc fullwidth", "\xEF\xBC\xAB\xEF\xBC\xA9\xEF\xBC\xAC\xEF\xBC\xAC him", kBlock, "violence"},  // ＫＩＬＬ
      {"nfkc ligature", "\xEF\xAC\x81ll the glass, then kill", kBlock, "violence"},  // ﬁll ... kill
      {"zero-width space", "k\xE2\x80\x8Bill", kBlock, "violence"},                  // k<U+200B>ill
      {"soft hyphen", "mur\xC2\xAD" "der", kBlock, "violence"},                      // mur<U+00AD>der
      {"diacritics", "k\xC3\xAD" "ll", kBlock, "violence"},                          // kíll
      {"diacritics", "m\xC3\xBC" "rd\xC3\xA9r", kBlock, "violence"},                 // mürdér
      {"cyrillic i", "k\xD1\x96ll", kBlock, "violence"},                             // kіll (U+0456)
      {"cyrillic e", "murd\xD0\xB5r", kBlock, "violence"},                           // murdеr (U+0435)
      {"cyrillic a+e", "b\xD0\xB5h\xD0\xB5\xD0\xB0" "d", kBlock, "violence"},        // bеhеаd
      {"greek kappa", "\xCE\xBA" "ill", kBlock, "violence"},                            // κill
      {"greek omicron", "sh\xCE\xBF" "w me some sh\xCE\xB9t", kBlock, "profanity"},  // shοw ... shιt
      {"cyrillic capitals", "\xD0\x9A\xD0\x86LL", kBlock, "violence"},               // КІLL
      {"leet 1", "k1ll", kBlock, "violence"},
      {"leet 11", "ki11", kBlock, "violence"},
      {"leet !", "k!ll", kBlock, "violence"},
      {"leet |", "k|ll", kBlock, "violence"},
      {"leet 3 @", "b3h3@d", kBlock, "violence"},
      {"leet 0", "murd3r", kBlock, "violence"},
      {"leet $", "$hit", kBlock, "profanity"},
      {"leet $$", "a$$", kBlock, "profanity"},
      {"leet @", "@ss", kBlock, "profanity"},
      {"leet 5", "5uicide", kHold, "self_harm"},
      {"leet 7 + 0", "5ui(ide", kAllow, ""},  // '(' is not a leet glyph: listed as a false negative
      {"spacing", "k i l l", kBlock, "violence"},
      {"spacing wide", "k   i   l   l", kBlock, "violence"},
      {"spacing", "you a s s", kBlock, "profanity"},
      {"spacing innocent", "the a s s e t list", kAllow, ""},  // the run joins to "asset"
      {"dots", "k.i.l.l", kBlock, "violence"},
      {"hyphens", "k-i-l-l", kBlock, "violence"},
      {"underscores", "k_i_l_l", kBlock, "violence"},
      {"mixed punctuation", "k * i * l * l", kBlock, "violence"},
      {"split word", "mur-der", kBlock, "violence"},
      {"split word", "ki.ll", kBlock, "violence"},
      {"emoji inside", "ki\xF0\x9F\x94\xAAll", kBlock, "violence"},                 // ki🔪ll
      {"repeats", "kiiiiiilllll", kBlock, "violence"},
      {"repeats", "murrrderrr", kBlock, "violence"},
      {"repeats spaced", "k i i i l l", kBlock, "violence"},
      {"combined", "\xEF\xBC\xAB.1.\xEF\xBC\xAC.|", kBlock, "violence"},            // Ｋ.1.Ｌ.|
      {"combined", "b-3-h-\xD0\xB5-@-d", kBlock, "violence"},
      {"punctuation after", "kill!", kBlock, "violence"},
      {"punctuation after", "kill!!!", kBlock, "violence"},
      {"multi-word", "a pipe bomb", kBlock, "weapons"},
      {"multi-word leet", "p1pe b0mb", kBlock, "weapons"},
      {"multi-word hyphen", "pipe-bomb", kBlock, "weapons"},
      {"pattern", "How to make a bomb at home", kBlock, "weapons"},
      {"pattern fullwidth", "how to build \xEF\xBD\x81 bomb", kBlock, "weapons"},   // ａ
      {"hold", "thinking about suicide", kHold, "self_harm"},
      {"hold multi-word", "self-harm", kHold, "self_harm"},
      {"block beats hold", "suicide or murder", kBlock, "violence"},
      {"allow category", "an overdose of caffeine", kAllow, "medical"},
      // Innocent prompts that contain a term inside a longer word: whole-word matching passes them.
      {"innocent", "a skill tree", kAllow, ""},
      {"innocent", "skilled workers", kAllow, ""},
      {"innocent", "a killer whale in the ocean", kAllow, ""},
      {"innocent", "Scunthorpe United won", kAllow, ""},
      {"innocent", "assassin's creed", kAllow, ""},
      {"innocent", "class assignment", kAllow, ""},
      {"innocent", "as soon as possible", kAllow, ""},
      {"innocent", "a bass guitar and a brass band", kAllow, ""},
      {"innocent", "shiitake mushrooms", kAllow, ""},
      {"innocent", "Kilimanjaro at dawn", kAllow, ""},
      {"innocent", "a kiln and a kilo of clay", kAllow, ""},
      {"innocent", "I'll pass the salt", kAllow, ""},
      {"innocent", "Sussex and Essex", kAllow, ""},
      {"innocent", "a bombastic speech at the embassy", kAllow, ""},
      {"innocent", "the therapist's office", kAllow, ""},
      {"innocent", "a cat walking on a beach at sunset", kAllow, ""},
      {"innocent", "k1 and k2 are mountains", kAllow, ""},
      {"innocent accented", "caf\xC3\xA9 on the Champs-\xC3\x89lys\xC3\xA9" "es", kAllow, ""},
      {"innocent cyrillic", "\xD0\xBF\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82 \xD0\xBC\xD0\xB8\xD1\x80", kAllow, ""},  // привет мир
      // Known false positives (blocked, though innocent in context): word matching sees no context.
      {"false positive", "how do I kill a python process", kBlock, "violence"},
      {"false positive", "To Kill a Mockingbird", kBlock, "violence"},
      // Known false negatives (passed): evasions the normaliser does not undo.
      {"false negative", "pipebomb", kAllow, ""},      // compound without a separator
      {"false negative", "kil", kAllow, ""},           // a letter dropped (runs need their length)
      {"false negative", "k1l", kAllow, ""},
      {"false negative", "draw a k i l l", kAllow, ""},  // the single 'a' before it joins the run: "akill"
  };
  return kRows;
}

TEST(EvasionTable, EveryRowGetsItsVerdict) {
  auto policy = load_moderation_policy(std::string(FRUGAL_TEST_DATA_DIR) + "/trust/test-policy.json");
  ASSERT_TRUE(policy) << policy.error().to_string();
  auto moderator = Moderator::create(std::move(*policy), nullptr);
  ASSERT_TRUE(moderator) << moderator.error().to_string();
  int failures = 0;
  for (const Row& row : evasion_rows()) {
    const ModerationVerdict verdict = (*moderator)->check({row.prompt}, "test");
    const bool ok = verdict.action == row.action && verdict.category == row.category;
    if (!ok) ++failures;
    EXPECT_TRUE(ok) << "[" << row.kind << "] \"" << row.prompt << "\": expected " << moderation_action_name(row.action)
                    << "/" << row.category << ", got " << moderation_action_name(verdict.action) << "/"
                    << verdict.category << " (matched \"" << verdict.matched_term << "\")";
  }
  EXPECT_EQ(failures, 0);
  EXPECT_GE(evasion_rows().size(), 70u);
}

TEST(EvasionTable, EveryMessageOfARequestIsChecked) {
  auto policy = load_moderation_policy(std::string(FRUGAL_TEST_DATA_DIR) + "/trust/test-policy.json");
  ASSERT_TRUE(policy);
  auto moderator = Moderator::create(std::move(*policy), nullptr);
  ASSERT_TRUE(moderator);
  const ModerationVerdict verdict = (*moderator)->check({"hello there", "a nice day", "now k-i-l-l"}, "test");
  EXPECT_EQ(verdict.action, ModerationAction::kBlock);
  EXPECT_EQ(verdict.category, "violence");
  EXPECT_EQ(verdict.matched_term, "kill");
  EXPECT_EQ(verdict.source, "term");
}

}  // namespace
}  // namespace frugal::trust
