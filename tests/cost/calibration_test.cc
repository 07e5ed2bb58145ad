// Calibration record: JSON round trip, path resolution, interpolation, and its use for
// --hardware this-machine.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <unistd.h>

#include "cost/calibration.h"
#include "cost/llm_roofline.h"
#include "cost_test_util.h"

namespace frugal {
namespace {

CalibrationRecord sample() {
  CalibrationRecord r;
  r.machine_id = "box-1";
  r.cpu_model = "Test CPU";
  r.created_utc = "2025-01-01T00:00:00Z";
  r.memory_bytes = 64e9;
  r.read_gb_per_s = 100;
  r.triad_gb_per_s = 80;
  r.peak_flops_per_s = 2e12;
  r.points = {{"q4_0", 1, 512, 0.5, 0.02}, {"q4_0", 8, 512, 0.7, 0.1}, {"q4_0", 1, 8192, 0.3, 0.01},
              {"bf16", 1, 512, 0.9, 0.05}};
  return r;
}

TEST(Calibration, JsonRoundTripThroughAFile) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("frugal_calib_" + std::to_string(::getpid())) / "calibration.json").string();
  ASSERT_TRUE(save_calibration(sample(), path).is_ok());
  auto back = load_calibration(path);
  ASSERT_TRUE(back.has_value()) << back.error().to_string();
  EXPECT_EQ(back->machine_id, "box-1");
  EXPECT_EQ(back->cpu_model, "Test CPU");
  EXPECT_DOUBLE_EQ(back->read_gb_per_s, 100);
  EXPECT_DOUBLE_EQ(back->triad_gb_per_s, 80);
  EXPECT_DOUBLE_EQ(back->peak_flops_per_s, 2e12);
  ASSERT_EQ(back->points.size(), 4u);
  EXPECT_EQ(back->points[2].context, 8192);
  EXPECT_DOUBLE_EQ(back->points[1].mbu, 0.7);
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
  EXPECT_FALSE(load_calibration(path).has_value());
  EXPECT_FALSE(calibration_from_json("{\"schema\": \"other\"}", "x").has_value());
  EXPECT_FALSE(calibration_from_json("{\"schema\": \"frugal.calibration/1\", \"memory_bytes\": 1, \"read_gb_per_s\": -1, "
                                     "\"triad_gb_per_s\": 1, \"peak_flops_per_s\": 1}", "x").has_value());
}

// The probe's method, spread and host verdict survive a round trip; a record without them (written
// before they existed) still loads, with an empty method; a malformed probe object is an error.
TEST(Calibration, ProbeMethodSpreadAndVerdictRoundTrip) {
  CalibrationRecord r = sample();
  r.probe.method = "streaming read (sum of 8 B doubles), 2 threads on contiguous slices, 2048 MiB arrays";
  r.probe.read_median_gb_per_s = 33.1;
  r.probe.read_min_gb_per_s = 31.0;
  r.probe.read_relative_spread = 0.1;
  r.probe.host_quiet = false;
  r.probe.trusted = false;
  r.probe.verdict = "host busy: load 5.2 on 2 cores; MBU not reported";
  auto back = calibration_from_json(calibration_to_json(r), "x");
  ASSERT_TRUE(back.has_value()) << back.error().to_string();
  EXPECT_EQ(back->probe.method, r.probe.method);
  EXPECT_DOUBLE_EQ(back->probe.read_median_gb_per_s, 33.1);
  EXPECT_DOUBLE_EQ(back->probe.read_min_gb_per_s, 31.0);
  EXPECT_DOUBLE_EQ(back->probe.read_relative_spread, 0.1);
  EXPECT_FALSE(back->probe.host_quiet);
  EXPECT_FALSE(back->probe.trusted);
  EXPECT_EQ(back->probe.verdict, r.probe.verdict);
  r.probe.host_quiet = r.probe.trusted = true;
  back = calibration_from_json(calibration_to_json(r), "x");
  ASSERT_TRUE(back.has_value());
  EXPECT_TRUE(back->probe.host_quiet);
  EXPECT_TRUE(back->probe.trusted);

  auto old = calibration_from_json(calibration_to_json(sample()), "x");
  ASSERT_TRUE(old.has_value()) << old.error().to_string();
  EXPECT_TRUE(old->probe.method.empty());
  const std::string head = "{\"schema\": \"frugal.calibration/1\", \"memory_bytes\": 1, \"read_gb_per_s\": 1, "
                           "\"triad_gb_per_s\": 1, \"peak_flops_per_s\": 1, ";
  EXPECT_FALSE(calibration_from_json(head + "\"probe\": 3}", "x").has_value());
  EXPECT_FALSE(calibration_from_json(head + "\"probe\": {\"read_median_gb_per_s\": 1, \"read_min_gb_per_s\": 1, "
                                            "\"read_relative_spread\": 0, \"host_quiet\": \"yes\", \"trusted\": true}}",
                                     "x").has_value());
}

TEST(Calibration, PathResolution) {
  EXPECT_EQ(resolve_calibration_path("/a/b.json"), "/a/b.json");
  ::setenv("FRUGAL_CALIBRATION", "/env/c.json", 1);
  EXPECT_EQ(resolve_calibration_path(""), "/env/c.json");
  ::unsetenv("FRUGAL_CALIBRATION");
  ::setenv("HOME", "/home/tester", 1);
  ::unsetenv("XDG_CACHE_HOME");
  EXPECT_EQ(resolve_calibration_path(""), "/home/tester/.cache/frugal/calibration.json");
}

TEST(Calibration, InterpolatedOverContextThenBatch) {
  const CalibrationRecord r = sample();
  // Batch 1 was measured at contexts 512 (0.5) and 8192 (0.3): linear in between.
  const double batch1_at_600 = 0.5 + (600.0 - 512.0) / (8192.0 - 512.0) * (0.3 - 0.5);
  EXPECT_NEAR(calibrated_efficiency(r, "q4_0", 1, 600)->mbu, batch1_at_600, 1e-12);
  EXPECT_NEAR(calibrated_efficiency(r, "q4_0", 1, 7000)->mbu, 0.5 + 6488.0 / 7680.0 * (0.3 - 0.5), 1e-12);
  EXPECT_DOUBLE_EQ(calibrated_efficiency(r, "q4_0", 1, 512)->mbu, 0.5);   // measured
  EXPECT_DOUBLE_EQ(calibrated_efficiency(r, "q4_0", 1, 100)->mbu, 0.5);   // clamped below
  EXPECT_DOUBLE_EQ(calibrated_efficiency(r, "q4_0", 1, 9000)->mbu, 0.3);  // clamped above
  // Batch 8 was measured at one context only; batch 4 lies 3/7 of the way from batch 1 to 8.
  EXPECT_DOUBLE_EQ(calibrated_efficiency(r, "q4_0", 8, 600)->mbu, 0.7);
  EXPECT_NEAR(calibrated_efficiency(r, "q4_0", 4, 600)->mbu, batch1_at_600 + 3.0 / 7.0 * (0.7 - batch1_at_600), 1e-12);
  EXPECT_NEAR(calibrated_efficiency(r, "q4_0", 4, 600)->mfu,
              0.02 + 88.0 / 7680.0 * (0.01 - 0.02) + 3.0 / 7.0 * (0.1 - (0.02 + 88.0 / 7680.0 * (0.01 - 0.02))), 1e-12);
  EXPECT_DOUBLE_EQ(calibrated_efficiency(r, "q4_0", 64, 512)->mbu, 0.7);  // clamped in batch
  EXPECT_DOUBLE_EQ(calibrated_efficiency(r, "bf16", 1, 512)->mbu, 0.9);
  CalibrationRecord empty = r;
  empty.points.clear();
  EXPECT_FALSE(calibrated_efficiency(empty, "q4_0", 1, 512).has_value());
}

TEST(Calibration, PrefillAndDecodePointsAreKeptApart) {
  CalibrationRecord r = sample();
  CalibrationPoint pp32{"q4_0", 32, 32, 0.2, 0.3, CalibrationPhase::kPrefill};
  CalibrationPoint pp128{"q4_0", 128, 128, 0.1, 0.5, CalibrationPhase::kPrefill};
  r.points.push_back(pp32);
  r.points.push_back(pp128);
  // Prefill of 64 tokens: between the two pp points only (the decode points at 512 do not enter).
  const auto pre = calibrated_efficiency(r, "q4_0", 64, 64, CalibrationPhase::kPrefill);
  ASSERT_TRUE(pre.has_value());
  EXPECT_NEAR(pre->mfu, 0.3 + (64.0 - 32.0) / (128.0 - 32.0) * (0.5 - 0.3), 1e-12);
  // Decode lookups ignore the prefill points.
  EXPECT_DOUBLE_EQ(calibrated_efficiency(r, "q4_0", 1, 512)->mbu, 0.5);
  // A type with no prefill point falls back to its own decode points.
  EXPECT_DOUBLE_EQ(calibrated_efficiency(r, "bf16", 64, 64, CalibrationPhase::kPrefill)->mbu, 0.9);
  // The phase survives JSON; a record without "phase" infers prefill from batch == context > 1.
  auto back = calibration_from_json(calibration_to_json(r), "mem");
  ASSERT_TRUE(back.has_value()) << back.error().to_string();
  EXPECT_EQ(back->points[4].phase, CalibrationPhase::kPrefill);
  EXPECT_EQ(back->points[0].phase, CalibrationPhase::kDecode);
  auto legacy = calibration_from_json(R"({"schema": "frugal.calibration/1", "memory_bytes": 1, "read_gb_per_s": 1,
      "triad_gb_per_s": 1, "peak_flops_per_s": 1, "points": [
      {"weight_type": "f16", "batch": 64, "context": 64, "mbu": 0.1, "mfu": 0.2},
      {"weight_type": "f16", "batch": 1, "context": 65, "mbu": 0.1, "mfu": 0.2}]})", "legacy");
  ASSERT_TRUE(legacy.has_value()) << legacy.error().to_string();
  EXPECT_EQ(legacy->points[0].phase, CalibrationPhase::kPrefill);
  EXPECT_EQ(legacy->points[1].phase, CalibrationPhase::kDecode);
  EXPECT_FALSE(calibration_from_json(R"({"schema": "frugal.calibration/1", "memory_bytes": 1, "read_gb_per_s": 1,
      "triad_gb_per_s": 1, "peak_flops_per_s": 1, "points": [
      {"weight_type": "f16", "phase": "train", "batch": 1, "context": 1, "mbu": 0.1, "mfu": 0.2}]})", "bad").has_value());
}

TEST(Calibration, ThisMachineUsesMeasuredBandwidthTimesMeasuredMbu) {
  const CalibrationRecord r = sample();
  LlmDeployment d;
  d.shape = *find_llm_shape("llama-3-8b");
  d.weights = *find_weight_type("q4_0");
  d.hardware = accelerator_from_calibration(r);
  d.efficiency = default_efficiency(d.hardware.kind);
  d.calibration = r;
  EXPECT_EQ(d.hardware.name, "this-machine");
  EXPECT_DOUBLE_EQ(d.hardware.memory_bandwidth_bytes_per_s, 100e9);
  auto m = LlmRoofline::create(d);
  ASSERT_TRUE(m.has_value());
  const double bytes = (d.shape.total_params() - d.shape.embedding_params()) * d.weights.bytes_per_weight +
                       1.0 * 512 * d.shape.kv_bytes_per_token(2.0);
  EXPECT_NEAR(m->decode_step(1, 512).memory_s, bytes / (100e9 * 0.5), 1e-9);
  // Without the record the default CPU MBU (0.6) applies.
  d.calibration.reset();
  auto plain = LlmRoofline::create(d);
  EXPECT_NEAR(plain->decode_step(1, 512).memory_s, bytes / (100e9 * 0.6), 1e-9);
}

}  // namespace
}  // namespace frugal
