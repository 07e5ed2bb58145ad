// Scheduler bookkeeping with tiny KV pools: exact chunks, admission order, preemption victims and
// block accounting (deterministic; no model runs — a step is simulated by committing the chunk).
#include "engine/scheduler.h"

#include <gtest/gtest.h>

#include <deque>

#include "common/test_data.h"
#include "gguf/gguf_reader.h"

namespace frugal {
namespace {

class SchedulerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto file = GgufFile::open(testing::data_path("models/tiny-f32.gguf"));
    tokenizer_ = new Tokenizer(std::move(*Tokenizer::from_gguf(*file)));
  }
  static void TearDownTestSuite() { delete tokenizer_; }

  void make_scheduler(int32_t num_blocks, int32_t block_size, int32_t budget, int32_t max_running = 8) {
    KvCacheConfig kv_config;
    kv_config.num_blocks = num_blocks;
    kv_config.block_size_tokens = block_size;
    kv_ = std::make_unique<KvCacheManager>(kv_config);
    SchedulerConfig config;
    config.step_token_budget = budget;
    config.max_running = max_running;
    scheduler_ = std::make_unique<Scheduler>(config, *kv_);
  }

  Sequence* add(int32_t prompt_len, int32_t priority = 0, int32_t first_token = 10) {
    EngineRequest request;
    for (int32_t i = 0; i < prompt_len; ++i) request.prompt.push_back(first_token + i);
    request.priority = priority;
    request.sampling.temperature = 0.0f;
    const SeqId id = static_cast<SeqId>(seqs_.size());
    seqs_.push_back(std::make_unique<Sequence>(id, id, request, std::make_shared<RequestStream>(id), *tokenizer_, 512));
    scheduler_->add_waiting(seqs_.back().get());
    return seqs_.back().get();
  }

  // Runs the scheduled chunks as the engine would (K/V "computed"), appending token 7 where sampled.
  SchedulerOutput step() {
    SchedulerOutput out = scheduler_->schedule();
    for (const ScheduledChunk& c : out.chunks) {
      c.seq->num_computed_tokens += c.num_new_tokens;
      kv_->commit_tokens(c.seq->id, std::span<const int32_t>(c.seq->tokens.data(), c.seq->num_computed_tokens));
      if (c.wants_logits) c.seq->tokens.push_back(7);
    }
    return out;
  }

  static std::vector<std::pair<SeqId, int32_t>> chunks(const SchedulerOutput& out) {
    std::vector<std::pair<SeqId, int32_t>> v;
    for (const auto& c : out.chunks) v.emplace_back(c.seq->id, c.num_new_tokens);
    return v;
  }

  static Tokenizer* tokenizer_;
  std::unique_ptr<KvCacheManager> kv_;
  std::unique_ptr<Scheduler> scheduler_;
  std::vector<std::unique_ptr<Sequence>> seqs_;
};

Tokenizer* SchedulerTest::tokenizer_ = nullptr;

using Chunks = std::vector<std::pair<SeqId, int32_t>>;

TEST_F(SchedulerTest, ChunkedPrefillUnderTheTokenBudgetAndDecodesFirst) {
  make_scheduler(/*num_blocks=*/16, /*block_size=*/4, /*budget=*/8);
  Sequence* a = add(10);
  Sequence* b = add(10, 0, /*first_token=*/100);  // different tokens: no prefix-cache hit
  auto out = step();
  EXPECT_EQ(chunks(out), (Chunks{{0, 8}}));           // a's first chunk fills the budget
  EXPECT_FALSE(out.chunks[0].wants_logits);
  out = step();
  EXPECT_EQ(chunks(out), (Chunks{{0, 2}, {1, 6}}));   // a finishes its prompt, b starts
  EXPECT_TRUE(out.chunks[0].wants_logits);
  EXPECT_EQ(a->tokens.size(), 11u);
  out = step();
  EXPECT_EQ(chunks(out), (Chunks{{0, 1}, {1, 4}}));   // a's decode goes first, then b's last chunk
  EXPECT_EQ(out.num_decode_tokens, 1);
  EXPECT_EQ(out.num_prefill_tokens, 4);
  out = step();
  EXPECT_EQ(chunks(out), (Chunks{{0, 1}, {1, 1}}));   // two decodes
  EXPECT_EQ(b->num_computed_tokens, 11);
}

TEST_F(SchedulerTest, PriorityThenFcfsAdmission) {
  make_scheduler(16, 4, /*budget=*/4);
  add(4, /*priority=*/0);
  add(4, /*priority=*/5);
  add(4, /*priority=*/5);
  EXPECT_EQ(chunks(step()), (Chunks{{1, 4}}));
  EXPECT_EQ(chunks(step()), (Chunks{{1, 1}, {2, 3}}));
}

TEST_F(SchedulerTest, MaxRunningBoundsAdmission) {
  make_scheduler(16, 4, /*budget=*/64, /*max_running=*/2);
  add(3);
  add(3);
  add(3);
  EXPECT_EQ(chunks(step()), (Chunks{{0, 3}, {1, 3}}));
  EXPECT_EQ(scheduler_->num_waiting(), 1);
}

// 4 blocks of 4 tokens. Two sequences of 7 prompt tokens take 2 blocks each; when both need a
// third block, the later one (lowest rank) is preempted: its 2 blocks go back to the pool and it
// waits with num_computed = 0, to be recomputed (prompt + generated tokens) later.
TEST_F(SchedulerTest, OutOfBlocksPreemptsTheLatestLowestPriority) {
  make_scheduler(/*num_blocks=*/4, /*block_size=*/4, /*budget=*/64);
  Sequence* a = add(7);
  Sequence* b = add(7, 0, /*first_token=*/100);
  auto out = step();
  EXPECT_EQ(chunks(out), (Chunks{{0, 7}, {1, 7}}));
  EXPECT_EQ(kv_->num_free_blocks(), 0);
  out = step();  // both decode their 8th token: still inside block 2
  EXPECT_EQ(chunks(out), (Chunks{{0, 1}, {1, 1}}));
  out = step();  // the 9th token needs a new block each: b is preempted for a
  EXPECT_EQ(chunks(out), (Chunks{{0, 1}}));
  ASSERT_EQ(out.preempted.size(), 1u);
  EXPECT_EQ(out.preempted[0], b);
  EXPECT_EQ(b->status, SeqStatus::kWaiting);
  EXPECT_EQ(b->num_computed_tokens, 0);
  EXPECT_EQ(b->num_preemptions, 1);
  EXPECT_EQ(kv_->block_table(a->id).size(), 3u);
  EXPECT_FALSE(kv_->has_sequence(b->id));
  // a finishes; b is re-admitted with its 9 tokens (7 prompt + 2 generated). Its first block was
  // committed to the prefix cache before the preemption and survived (a's new block evicted b's
  // second one), so only 5 tokens are recomputed.
  scheduler_->remove(a);
  out = step();
  EXPECT_EQ(chunks(out), (Chunks{{1, 5}}));
  EXPECT_EQ(b->num_computed_tokens, 9);  // 4 from the cache + 5 recomputed
  EXPECT_TRUE(out.chunks[0].wants_logits);
}

TEST_F(SchedulerTest, HigherPriorityArrivalPreemptsLowerRunning) {
  make_scheduler(/*num_blocks=*/2, /*block_size=*/4, /*budget=*/64);
  Sequence* low = add(7, /*priority=*/0);
  step();
  Sequence* high = add(5, /*priority=*/9, /*first_token=*/200);
  auto out = step();
  ASSERT_EQ(out.preempted.size(), 1u);
  EXPECT_EQ(out.preempted[0], low);
  EXPECT_EQ(chunks(out), (Chunks{{high->id, 5}}));
}

TEST_F(SchedulerTest, EqualPriorityArrivalWaitsInsteadOfPreempting) {
  make_scheduler(/*num_blocks=*/2, /*block_size=*/4, /*budget=*/64);
  add(7);
  step();
  add(5, 0, 200);
  auto out = step();
  EXPECT_TRUE(out.preempted.empty());
  EXPECT_EQ(chunks(out), (Chunks{{0, 1}}));
  EXPECT_EQ(scheduler_->num_waiting(), 1);
}

TEST_F(SchedulerTest, PrefixCacheHitSkipsComputedBlocks) {
  make_scheduler(16, 4, 64);
  Sequence* a = add(10);
  step();
  Sequence* b = add(10);  // same tokens: 2 full blocks (8 tokens) are cached
  auto out = step();
  EXPECT_EQ(chunks(out), (Chunks{{0, 1}, {1, 2}}));
  EXPECT_EQ(b->num_cached_prompt_tokens, 8);
  EXPECT_EQ(kv_->block_table(b->id)[0], kv_->block_table(a->id)[0]);
  EXPECT_EQ(kv_->block_table(b->id)[1], kv_->block_table(a->id)[1]);
}

TEST_F(SchedulerTest, RemoveFreesBlocksAndDropsFromQueues) {
  make_scheduler(4, 4, 64);
  Sequence* a = add(7);
  Sequence* b = add(3);
  step();
  EXPECT_EQ(kv_->num_used_blocks(), 3);
  scheduler_->remove(a);
  scheduler_->remove(b);
  EXPECT_EQ(scheduler_->num_running(), 0);
  EXPECT_EQ(kv_->num_used_blocks(), 0);
}

}  // namespace
}  // namespace frugal
