// The speculation policy pieces: n-gram proposals, the per-sequence draft length and the
// load-aware switch, each against hand-derived expectations.
#include "engine/speculation.h"

#include <gtest/gtest.h>

#include <memory>

namespace frugal {
namespace {

TEST(NgramPropose, ContinuesTheMostRecentEarlierMatchOfTheLongestSuffix) {
  //                        0  1  2  3  4  5  6  7  8  9 10
  const std::vector<int32_t> tokens = {1, 2, 3, 9, 1, 2, 3, 7, 8, 1, 2};
  // Suffix [1, 2] (n=2) last occurred at 4..5 -> continuation 3, 7, 8.
  EXPECT_EQ(ngram_propose(tokens, 3, 4, 2), (std::vector<int32_t>{3, 7, 8}));
  EXPECT_EQ(ngram_propose(tokens, 1, 4, 2), (std::vector<int32_t>{3}));
  // The continuation stops at the end of the context.
  EXPECT_EQ(ngram_propose(tokens, 10, 2, 2), (std::vector<int32_t>{3, 7, 8, 1, 2}));
  // n=3: the suffix [8, 1, 2] has no earlier occurrence, so n=2 answers.
  EXPECT_EQ(ngram_propose(tokens, 2, 3, 2), (std::vector<int32_t>{3, 7}));
  EXPECT_EQ(ngram_propose(std::vector<int32_t>{5, 6, 7, 5, 6}, 2, 2, 2), (std::vector<int32_t>{7, 5}));
  // No earlier occurrence of any suffix of length 2..3.
  EXPECT_TRUE(ngram_propose(std::vector<int32_t>{1, 2, 3, 4}, 2, 3, 2).empty());
  EXPECT_TRUE(ngram_propose(std::vector<int32_t>{}, 2, 3, 1).empty());
}

TEST(DraftLength, LongerDraftsWhenAcceptedShorterWhenRejected) {
  EXPECT_NEAR(expected_tokens_per_verify(0.5, 1), 1.5, 1e-12);
  EXPECT_NEAR(expected_tokens_per_verify(0.5, 3), 1.875, 1e-12);
  EXPECT_NEAR(expected_tokens_per_verify(0.0, 4), 1.0, 1e-12);
  DraftLength good;
  for (int i = 0; i < 20; ++i) good.observe(4, 4);
  EXPECT_GT(good.acceptance(), 0.95);
  EXPECT_EQ(good.choose(8, 0.05), 8);
  DraftLength bad;
  for (int i = 0; i < 20; ++i) bad.observe(4, 0);
  EXPECT_LT(bad.acceptance(), 0.01);
  EXPECT_EQ(bad.choose(8, 0.05), 1);
  // a = 0.6 with cost 0.2/token: E(k)/(1+0.2k) is 1.6/1.2=1.333 (k=1), 1.96/1.4=1.4 (k=2),
  // 2.176/1.6=1.36 (k=3) -> k = 2.
  DraftLength prior;
  EXPECT_EQ(prior.choose(8, 0.2), 2);
}

std::vector<int32_t> shared(int64_t budget, std::vector<int32_t> caps) {
  share_proposal_budget(budget, caps);
  return caps;
}

TEST(ProposalBudget, EverySequenceGetsAShareInsteadOfTheFirstOnesTakingAll) {
  // Caps that fit are kept.
  EXPECT_EQ(shared(40, {12, 12, 3}), (std::vector<int32_t>{12, 12, 3}));
  // 32 sequences of k 12 in 224 tokens: 7 each, not 18 x 12 + 8 and 13 with none.
  EXPECT_EQ(shared(224, std::vector<int32_t>(32, 12)), std::vector<int32_t>(32, 7));
  // Water-filling: the small cap keeps 2; 20 - 2 = 18 over three sequences is 6 each.
  EXPECT_EQ(shared(20, {12, 2, 12, 12}), (std::vector<int32_t>{6, 2, 6, 6}));
  // Left-overs go one each to the earliest sequences the level cut: level 3 uses 2 + 3 * 3 = 11 of
  // 13, and the first two cut sequences (not the cap-2 one) get one more.
  EXPECT_EQ(shared(13, {2, 12, 12, 12}), (std::vector<int32_t>{2, 4, 4, 3}));
  // A budget below one token per sequence: the earliest get one.
  EXPECT_EQ(shared(2, {6, 6, 6}), (std::vector<int32_t>{1, 1, 0}));
  // No budget (a full step) or negative caps: nobody proposes.
  EXPECT_EQ(shared(0, {6, 6}), (std::vector<int32_t>{0, 0}));
  EXPECT_EQ(shared(-5, {6, 6}), (std::vector<int32_t>{0, 0}));
  EXPECT_EQ(shared(10, {-1, 4}), (std::vector<int32_t>{0, 4}));
}

// The switch's warm-up at one batch size: three plain steps (off_rate tokens in 1 s each), then
// three speculative ones (on_rate), checking that it asks for them in that order.
void warm_up(SpecSwitch& sw, int32_t n, int64_t off_rate, int64_t on_rate) {
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(sw.decide(n));
    sw.record(n, false, off_rate, 1.0);
  }
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(sw.decide(n));
    sw.record(n, true, on_rate, 1.0);
  }
}

TEST(SpecSwitch, MeasuresBothArmsThenKeepsTheFasterAndReexplores) {
  SpecSwitch sw(/*load_aware=*/true);
  // Warm-up: three plain steps, then three speculative ones.
  warm_up(sw, 32, /*off=*/64, /*on=*/40);
  // Off, except re-measurements after 24, then 48, then 96 more steps (the interval doubles while
  // the choice holds): steps 24, 72 and 168.
  // Each step records its arm, as the engine does.
  std::vector<int> explored;
  for (int step = 1; step <= 168; ++step) {
    const bool on = sw.decide(32);
    if (on) explored.push_back(step);
    sw.record(32, on, on ? 40 : 64, 1.0);
  }
  EXPECT_EQ(explored, (std::vector<int>{24, 72, 168}));
  // Load changes: speculation now wins at this batch size (a fresh measurement of "on"); the choice
  // flips and the interval resets. The 3 % budget would allow re-measuring "off" only every
  // (200 / 64 - 1) / 0.03 = 70 steps, but "off"'s idle figure may be stale, so the interval is
  // capped at the doubling one: steps 24, then 48 more.
  for (int i = 0; i < 20; ++i) sw.record(32, true, 200, 1.0);
  std::vector<int> off_steps;
  for (int step = 1; step <= 100; ++step) {
    const bool on = sw.decide(32);
    if (!on) off_steps.push_back(step);
    sw.record(32, on, on ? 200 : 64, 1.0);
  }
  EXPECT_EQ(off_steps, (std::vector<int>{24, 72}));
  // With a close race the budget is short, and the floor is kExploreEvery / kOffExploreDivisor.
  SpecSwitch close(/*load_aware=*/true);
  warm_up(close, 32, /*off=*/64, /*on=*/66);
  for (int i = 0; i < 9; ++i) close.record(32, true, 80, 1.0);  // 25 % faster: on
  off_steps.clear();
  for (int step = 1; step <= 12; ++step) {
    const bool on = close.decide(32);
    if (!on) off_steps.push_back(step);
    close.record(32, on, on ? 80 : 64, 1.0);
  }
  // (80 / 64 - 1) / 0.03 = 8.3 steps, within [24 / 3, 24]: step 8.
  EXPECT_EQ(off_steps, (std::vector<int>{8}));
  // Another batch-size bucket learns separately: at batch 1 speculation wins.
  for (int i = 0; i < 3; ++i) sw.record(1, true, 30, 1.0);
  for (int i = 0; i < 3; ++i) sw.record(1, false, 10, 1.0);
  EXPECT_TRUE(sw.decide(1));
  EXPECT_DOUBLE_EQ(sw.throughput(1, false), 10);
  // Always-on ignores measurements.
  SpecSwitch always(/*load_aware=*/false);
  for (int i = 0; i < 3; ++i) always.record(4, true, 1, 1.0);
  for (int i = 0; i < 3; ++i) always.record(4, false, 100, 1.0);
  EXPECT_TRUE(always.decide(4));
}

// The engine does not record the first speculative step after an off spell (the drafts' catch-up):
// a re-measurement of "on" goes on until one of its steps is recorded, instead of paying for the
// catch-up and learning nothing.
TEST(SpecSwitch, AReMeasurementLastsUntilItsArmRecordsAStep) {
  SpecSwitch sw(/*load_aware=*/true);
  warm_up(sw, 8, /*off=*/64, /*on=*/40);
  int steps = 0;
  while (!sw.decide(8)) {  // off until the re-measurement of "on"
    sw.record(8, false, 64, 1.0);
    ASSERT_LT(++steps, 100);
  }
  EXPECT_EQ(steps, SpecSwitch::kExploreEvery - 1);
  // The catch-up step is not recorded: still on.
  EXPECT_TRUE(sw.decide(8));
  EXPECT_TRUE(sw.decide(8));
  sw.record(8, true, 40, 1.0);  // measured, and still slower
  EXPECT_FALSE(sw.decide(8));
}

// While "off" is chosen, re-measuring "on" also costs the drafts' catch-up: the interval grows so
// that re-measurements stay within 3 % of the time.
TEST(SpecSwitch, AnExpensiveCatchUpSpacesOutReMeasurements) {
  const auto steps_until_on = [](double catchup_seconds) {
    SpecSwitch sw(/*load_aware=*/true);
    warm_up(sw, 32, /*off=*/64, /*on=*/40);
    // A catch-up whose own cost was too small to measure: the whole step predicts the next one.
    if (catchup_seconds > 0) sw.record_catchup(32, catchup_seconds, 100, 0.0);
    int steps = 1;
    while (!sw.decide(32)) {
      sw.record(32, false, 64, 1.0);
      if (++steps > 100000) break;
    }
    return steps;
  };
  // Without a catch-up figure: the plain interval (a speculative step loses 64/40 - 1 = 0.6 s,
  // 0.6 / 0.03 = 20 steps < kExploreEvery).
  EXPECT_EQ(steps_until_on(0), SpecSwitch::kExploreEvery);
  // A 10 s catch-up: (0.6 + 10) / 0.03 = 353 steps.
  EXPECT_EQ(steps_until_on(10.0), 353);
}

// Catching up costs in proportion to the off spell (each step every draft falls a token further
// behind), so spacing re-measurements out cannot amortise it: while catching up costs more per
// step of lag than the 3 % budget, "on" is not re-measured; when the lag is short again (new
// sequences), it is.
TEST(SpecSwitch, ACatchUpDearerThanTheBudgetWaitsForShortLags) {
  SpecSwitch sw(/*load_aware=*/true);
  warm_up(sw, 32, /*off=*/64, /*on=*/40);
  // A catch-up of 100 tokens took 10 s of an 11 s step: 0.1 s per token.
  sw.record_catchup(32, 11.0, 100, 10.0);
  // 32 sequences, each one token further behind per step: 3.2 s of catch-up per step of lag
  // against a budget of 0.03 s -- never affordable while the lag grows.
  int64_t lag = 32 * 10;
  for (int step = 0; step < 2000; ++step) {
    ASSERT_FALSE(sw.decide(32, lag)) << "re-measured at step " << step << " with a lag of " << lag;
    sw.record(32, false, 64, 1.0);
    lag += 32;
  }
  // The long-running sequences finish; new ones have no lag yet: re-measure now.
  EXPECT_TRUE(sw.decide(32, 0));
  // Without a per-token figure (an old-style catch-up record) the last catch-up's seconds count,
  // as before: AnExpensiveCatchUpSpacesOutReMeasurements.
}

// Arms are medians of their recent steps: one step stalled by a busy machine (here 6x slower) does
// not flip the choice (a moving average of weight 0.2 would have: 64 -> 53.2 < 55).
TEST(SpecSwitch, AStallInOneStepDoesNotFlipTheChoice) {
  SpecSwitch sw(/*load_aware=*/true);
  warm_up(sw, 1, /*off=*/55, /*on=*/64);
  EXPECT_TRUE(sw.decide(1));
  sw.record(1, true, 10, 1.0);  // the stall
  EXPECT_TRUE(sw.decide(1));
  EXPECT_DOUBLE_EQ(sw.throughput(1, true), 64);
}

// From "off", only a fresh measurement of "on" switches it on: when the machine slows down, "off"'s
// figure drops while "on"'s idle one keeps its better day; and "on" must then be kSwitchOnMargin
// faster, not just faster.
TEST(SpecSwitch, SwitchingOnNeedsAFreshAndClearAdvantage) {
  const auto warmed_up = [] {
    auto sw = std::make_unique<SpecSwitch>(/*load_aware=*/true);
    warm_up(*sw, 32, /*off=*/64, /*on=*/60);
    return sw;
  };
  // The machine slows: "off" now measures 40, below the stale 60 of "on" -- still off until the
  // re-measurement (kExploreEvery steps), which finds "on" slowed down too.
  auto slow = warmed_up();
  int step = 1;
  for (; !slow->decide(32); ++step) {
    slow->record(32, false, 40, 1.0);
    ASSERT_LT(step, 100);
  }
  EXPECT_EQ(step, SpecSwitch::kExploreEvery);
  for (int i = 0; i < 5; ++i) slow->record(32, true, 38, 1.0);
  EXPECT_FALSE(slow->decide(32));
  // A fresh "on" 5 % faster than "off" does not switch; 20 % faster does.
  auto close = warmed_up();
  for (int i = 0; i < 9; ++i) close->record(32, true, 67.2, 1.0);
  EXPECT_FALSE(close->decide(32));
  auto clear = warmed_up();
  for (int i = 0; i < 9; ++i) clear->record(32, true, 76.8, 1.0);
  EXPECT_TRUE(clear->decide(32));
}

// A batch size not measured yet follows an adjacent measured one while the drafts lag (its own
// warm-up would switch speculation off and back on, a catch-up each time), and runs its own
// warm-up ("off" first) when they do not.
TEST(SpecSwitch, AnUnmeasuredBatchSizeFollowsItsNeighbourWhileDraftsLag) {
  SpecSwitch sw(/*load_aware=*/true);
  warm_up(sw, 1, /*off=*/10, /*on=*/30);
  EXPECT_TRUE(sw.decide(1));
  EXPECT_TRUE(sw.decide(2, /*pending_catchup_tokens=*/50)) << "bucket 2-3 follows bucket 1: on";
  EXPECT_FALSE(sw.decide(2, 0)) << "nothing to catch up: its own warm-up, off first";
  EXPECT_FALSE(sw.decide(32, 50)) << "only adjacent batch sizes are followed: 32-63 runs its own warm-up";
}

// A re-measurement of "on" left unfinished because the batch size moved to another bucket is
// dropped, not resumed later under another load.
TEST(SpecSwitch, AnUnfinishedReMeasurementIsDroppedWhenTheBatchSizeMoves) {
  SpecSwitch sw(/*load_aware=*/true);
  warm_up(sw, 32, /*off=*/64, /*on=*/40);
  int steps = 1;
  while (!sw.decide(32)) {
    sw.record(32, false, 64, 1.0);
    ASSERT_LT(++steps, 100);
  }
  EXPECT_TRUE(sw.decide(32)) << "the catch-up step was not recorded: still re-measuring";
  sw.decide(16);  // the batch shrank
  EXPECT_FALSE(sw.decide(32)) << "back at 32: the re-measurement is not resumed";
}

// A catch-up's own measured seconds give the cost per caught-up token, not the whole step's (most
// of an 11 s step at 32 sequences is the verification, which the next catch-up need not repeat).
TEST(SpecSwitch, AMeasuredCatchUpSetsTheCostPerToken) {
  const auto steps_until_on = [](double catchup_seconds) {
    SpecSwitch sw(/*load_aware=*/true);
    warm_up(sw, 32, /*off=*/64, /*on=*/40);
    sw.record_catchup(32, 11.0, 100, catchup_seconds);
    int steps = 1;
    while (!sw.decide(32, /*pending_catchup_tokens=*/100)) {
      sw.record(32, false, 64, 1.0);
      if (++steps > 100000) break;
    }
    return steps;
  };
  // Measured: 2 s for 100 tokens -> (0.6 + 2.0) / 0.03 = 86 steps.
  EXPECT_EQ(steps_until_on(2.0), 86);
  // 5 s for 100 tokens -> (0.6 + 5.0) / 0.03 = 186 steps.
  EXPECT_EQ(steps_until_on(5.0), 186);
}

TEST(SpecMode, ParsesNames) {
  EXPECT_EQ(*parse_spec_mode("draft"), SpecMode::kDraft);
  EXPECT_EQ(*parse_spec_mode("ngram"), SpecMode::kNgram);
  EXPECT_EQ(*parse_spec_mode("off"), SpecMode::kOff);
  EXPECT_EQ(*parse_spec_mode("medusa"), SpecMode::kMedusa);
  const auto unknown = parse_spec_mode("eagle");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_NE(unknown.error().message().find("expected off, draft, ngram or medusa"), std::string::npos);
}

}  // namespace
}  // namespace frugal
