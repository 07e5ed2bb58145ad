// Medusa speculation: the candidate tree, the heads file's checks (wrong kind, shape, base), the
// KV compaction, output identity with plain decoding at temperature 0 (bundled target + trained
// heads, random heads on an unrelated model, stop strings and max_tokens inside a tree, several
// sequences at once with some not speculating) and a chi-square test that sampling at
// temperature > 0 draws from the target's distribution.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>

#include "common/speculation_test_util.h"
#include "common/test_data.h"
#include "engine/llm_engine.h"
#include "engine/medusa_heads.h"
#include "engine/medusa_runner.h"
#include "gguf/gguf_writer.h"

namespace frugal {
namespace {

using testing::repo_model;
using testing::run_to_completion;
using testing::SpecRunResult;

struct Target {
  std::unique_ptr<Model> model;
  std::unique_ptr<Tokenizer> tokenizer;
};

Target load_target(const std::string& path) {
  Target t;
  auto model = Model::load(path);
  EXPECT_TRUE(model.has_value()) << path;
  if (!model) return t;
  t.model = std::move(*model);
  auto tok = Tokenizer::from_gguf(t.model->file());
  EXPECT_TRUE(tok.has_value());
  if (tok) t.tokenizer = std::make_unique<Tokenizer>(std::move(*tok));
  return t;
}

// A temp file removed when the test ends.
struct TempFile {
  std::string path;
  explicit TempFile(const std::string& name)
      : path((std::filesystem::temp_directory_path() / ("frugal_medusa_" + std::to_string(::getpid()) + "_" + name)).string()) {}
  ~TempFile() { std::remove(path.c_str()); }
};

std::vector<uint8_t> f32_bytes(const std::vector<float>& v) {
  std::vector<uint8_t> out(v.size() * sizeof(float));
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

struct HeadsSpec {
  int32_t heads = 3, ranks = 4;
  float weight_scale = 0.05f;  // random W entries in [-scale, scale]
  std::string fingerprint;     // "" = the base's
  int64_t n_embd = -1;         // -1 = the base's
  std::string arch = "medusa";
  bool drop_bias = false;
  // medusa.tree.* (the measured tree), written when tree_parent is not empty.
  std::vector<int32_t> tree_parent, tree_rank;
  std::vector<float> tree_chance;
  std::vector<int32_t> shortlist;  // medusa.shortlist, written when not empty
};

void write_heads(const std::string& path, const Model& base, const HeadsSpec& spec) {
  GgufWriter w;
  const ModelConfig& c = base.config();
  const int64_t d = spec.n_embd > 0 ? spec.n_embd : c.n_embd;
  w.set_string("general.architecture", spec.arch);
  w.set_uint32("medusa.head_count", static_cast<uint32_t>(spec.heads));
  w.set_uint32("medusa.top_ranks", static_cast<uint32_t>(spec.ranks));
  w.set_uint32("medusa.base.embedding_length", static_cast<uint32_t>(d));
  w.set_uint32("medusa.base.vocab_size", static_cast<uint32_t>(c.n_vocab));
  w.set_uint32("medusa.base.block_count", static_cast<uint32_t>(c.n_layer));
  w.set_string("medusa.base.fingerprint", spec.fingerprint.empty() ? medusa_base_fingerprint(base) : spec.fingerprint);
  w.set_string("medusa.base.name", "test-base");
  std::vector<float> acc;
  for (int32_t k = 0; k < spec.heads; ++k) {
    for (int32_t r = 0; r < spec.ranks; ++r) acc.push_back(std::min(1.0f, 0.5f / static_cast<float>(k + 1) + 0.1f * static_cast<float>(r)));
  }
  w.set_float32_array("medusa.accuracy", acc);
  if (!spec.tree_parent.empty()) {
    w.set_int32_array("medusa.tree.parent", spec.tree_parent);
    w.set_int32_array("medusa.tree.rank", spec.tree_rank);
    w.set_float32_array("medusa.tree.chance", spec.tree_chance);
  }
  if (!spec.shortlist.empty()) w.set_int32_array("medusa.shortlist", spec.shortlist);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-spec.weight_scale, spec.weight_scale);
  for (int32_t k = 0; k < spec.heads; ++k) {
    std::vector<float> weight(static_cast<size_t>(d * d)), bias(static_cast<size_t>(d));
    for (float& x : weight) x = u(rng);
    for (float& x : bias) x = u(rng);
    w.add_tensor("medusa." + std::to_string(k) + ".weight", DType::kF32, {d, d}, f32_bytes(weight));
    if (!spec.drop_bias) w.add_tensor("medusa." + std::to_string(k) + ".bias", DType::kF32, {d}, f32_bytes(bias));
  }
  ASSERT_TRUE(w.write(path).is_ok());
}

SpecRunResult run_requests(const Target& t, std::vector<EngineRequest> requests,
                           std::shared_ptr<const MedusaHeads> heads, int32_t tree_nodes = 16) {
  EngineOptions options;
  options.num_threads = 2;
  options.step_token_budget = 2048;
  if (heads) {
    options.speculation.mode = SpecMode::kMedusa;
    options.speculation.medusa = std::move(heads);
    options.speculation.medusa_tree_nodes = tree_nodes;
    options.speculation.load_aware = false;
  }
  return run_to_completion(*t.model, *t.tokenizer, options, nullptr, std::move(requests));
}

EngineRequest make_request(const Target& t, const std::string& prompt, int64_t max_tokens, float temperature = 0.0f) {
  EngineRequest request;
  request.prompt = t.tokenizer->encode(prompt, true, false);
  request.max_tokens = max_tokens;
  request.ignore_eos = true;
  request.sampling.temperature = temperature;
  return request;
}

const std::vector<std::string> kPrompts = {
    "In the beginning God created the heaven and the earth.",
    "And the LORD said unto Moses,",
    "Blessed are the poor in spirit: for theirs is the kingdom of heaven.",
    "The LORD is my shepherd; I shall not want.",
};

TEST(MedusaTree, BestFirstNodesInBreadthFirstOrder) {
  // Head 0: rank 0 right 60 %, rank 1 20 %; head 1: 40 %, 30 %; head 2: 30 %, 10 %.
  const std::vector<float> acc = {0.6f, 0.8f, 0.4f, 0.7f, 0.3f, 0.4f};
  const MedusaTree tree = build_medusa_tree(acc, 3, 2, 6);
  ASSERT_EQ(tree.size(), 6);
  for (int32_t i = 0; i < tree.size(); ++i) {
    const int32_t parent = tree.parent[static_cast<size_t>(i)];
    EXPECT_LT(parent, i) << "parents come first";
    EXPECT_EQ(tree.depth[static_cast<size_t>(i)], parent < 0 ? 1 : tree.depth[static_cast<size_t>(parent)] + 1);
    EXPECT_GE(i, tree.depth[static_cast<size_t>(i)] - 1);
    if (i > 0) {
      EXPECT_GE(tree.depth[static_cast<size_t>(i)], tree.depth[static_cast<size_t>(i - 1)]);
    }
  }
  // Chances: d1r0 .6, d2(r0) .24, d1r1 .2, d2r1 .18, d3 .072, then d2 under d1r1 (.08) beats d3r1 (.024).
  std::vector<double> chances = tree.chance;
  std::sort(chances.begin(), chances.end());
  EXPECT_NEAR(chances.back(), 0.6, 1e-6);
  EXPECT_NEAR(chances.front(), 0.072, 1e-6);
  EXPECT_EQ(tree.nodes_within_depth(1), 2);
  EXPECT_EQ(tree.nodes_within_depth(3), 6);
  EXPECT_NEAR(tree.expected_tokens(6), 1 + 0.6 + 0.2 + 0.24 + 0.18 + 0.08 + 0.072, 1e-6);
  const std::vector<int32_t> tokens = {10, 11, 12, 13, 14, 15};
  EXPECT_EQ(medusa_child(tree, tokens, -1, 11), 1);
  EXPECT_EQ(medusa_child(tree, tokens, -1, 12), -1);
}

// A measured tree (most likely node first) keeps its first n nodes, reordered breadth-first.
TEST(MedusaTree, MeasuredTreeTakesTheFirstNodesBreadthFirst) {
  // Best-first: d1r0 (.8), d2r0 under it (.6), d1r1 (.1), d3r0 (.5), d2r1 under d1r0 (.05), d2r0 under d1r1 (.04).
  const std::vector<int32_t> parent = {-1, 0, -1, 1, 0, 2}, rank = {0, 0, 1, 0, 1, 0};
  const std::vector<float> chance = {0.8f, 0.6f, 0.1f, 0.5f, 0.05f, 0.04f};
  const MedusaTree all = measured_medusa_tree(parent, rank, chance, 64);
  ASSERT_EQ(all.size(), 6);
  EXPECT_EQ(all.depth, (std::vector<int32_t>{1, 1, 2, 2, 2, 3}));
  EXPECT_EQ(all.rank, (std::vector<int32_t>{0, 1, 0, 1, 0, 0}));
  EXPECT_EQ(all.parent, (std::vector<int32_t>{-1, -1, 0, 0, 1, 2}));
  EXPECT_EQ(all.ranks_needed, 2);
  EXPECT_EQ(medusa_tree_depth(all), 3);
  EXPECT_NEAR(all.expected_tokens(6), 1 + 0.8 + 0.6 + 0.1 + 0.5 + 0.05 + 0.04, 1e-6);
  const MedusaTree three = measured_medusa_tree(parent, rank, chance, 3);  // d1r0, d2r0, d1r1
  EXPECT_EQ(three.depth, (std::vector<int32_t>{1, 1, 2}));
  EXPECT_EQ(three.parent, (std::vector<int32_t>{-1, -1, 0}));
  EXPECT_EQ(medusa_tree_depth(three), 2);
  const MedusaTree chain = measured_medusa_tree(parent, rank, chance, 2);
  EXPECT_EQ(chain.ranks_needed, 1);
  EXPECT_EQ(medusa_tree_depth(chain), 2);
}

TEST(MedusaHeadsFile, LoadsAMeasuredTreeAndRejectsABadOne) {
  const Target t = load_target(repo_model("kjv-target-f16.gguf"));
  ASSERT_TRUE(t.model);
  auto with_tree = [](std::vector<int32_t> parent, std::vector<int32_t> rank, std::vector<float> chance) {
    HeadsSpec spec;
    spec.tree_parent = std::move(parent);
    spec.tree_rank = std::move(rank);
    spec.tree_chance = std::move(chance);
    return spec;
  };
  {
    TempFile file("tree.gguf");
    write_heads(file.path, *t.model, with_tree({-1, 0, -1, 1}, {0, 0, 1, 0}, {0.8f, 0.6f, 0.1f, 0.5f}));
    auto heads = MedusaHeads::load(file.path, *t.model);
    ASSERT_TRUE(heads.has_value()) << heads.error().to_string();
    EXPECT_EQ((*heads)->tree_parent(), (std::vector<int32_t>{-1, 0, -1, 1}));
    EXPECT_EQ((*heads)->tree_rank(), (std::vector<int32_t>{0, 0, 1, 0}));
    EXPECT_FLOAT_EQ((*heads)->tree_chance()[3], 0.5f);
  }
  auto expect_error = [&](const HeadsSpec& spec, const std::string& needle) {
    TempFile file("badtree.gguf");
    write_heads(file.path, *t.model, spec);
    auto heads = MedusaHeads::load(file.path, *t.model);
    ASSERT_FALSE(heads.has_value()) << needle;
    EXPECT_NE(heads.error().message().find(needle), std::string::npos) << heads.error().message();
  };
  expect_error(with_tree({1, -1}, {0, 0}, {0.5f, 0.5f}), "its parent must come before it");
  expect_error(with_tree({-1, 0, 1, 2}, {0, 0, 0, 0}, {0.5f, 0.4f, 0.3f, 0.2f}), "deeper than the heads");  // 3 heads
  expect_error(with_tree({-1}, {4}, {0.5f}), "rank outside");  // 4 ranks
  expect_error(with_tree({-1, 0}, {0}, {0.5f, 0.4f}), "same number of nodes");
  expect_error(with_tree({-1}, {0}, {1.5f}), "chance values");
}

// Scoring only the first heads (a shallow tree) gives those heads' candidates of a full call.
TEST(MedusaHeads, ScoringFewerHeadsGivesTheSameCandidates) {
  const Target t = load_target(repo_model("kjv-target-f16.gguf"));
  ASSERT_TRUE(t.model);
  auto heads = MedusaHeads::load(repo_model("kjv-target-medusa.gguf"), *t.model);
  ASSERT_TRUE(heads.has_value()) << heads.error().to_string();
  const int32_t K = (*heads)->num_heads();
  ASSERT_GE(K, 2);
  const int64_t d = t.model->config().n_embd, n = 3;
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> hidden(static_cast<size_t>(n * d));
  for (float& x : hidden) x = normal(rng);
  ThreadPool pool(1);
  MedusaHeads::Scratch scratch;
  for (const int32_t ranks : {1, 3}) {
    std::vector<int32_t> full, part;
    (*heads)->top_tokens(hidden.data(), n, K, ranks, pool, scratch, full);
    (*heads)->top_tokens(hidden.data(), n, 2, ranks, pool, scratch, part);
    ASSERT_EQ(full.size(), static_cast<size_t>(n * K * ranks));
    ASSERT_EQ(part.size(), static_cast<size_t>(n * 2 * ranks));
    for (int64_t i = 0; i < n; ++i) {
      for (int32_t j = 0; j < 2 * ranks; ++j) {
        EXPECT_EQ(part[static_cast<size_t>(i * 2 * ranks + j)], full[static_cast<size_t>(i * K * ranks + j)]) << i << " " << j;
      }
    }
    if (ranks == 3) {  // ranked: best first and distinct
      EXPECT_NE(full[0], full[1]);
      EXPECT_NE(full[1], full[2]);
    }
  }
}

// With medusa.shortlist the heads pick among the listed tokens only: excluding each head's full-
// vocabulary favourite makes its next-best (still listed) token the candidate.
TEST(MedusaHeads, ShortlistRestrictsTheCandidates) {
  const Target t = load_target(repo_model("kjv-target-f16.gguf"));
  ASSERT_TRUE(t.model);
  const int64_t d = t.model->config().n_embd, n = 2, n_vocab = t.model->config().n_vocab;
  TempFile full_file("full.gguf");
  write_heads(full_file.path, *t.model, HeadsSpec{});
  auto full = MedusaHeads::load(full_file.path, *t.model);
  ASSERT_TRUE(full.has_value()) << full.error().to_string();
  const int32_t K = (*full)->num_heads();
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> hidden(static_cast<size_t>(n * d));
  for (float& x : hidden) x = normal(rng);
  ThreadPool pool(1);
  MedusaHeads::Scratch scratch;
  std::vector<int32_t> ranked;
  (*full)->top_tokens(hidden.data(), n, K, 4, pool, scratch, ranked);  // [n, K, 4]
  std::vector<bool> excluded(static_cast<size_t>(n_vocab), false);
  for (int64_t r = 0; r < n * K; ++r) excluded[static_cast<size_t>(ranked[static_cast<size_t>(r * 4)])] = true;
  HeadsSpec spec;  // the same weights (the writer's fixed seed), minus the favourites
  for (int32_t id = 0; id < n_vocab; ++id) {
    if (!excluded[static_cast<size_t>(id)]) spec.shortlist.push_back(id);
  }
  TempFile short_file("short.gguf");
  write_heads(short_file.path, *t.model, spec);
  auto shortlisted = MedusaHeads::load(short_file.path, *t.model);
  ASSERT_TRUE(shortlisted.has_value()) << shortlisted.error().to_string();
  EXPECT_EQ((*shortlisted)->shortlist(), spec.shortlist);
  std::vector<int32_t> top;
  (*shortlisted)->top_tokens(hidden.data(), n, K, 1, pool, scratch, top);
  int checked = 0;
  for (int64_t r = 0; r < n * K; ++r) {
    EXPECT_FALSE(excluded[static_cast<size_t>(top[static_cast<size_t>(r)])]) << "row " << r << " picked an unlisted token";
    for (int j = 1; j < 4; ++j) {  // the best listed one of the full ranking
      const int32_t id = ranked[static_cast<size_t>(r * 4 + j)];
      if (excluded[static_cast<size_t>(id)]) continue;
      EXPECT_EQ(top[static_cast<size_t>(r)], id) << "row " << r;
      ++checked;
      break;
    }
  }
  EXPECT_GT(checked, 0);
  auto expect_error = [&](std::vector<int32_t> ids, const std::string& needle) {
    HeadsSpec bad_spec;
    bad_spec.shortlist = std::move(ids);
    TempFile file("badshort.gguf");
    write_heads(file.path, *t.model, bad_spec);
    auto heads = MedusaHeads::load(file.path, *t.model);
    ASSERT_FALSE(heads.has_value()) << needle;
    EXPECT_NE(heads.error().message().find(needle), std::string::npos) << heads.error().message();
  };
  expect_error({5, 4, 9, 12}, "ascending");
  expect_error({1, 2, 3, static_cast<int32_t>(n_vocab)}, "ascending token ids in [0, n_vocab)");
  expect_error({1, 2}, "top_ranks to n_vocab");  // 4 ranks
}

TEST(MedusaHeadsFile, RejectsWrongKindShapeBaseAndMissingTensors) {
  const Target t = load_target(repo_model("kjv-target-f16.gguf"));
  ASSERT_TRUE(t.model);
  auto expect_error = [&](const HeadsSpec& spec, const std::string& needle) {
    TempFile file("bad.gguf");
    write_heads(file.path, *t.model, spec);
    auto heads = MedusaHeads::load(file.path, *t.model);
    ASSERT_FALSE(heads.has_value()) << needle;
    EXPECT_NE(heads.error().message().find(needle), std::string::npos) << heads.error().message();
    EXPECT_NE(heads.error().message().find(file.path), std::string::npos) << "names the file";
  };
  HeadsSpec other_base;
  other_base.fingerprint = "0123456789abcdef";
  expect_error(other_base, "made for another model");
  HeadsSpec wrong_shape;
  wrong_shape.n_embd = 128;
  expect_error(wrong_shape, "n_embd 128");
  HeadsSpec not_medusa;
  not_medusa.arch = "llama";
  expect_error(not_medusa, "not a Medusa heads file");
  HeadsSpec no_bias;
  no_bias.drop_bias = true;
  expect_error(no_bias, "missing tensor medusa.0.bias");
  // A model file is not a heads file; a missing file is a clear error too.
  auto model_as_heads = MedusaHeads::load(repo_model("kjv-target-f16.gguf"), *t.model);
  ASSERT_FALSE(model_as_heads.has_value());
  EXPECT_NE(model_as_heads.error().message().find("not a Medusa heads file"), std::string::npos);
  EXPECT_FALSE(MedusaHeads::load("/nonexistent/heads.gguf", *t.model).has_value());
  // Heads loaded for one model are refused by an engine for another.
  const Target other = load_target(testing::data_path("models/tiny-f16.gguf"));
  ASSERT_TRUE(other.model);
  TempFile good("good.gguf");
  write_heads(good.path, *t.model, HeadsSpec{});
  auto heads = MedusaHeads::load(good.path, *t.model);
  ASSERT_TRUE(heads.has_value()) << heads.error().to_string();
  EngineOptions options;
  options.speculation.mode = SpecMode::kMedusa;
  options.speculation.medusa = *heads;
  EXPECT_FALSE(LlmEngine::create(*other.model, *other.tokenizer, options, nullptr, nullptr).has_value());
  options.speculation.medusa = nullptr;
  auto no_heads = LlmEngine::create(*t.model, *t.tokenizer, options, nullptr, nullptr);
  ASSERT_FALSE(no_heads.has_value());
  EXPECT_NE(no_heads.error().message().find("--medusa"), std::string::npos);
}

TEST(MedusaRunner, CompactionMovesAcceptedRowsToSequentialSlots) {
  const Target t = load_target(testing::data_path("models/tiny-f16.gguf"));
  ASSERT_TRUE(t.model);
  KvCacheManager kv(KvCacheConfig{.num_blocks = 8, .block_size_tokens = 4, .enable_prefix_caching = false});
  KvStore store(t.model->config(), 32);
  ASSERT_TRUE(kv.allocate_slots(/*seq=*/1, 14).has_value());
  const auto& table = kv.block_table(1);
  auto slot = [&](int32_t pos) { return static_cast<int64_t>(table[static_cast<size_t>(pos / 4)]) * 4 + pos % 4; };
  // Tag each row's K and V, in every layer, with its position.
  const ModelConfig& c = t.model->config();
  auto tag = [&](int32_t pos) { return static_cast<float>(pos) + 0.5f; };
  for (int32_t pos = 0; pos < 14; ++pos) {
    for (int64_t layer = 0; layer < c.n_layer; ++layer) {
      std::fill_n(store.key_row(layer, slot(pos)), store.kv_dim(), tag(pos));
      std::fill_n(store.value_row(layer, slot(pos)), store.kv_dim(), -tag(pos));
    }
  }
  // Root at position 5; accepted nodes 1 (depth 1), 4 (depth 2), 6 (depth 3) live at 5 + 1 + node.
  MedusaRunner::compact(1, 5, {1, 4, 6}, kv, store);
  const int64_t last = c.n_layer - 1;
  EXPECT_EQ(store.key_row(0, slot(6))[0], tag(7));
  EXPECT_EQ(store.key_row(last, slot(7))[store.kv_dim() - 1], tag(10));
  EXPECT_EQ(store.value_row(last, slot(8))[0], -tag(12));
  EXPECT_EQ(store.key_row(0, slot(5))[0], tag(5)) << "the root stays";
}

TEST(Medusa, BundledHeadsGreedyOutputIsTheTargetsAndAcceptsTokens) {
  const Target t = load_target(repo_model("kjv-target-f16.gguf"));
  ASSERT_TRUE(t.tokenizer);
  auto heads = MedusaHeads::load(repo_model("kjv-target-medusa.gguf"), *t.model);
  ASSERT_TRUE(heads.has_value()) << heads.error().to_string();
  // Plain greedy decoding of n tokens is the first n of 40: one plain run per prompt.
  std::vector<std::vector<int32_t>> plain;
  for (const auto& prompt : kPrompts) {
    const SpecRunResult run = run_requests(t, {make_request(t, prompt, 40)}, nullptr);
    ASSERT_EQ(run.outputs.size(), 1u);
    ASSERT_EQ(run.outputs[0].size(), 40u);
    plain.push_back(run.outputs[0]);
  }
  for (size_t i = 0; i < kPrompts.size(); ++i) {  // alone
    const SpecRunResult spec = run_requests(t, {make_request(t, kPrompts[i], 40)}, *heads);
    EXPECT_EQ(spec.outputs[0], plain[i]) << kPrompts[i];
    EXPECT_GT(spec.accepted, 5) << "trained heads are right about some tokens";
    EXPECT_LT(spec.verifications, 39) << "accepted tokens save target passes";
  }
  for (const int64_t n : {1, 2, 7, 40}) {  // together; max_tokens ends requests inside trees
    std::vector<EngineRequest> requests;
    for (const auto& prompt : kPrompts) requests.push_back(make_request(t, prompt, n));
    const SpecRunResult spec = run_requests(t, std::move(requests), *heads);
    ASSERT_EQ(spec.outputs.size(), kPrompts.size());
    for (size_t i = 0; i < kPrompts.size(); ++i) {
      EXPECT_EQ(spec.outputs[i], std::vector<int32_t>(plain[i].begin(), plain[i].begin() + n)) << kPrompts[i] << " n=" << n;
    }
  }
}

// Random heads on an unrelated random model: nearly every tree is rejected after a node or two, so
// every step exercises the walk, the compaction and the rollback. Stop strings and max_tokens end
// requests inside accepted runs; several sequences run at once, one never speculating.
TEST(Medusa, RandomHeadsGiveTheGreedyOutputWithStopsLimitsAndBatching_slow) {
  const Target t = load_target(testing::data_path("models/small-q8_0.gguf"));
  ASSERT_TRUE(t.tokenizer);
  TempFile file("random.gguf");
  HeadsSpec spec;
  spec.weight_scale = 0.5f;
  write_heads(file.path, *t.model, spec);
  auto heads = MedusaHeads::load(file.path, *t.model);
  ASSERT_TRUE(heads.has_value()) << heads.error().to_string();
  const std::vector<std::string> prompts = {"Hello world, this is a test", "The quick brown fox", "1 2 3 4 5 6",
                                            "a a a a a a a a"};
  auto requests = [&](int64_t n) {
    std::vector<EngineRequest> out;
    for (size_t i = 0; i < prompts.size(); ++i) {
      out.push_back(make_request(t, prompts[i], n + static_cast<int64_t>(i)));
      if (i == 1) out.back().allow_speculation = false;
    }
    return out;
  };
  for (const int64_t n : {3, 48}) {
    const SpecRunResult plain = run_requests(t, requests(n), nullptr);
    for (const int32_t nodes : {1, 5, 24}) {
      const SpecRunResult spec_run = run_requests(t, requests(n), *heads, nodes);
      EXPECT_EQ(spec_run.outputs, plain.outputs) << "n=" << n << " nodes=" << nodes;
      EXPECT_GT(spec_run.verifications, 0);
    }
    // Alone, one at a time.
    for (size_t i = 0; i < prompts.size(); ++i) {
      const SpecRunResult one = run_requests(t, {make_request(t, prompts[i], n)}, *heads);
      const SpecRunResult base = run_requests(t, {make_request(t, prompts[i], n)}, nullptr);
      EXPECT_EQ(one.outputs, base.outputs) << prompts[i];
    }
  }
  // A stop string: cut where plain decoding cuts it.
  const SpecRunResult plain = run_requests(t, {make_request(t, prompts[0], 40)}, nullptr);
  ASSERT_EQ(plain.outputs.size(), 1u);
  const std::string text = t.tokenizer->decode(plain.outputs[0]);
  ASSERT_GE(text.size(), 12u);
  const std::string stop = text.substr(text.size() / 3, 3);
  EngineRequest with_stop = make_request(t, prompts[0], 40);
  with_stop.stop = {stop};
  EngineRequest plain_stop = with_stop;
  const SpecRunResult a = run_requests(t, {std::move(plain_stop)}, nullptr);
  const SpecRunResult b = run_requests(t, {std::move(with_stop)}, *heads);
  EXPECT_EQ(b.outputs, a.outputs);
  ASSERT_EQ(a.outputs.size(), 1u);
  EXPECT_LT(a.outputs[0].size(), 40u) << "the stop string '" << stop << "' ended the request";
}

TEST(Medusa, RandomHeadsBatchedGreedyOutputIsTheTargets) {
  const Target t = load_target(testing::data_path("models/small-q8_0.gguf"));
  ASSERT_TRUE(t.tokenizer);
  TempFile file("random_fast.gguf");
  HeadsSpec spec;
  spec.weight_scale = 0.5f;
  write_heads(file.path, *t.model, spec);
  auto heads = MedusaHeads::load(file.path, *t.model);
  ASSERT_TRUE(heads.has_value()) << heads.error().to_string();
  std::vector<EngineRequest> a, b;
  for (const std::string& prompt : {"Hello world, this is a test", "The quick brown fox", "a a a a a a a a"}) {
    a.push_back(make_request(t, prompt, 24));
    b.push_back(make_request(t, prompt, 24));
  }
  b[1].allow_speculation = false;
  std::vector<EngineRequest> c = b;
  const SpecRunResult plain = run_requests(t, std::move(a), nullptr);
  const SpecRunResult spec_run = run_requests(t, std::move(b), *heads);
  EXPECT_EQ(spec_run.outputs, plain.outputs);
  EXPECT_GT(spec_run.verifications, 0);
  // A measured tree from the file (branching, ranks 0-2, depth 3) instead of the modelled one,
  // heads scoring a shortlist.
  TempFile tree_file("random_tree.gguf");
  spec.tree_parent = {-1, -1, 0, 0, 1, 2, -1, 4};
  spec.tree_rank = {0, 1, 0, 1, 0, 0, 2, 1};
  spec.tree_chance = {0.5f, 0.3f, 0.3f, 0.1f, 0.2f, 0.2f, 0.1f, 0.1f};
  for (int32_t id = 0; id < t.model->config().n_vocab; id += 2) spec.shortlist.push_back(id);  // and a shortlist
  write_heads(tree_file.path, *t.model, spec);
  auto tree_heads = MedusaHeads::load(tree_file.path, *t.model);
  ASSERT_TRUE(tree_heads.has_value()) << tree_heads.error().to_string();
  const SpecRunResult tree_run = run_requests(t, std::move(c), *tree_heads, 8);
  EXPECT_EQ(tree_run.outputs, plain.outputs);
  EXPECT_GT(tree_run.verifications, 0);
}

// The joint distribution of the first four generated tokens (top-3 sampling at temperature 1, a
// fresh seed per request) must be the same with Medusa as without: a two-sample chi-square
// homogeneity test must not reject at p < 0.01. Tokens 3 and 4 come from tree walks (token 1 from
// the prefill, token 2 from the step that first runs the heads).
TEST(Medusa, SamplingDistributionMatchesPlainSampling_slow) {
  const Target t = load_target(repo_model("kjv-target-f16.gguf"));
  ASSERT_TRUE(t.tokenizer);
  auto heads = MedusaHeads::load(repo_model("kjv-target-medusa.gguf"), *t.model);
  ASSERT_TRUE(heads.has_value()) << heads.error().to_string();
  constexpr int kSamples = 1500;
  constexpr int kBatch = 64;
  auto histogram = [&](std::shared_ptr<const MedusaHeads> h, uint64_t seed_base) {
    std::map<std::vector<int32_t>, int> counts;
    double accepted = 0;
    for (int start = 0; start < kSamples; start += kBatch) {
      std::vector<EngineRequest> requests;
      for (int i = start; i < std::min(kSamples, start + kBatch); ++i) {
        EngineRequest r = make_request(t, "And the LORD said unto", 4, 1.0f);
        r.sampling.top_k = 3;
        r.sampling.seed = seed_base + static_cast<uint64_t>(i);
        requests.push_back(std::move(r));
      }
      const SpecRunResult run = run_requests(t, std::move(requests), h);
      for (const auto& tokens : run.outputs) ++counts[tokens];
      accepted += std::max(0.0, run.accepted);
    }
    return std::make_pair(counts, accepted);
  };
  const auto [plain, plain_accepted] = histogram(nullptr, 1000);
  const auto [spec, spec_accepted] = histogram(*heads, 900000);
  EXPECT_GT(spec_accepted, kSamples / 10) << "tree walks must have accepted nodes";
  std::map<std::vector<int32_t>, std::pair<int, int>> cells;
  for (const auto& [key, n] : plain) cells[key].first = n;
  for (const auto& [key, n] : spec) cells[key].second = n;
  double chi2 = 0;
  int dof = -1, pooled_a = 0, pooled_b = 0;
  auto add_cell = [&](int a, int b) {
    const double e = (a + b) / 2.0;  // equal sample sizes
    chi2 += (a - e) * (a - e) / e + (b - e) * (b - e) / e;
    ++dof;
  };
  for (const auto& [key, ab] : cells) {
    if (ab.first + ab.second < 20) {
      pooled_a += ab.first;
      pooled_b += ab.second;
      continue;
    }
    add_cell(ab.first, ab.second);
  }
  if (pooled_a + pooled_b > 0) add_cell(pooled_a, pooled_b);
  ASSERT_GE(dof, 5) << "too few distinct outcomes to test";
  const double z = 2.3263, k = dof;  // Wilson-Hilferty: the chi-square 99th percentile
  const double critical = k * std::pow(1 - 2 / (9 * k) + z * std::sqrt(2 / (9 * k)), 3);
  std::printf("chi-square %.1f, %d dof, 99%% critical %.1f\n", chi2, dof, critical);
  EXPECT_LT(chi2, critical) << "chi2 " << chi2 << " with " << dof << " dof";
}

}  // namespace
}  // namespace frugal
