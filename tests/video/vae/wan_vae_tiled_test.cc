// The VAE decode within a memory budget (vae_memory.h, wan_vae_tiled.cc): the memory model against
// the decoder's own meter, tiled decode against untiled (with and without overlap), the tile grid and
// blending, the planner on the release-width VAE, its choice against a child process's VmHWM, and the
// errors of budgets that cannot fit or cannot be parsed.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>

#include "core/memory_usage.h"
#include "safetensors/safetensors_writer.h"
#include "video/vae/vae_tensor_specs.h"
#include "video/vae/vae_test_util.h"

namespace frugal::video {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitizedBuild = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitizedBuild = true;
#else
constexpr bool kSanitizedBuild = false;
#endif
#else
constexpr bool kSanitizedBuild = false;
#endif

std::vector<float> random_latent(const std::array<int64_t, 4>& s, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> z(static_cast<size_t>(s[0] * s[1] * s[2] * s[3]));
  for (float& v : z) v = dist(rng);
  return z;
}

double max_abs(const std::vector<float>& v) {
  double m = 0;
  for (float x : v) m = std::max(m, static_cast<double>(std::fabs(x)));
  return m;
}

double rms_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0, r = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    s += (a[i] - b[i]) * static_cast<double>(a[i] - b[i]);
    r += static_cast<double>(b[i]) * b[i];
  }
  return std::sqrt(s / std::max(r, 1e-30));
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double m = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) m = std::max(m, static_cast<double>(std::fabs(a[i] - b[i])));
  return m;
}

class WanVaeTiledTest : public vae_test::CaseVaeTest {};

// The model counts what the decoder's MemoryMeter counts: activations and causal caches at the peak.
TEST_F(WanVaeTiledTest, MemoryModelMatchesTheMeter) {
  for (const std::array<int64_t, 4> shape : {std::array<int64_t, 4>{16, 3, 6, 10}, {16, 2, 9, 7}, {16, 1, 4, 4}}) {
    const auto z = random_latent(shape, 1);
    ASSERT_TRUE(vae_->decode(z.data(), shape, [](const float*, int64_t) { return Status::ok(); }, pool_).is_ok());
    const int64_t measured = vae_->peak_activation_bytes();
    const int64_t model = vae_decode_activation_bytes(vae_->config(), shape[2], shape[3], shape[1]);
    std::printf("latent T=%lld %lldx%lld: meter %lld bytes, model %lld bytes (%.4fx)\n",
                static_cast<long long>(shape[1]), static_cast<long long>(shape[2]), static_cast<long long>(shape[3]),
                static_cast<long long>(measured), static_cast<long long>(model),
                static_cast<double>(model) / static_cast<double>(measured));
    EXPECT_GE(model, measured);
    // The model adds the consumer's copy of one output chunk; otherwise it is the meter's count.
    EXPECT_LE(model, measured + 3 * 4 * 64 * shape[2] * shape[3] * 4 + measured / 20);
  }
}

// Tiles that cover the frame in one piece are the untiled decode: the plan says untiled, same bytes.
TEST_F(WanVaeTiledTest, OneTileIsTheUntiledDecode) {
  const std::array<int64_t, 4> shape = {16, 2, 6, 8};
  const auto z = random_latent(shape, 2);
  auto untiled = vae_->decode_all(z.data(), shape, pool_);
  VaeDecodeOptions opts;
  opts.tile_h = 6;
  opts.tile_w = 100;
  opts.overlap_h = opts.overlap_w = 2;
  auto one = vae_->decode_all(z.data(), shape, pool_, opts);
  ASSERT_TRUE(untiled.has_value() && one.has_value());
  EXPECT_FALSE(vae_->last_plan().tiled);
  EXPECT_EQ(one->data, untiled->data);
}

// Tiled vs untiled on the reference-width random VAE (vae_a, dim 8). The decode is not spatially
// local — the middle attention block attends over the whole latent frame, and every 3x3 conv reads
// zero padding at a tile's edge where the untiled decode reads the neighbour — so a tiled decode
// differs from the untiled one. With overlap the seam pixels are a blend of two tiles, each far from
// its own border there: the error falls (measured: see the printed figures and docs/PERFORMANCE.md).
TEST_F(WanVaeTiledTest, TiledDecodeIsCloseToUntiledAndOverlapHelps) {
  const std::array<int64_t, 4> shape = {16, 1, 12, 16};  // 96x128 px, one frame (chunking: the next test)
  const auto z = random_latent(shape, 3);
  auto untiled = vae_->decode_all(z.data(), shape, pool_);
  ASSERT_TRUE(untiled.has_value());
  const double scale = max_abs(untiled->data);
  // 2x2 tiles that abut (6x8, hard seams), then 2x2 tiles of 8x10 that overlap by 4 latent pixels.
  const int64_t tile_h[2] = {6, 8}, tile_w[2] = {8, 10}, overlap[2] = {0, 4};
  double rel[2] = {0, 0}, rms[2] = {0, 0};
  for (int i = 0; i < 2; ++i) {
    VaeDecodeOptions opts;
    opts.tile_h = tile_h[i];
    opts.tile_w = tile_w[i];
    opts.overlap_h = opts.overlap_w = overlap[i];
    int64_t tiles_reported = 0;
    opts.on_tile = [&](int64_t done, int64_t total) {
      EXPECT_EQ(done, tiles_reported + 1);
      tiles_reported = done;
      EXPECT_EQ(total, 4);
      return Status::ok();
    };
    auto tiled = vae_->decode_all(z.data(), shape, pool_, opts);
    ASSERT_TRUE(tiled.has_value()) << tiled.error().to_string();
    EXPECT_EQ(vae_->last_plan().tiles(), 4);
    EXPECT_EQ(vae_->last_plan().overlap_h, overlap[i]);
    EXPECT_EQ(tiles_reported, 4);
    EXPECT_EQ(tiled->shape, untiled->shape);
    rel[i] = max_abs_diff(tiled->data, untiled->data) / scale;
    rms[i] = rms_diff(tiled->data, untiled->data);
    std::printf("%s: max|tiled - untiled| / max|untiled| = %.4g (max|untiled| %.3g), relative RMS %.4g\n",
                vae_->last_plan().to_string().c_str(), rel[i], scale, rms[i]);
  }
  EXPECT_GT(rel[0], 1e-3);  // seams are real: a tiled path that ignored its tiles would fail here
  EXPECT_LT(rel[1], rel[0]);  // overlap blending reduces the seam error...
  EXPECT_LT(rms[1], rms[0]);
  EXPECT_LT(rel[1], 0.9);     // ...to within these bounds (measured 0.65 / 0.36, seams 1.20 / 0.81)
  EXPECT_LT(rms[1], 0.5);
}

// Tiled decodes hand the sink the same chunks as the untiled one, and a sink error stops them.
TEST_F(WanVaeTiledTest, TiledDecodeStreamsChunksAndStopsOnErrors) {
  const std::array<int64_t, 4> shape = {16, 3, 8, 8};
  const auto z = random_latent(shape, 4);
  VaeDecodeOptions opts;
  opts.tile_h = opts.tile_w = 5;
  opts.overlap_h = opts.overlap_w = 2;
  std::vector<int64_t> chunks;
  ASSERT_TRUE(vae_->decode(z.data(), shape, [&](const float*, int64_t n) { chunks.push_back(n); return Status::ok(); },
                           pool_, opts).is_ok());
  EXPECT_EQ(chunks, (std::vector<int64_t>{1, 4, 4}));
  opts.on_tile = [](int64_t done, int64_t) {
    return done == 2 ? Status(StatusCode::kCancelled, "cancelled") : Status::ok();
  };
  EXPECT_EQ(vae_->decode(z.data(), shape, [](const float*, int64_t) { return Status::ok(); }, pool_, opts).code(),
            StatusCode::kCancelled);
}

TEST(VaeTileGrid, TilesCoverTheAxisWithAtLeastTheOverlap) {
  for (int64_t length : {1, 7, 16, 90, 160}) {
    for (int64_t tile : {1, 5, 8, 32}) {
      for (int64_t overlap : {int64_t{0}, int64_t{1}, tile / 4}) {
        if (overlap >= tile) continue;
        const int64_t t = std::min(tile, length);
        const int64_t n = vae_tile_count(length, t, overlap);
        EXPECT_EQ(vae_tile_start(length, t, n, 0), 0);
        EXPECT_EQ(vae_tile_start(length, t, n, n - 1) + t, length) << length << " " << tile;
        for (int64_t i = 1; i < n; ++i) {
          const int64_t prev_end = vae_tile_start(length, t, n, i - 1) + t;
          EXPECT_GE(prev_end - vae_tile_start(length, t, n, i), overlap) << length << " " << tile << " " << i;
        }
        // Minimal: one tile fewer could not cover the axis with that overlap.
        if (n > 1) {
          EXPECT_LT((n - 1) * t - (n - 2) * overlap, length);
        }
      }
    }
  }
}

// The release-width VAE (dim 96) at 720p, 33 frames: the untiled decode is predicted above 4 GiB, a
// 4 GiB budget gets a tiled plan the model keeps within it, and tighter budgets get smaller tiles.
TEST(VaePlanner, FitsA720pDecodeIn4GiB) {
  const vae::WanVaeConfig cfg = wan21_vae_config(96);
  const std::array<int64_t, 4> shape = {16, 9, 90, 160};
  auto untiled = plan_vae_decode(cfg, shape, 0);
  ASSERT_TRUE(untiled.has_value());
  EXPECT_FALSE(untiled->tiled);
  std::printf("720p 33 frames untiled: predicted %s\n", format_memory_size(untiled->predicted_bytes).c_str());
  const int64_t budget = int64_t{4} << 30;
  EXPECT_GT(untiled->predicted_bytes, budget);
  auto plan = plan_vae_decode(cfg, shape, budget);
  ASSERT_TRUE(plan.has_value()) << plan.error().to_string();
  std::printf("budget 4 GiB: %s, predicted %s\n", plan->to_string().c_str(),
              format_memory_size(plan->predicted_bytes).c_str());
  EXPECT_TRUE(plan->tiled);
  EXPECT_LE(plan->predicted_bytes, budget);
  auto tight = plan_vae_decode(cfg, shape, int64_t{2} << 30);
  ASSERT_TRUE(tight.has_value()) << tight.error().to_string();
  EXPECT_LE(tight->predicted_bytes, int64_t{2} << 30);
  EXPECT_LT(tight->tile_h * tight->tile_w, plan->tile_h * plan->tile_w);
  // A budget above the untiled need keeps the decode untiled (no overlap work for nothing).
  auto roomy = plan_vae_decode(cfg, shape, untiled->predicted_bytes);
  ASSERT_TRUE(roomy.has_value());
  EXPECT_FALSE(roomy->tiled);
}

TEST(VaePlanner, RefusesBudgetsThatCannotFit) {
  const vae::WanVaeConfig cfg = wan21_vae_config(96);
  auto plan = plan_vae_decode(cfg, {16, 9, 90, 160}, int64_t{512} << 20);
  ASSERT_FALSE(plan.has_value());
  EXPECT_EQ(plan.error().code(), StatusCode::kResourceExhausted);
  const std::string msg = plan.error().message();
  EXPECT_NE(msg.find("512.0 MiB is too small"), std::string::npos) << msg;
  EXPECT_NE(msg.find("smallest tile (64x64 px)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("VAE weights"), std::string::npos) << msg;
}

TEST(VaePlanner, ParsesMemorySizes) {
  EXPECT_EQ(parse_memory_size("4GiB").value(), int64_t{4} << 30);
  EXPECT_EQ(parse_memory_size("4 GiB").value(), int64_t{4} << 30);
  EXPECT_EQ(parse_memory_size("4g").value(), int64_t{4} << 30);
  EXPECT_EQ(parse_memory_size("1.5GB").value(), int64_t{3} << 29);
  EXPECT_EQ(parse_memory_size("512MiB").value(), int64_t{512} << 20);
  EXPECT_EQ(parse_memory_size("64k").value(), int64_t{64} << 10);
  EXPECT_EQ(parse_memory_size("123456").value(), 123456);
  for (const char* bad : {"", "GiB", "4 XB", "-1G", "0", "0.1", "4GiBs", "1.2.3G", "four", "4 G iB", "99999999999T"}) {
    auto r = parse_memory_size(bad);
    EXPECT_FALSE(r.has_value()) << bad;
    if (!r.has_value()) {
      EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument) << bad;
    }
  }
  EXPECT_EQ(format_memory_size(int64_t{3} << 30), "3.00 GiB");
}

// A random VAE wider than vae_a (dim 16), written for the child-process test.
std::string write_random_vae(const std::string& path, int64_t dim) {
  SafetensorsWriter writer;
  std::mt19937 rng(11);
  for (const VaeTensorSpec& spec : vae_tensor_specs(wan21_vae_config(dim))) {
    int64_t n = 1, fan_in = 1;
    for (int64_t d : spec.shape) n *= d;
    for (size_t d = 1; d < spec.shape.size(); ++d) fan_in *= spec.shape[d];
    const bool gamma = spec.name.size() > 6 && spec.name.compare(spec.name.size() - 6, 6, ".gamma") == 0;
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = gamma ? 1.0f : dist(rng) * std::sqrt(3.0f / static_cast<float>(fan_in));
    writer.add_f32(spec.name, spec.shape, v);
  }
  EXPECT_TRUE(writer.write(path).is_ok());
  return path;
}

// The planner's choice, run for real in a child process (a fresh address space): its peak resident
// memory (VmHWM) stays within the budget that made the planner tile.
TEST(VaePlanner, ChildProcessPeakStaysWithinTheBudget) {
  const std::string path = ::testing::TempDir() + "/vaemem_dim16_" + std::to_string(getpid()) + ".safetensors";
  write_random_vae(path, 16);
  const std::array<int64_t, 4> shape = {16, 2, 12, 20};  // 96x160 px, 5 frames
  const vae::WanVaeConfig cfg = wan21_vae_config(16);
  const int64_t untiled = vae_predicted_decode_bytes(cfg, shape, false, 12, 20);
  const int64_t budget = untiled - (untiled - vae_weight_bytes(cfg) - kVaeScratchAllowanceBytes -
                                    kVaeProcessAllowanceBytes) / 2;  // half the untiled activations
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    int64_t report[4] = {-1, -1, -1, -1};
    auto store = WeightStore::open({path});
    if (store) {
      auto vae = WanVae::load(*store);
      if (vae) {
        ThreadPool pool(2);
        const auto z = random_latent(shape, 5);
        VaeDecodeOptions opts;
        opts.mem_budget_bytes = budget;
        std::vector<float> chunk;
        const Status s = vae->decode(z.data(), shape, [&](const float* f, int64_t n) {
          chunk.assign(f, f + 3 * n * 96 * 160);  // a consumer's copy, as the model allows for
          return Status::ok();
        }, pool, opts);
        report[0] = s.is_ok() ? 1 : 0;
        report[1] = peak_rss_bytes();
        report[2] = vae->last_plan().predicted_bytes;
        report[3] = vae->last_plan().tiles();
      }
    }
    (void)!write(fds[1], report, sizeof(report));
    _exit(0);
  }
  close(fds[1]);
  int64_t report[4] = {0, 0, 0, 0};
  const ssize_t got = read(fds[0], report, sizeof(report));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  std::filesystem::remove(path);
  ASSERT_EQ(got, static_cast<ssize_t>(sizeof(report)));
  ASSERT_EQ(report[0], 1) << "the child's decode failed";
  std::printf("budget %s: %lld tiles, predicted %s, child VmHWM %s (untiled predicted %s)\n",
              format_memory_size(budget).c_str(), static_cast<long long>(report[3]),
              format_memory_size(report[2]).c_str(), format_memory_size(report[1]).c_str(),
              format_memory_size(untiled).c_str());
  EXPECT_GT(report[3], 1);
  EXPECT_LE(report[2], budget);
  if (report[1] > 0 && !kSanitizedBuild) {  // 0: no /proc; ASan's shadow memory inflates the RSS
    EXPECT_LE(report[1], budget);
  }
}

TEST_F(WanVaeTiledTest, RejectsBadOptions) {
  const std::array<int64_t, 4> shape = {16, 2, 4, 4};
  const auto z = random_latent(shape, 6);
  const auto sink = [](const float*, int64_t) { return Status::ok(); };
  VaeDecodeOptions opts;
  opts.mem_budget_bytes = 1 << 20;  // below the weights and allowances
  const Status s = vae_->decode(z.data(), shape, sink, pool_, opts);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("too small"), std::string::npos) << s.message();
  opts = {};
  opts.tile_h = 4;
  EXPECT_EQ(vae_->decode(z.data(), shape, sink, pool_, opts).code(), StatusCode::kInvalidArgument);
  opts.tile_w = 4;
  opts.overlap_h = -1;
  EXPECT_EQ(vae_->decode(z.data(), shape, sink, pool_, opts).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace frugal::video
