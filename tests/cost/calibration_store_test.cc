// Calibration records: merging a new bench run keeps earlier points (history for replaced ones,
// MBU rescaled to the new probe), another machine's record is not merged, and a record only
// predicts models of about its size and of its weight type (issue #26).
#include <gtest/gtest.h>

#include "cost/calibration_store.h"

namespace frugal {
namespace {

CalibrationPoint point(const std::string& type, double weight_bytes, int64_t context, double mbu) {
  CalibrationPoint p{type, 1, context, mbu, 0.1};
  p.model_name = "m-" + type + ".gguf";
  p.model_params = weight_bytes / 2;
  p.model_weight_bytes = weight_bytes;
  return p;
}

CalibrationRecord record(double read_gb_per_s, std::vector<CalibrationPoint> points) {
  CalibrationRecord r;
  r.machine_id = "box";
  r.cpu_model = "cpu";
  r.read_gb_per_s = read_gb_per_s;
  r.peak_flops_per_s = 1e11;
  r.points = std::move(points);
  return r;
}

TEST(CalibrationStore, MergeKeepsEarlierPointsAndMovesReplacedOnesToHistory) {
  const CalibrationRecord old_run = record(20, {point("q8_0", 1e9, 256, 0.5), point("q8_0", 1e9, 512, 0.4),
                                                point("f16", 2e9, 256, 0.6)});
  const CalibrationRecord new_run = record(25, {point("q8_0", 1e9, 256, 0.45), point("q4_0", 6e8, 256, 0.7)});
  CalibrationMergeReport report;
  const CalibrationRecord merged = merge_calibration(old_run, new_run, &report);
  EXPECT_TRUE(report.same_machine);
  EXPECT_EQ(report.added, 1u);     // q4_0
  EXPECT_EQ(report.replaced, 1u);  // q8_0 @ 256
  EXPECT_EQ(report.kept, 2u);      // q8_0 @ 512, f16
  ASSERT_EQ(merged.points.size(), 4u);
  ASSERT_EQ(merged.history.size(), 1u);
  EXPECT_DOUBLE_EQ(merged.read_gb_per_s, 25);
  // Kept points imply the same bytes/s against the new probe: 0.4 x 20 / 25.
  bool saw_kept = false;
  for (const CalibrationPoint& p : merged.points) {
    if (p.weight_type == "q8_0" && p.context == 512) {
      EXPECT_NEAR(p.mbu, 0.4 * 20 / 25, 1e-12);
      saw_kept = true;
    }
    if (p.weight_type == "q8_0" && p.context == 256) {
      EXPECT_DOUBLE_EQ(p.mbu, 0.45);  // the fresh one
    }
  }
  EXPECT_TRUE(saw_kept);
  EXPECT_NEAR(merged.history[0].mbu, 0.5 * 20 / 25, 1e-12);
  // Round trip through JSON keeps the model key and the history.
  auto back = calibration_from_json(calibration_to_json(merged), "merged");
  ASSERT_TRUE(back.has_value()) << back.error().to_string();
  ASSERT_EQ(back->history.size(), 1u);
  EXPECT_DOUBLE_EQ(back->points[0].model_weight_bytes, merged.points[0].model_weight_bytes);
  EXPECT_EQ(back->points[0].model_name, merged.points[0].model_name);
}

TEST(CalibrationStore, AnotherMachinesRecordIsNotMerged) {
  CalibrationRecord other = record(20, {point("q8_0", 1e9, 256, 0.5)});
  other.machine_id = "elsewhere";
  const CalibrationRecord fresh = record(25, {point("f16", 2e9, 256, 0.6)});
  CalibrationMergeReport report;
  const CalibrationRecord merged = merge_calibration(other, fresh, &report);
  EXPECT_FALSE(report.same_machine);
  ASSERT_EQ(merged.points.size(), 1u);
  EXPECT_EQ(merged.points[0].weight_type, "f16");
}

TEST(CalibrationStore, OnlyPointsOfASimilarModelPredictIt) {
  const CalibrationPoint p = point("q8_0", 1e9, 256, 0.5);
  EXPECT_TRUE(calibration_point_supports(p, 1e9, "q8_0"));
  EXPECT_TRUE(calibration_point_supports(p, 1.9e9, "q8_0"));
  EXPECT_TRUE(calibration_point_supports(p, 0.55e9, "q8_0"));
  EXPECT_FALSE(calibration_point_supports(p, 2.1e9, "q8_0"));
  EXPECT_FALSE(calibration_point_supports(p, 0.4e9, "q8_0"));
  EXPECT_FALSE(calibration_point_supports(p, 1e9, "f16"));
  CalibrationPoint old_style{"q8_0", 1, 256, 0.5, 0.1};  // no model key: supports nothing
  EXPECT_FALSE(calibration_point_supports(old_style, 1e9, "q8_0"));

  // A tiny model's record asked about an 8B model: a clear error saying what to run.
  const CalibrationRecord tiny = record(20, {point("f16", 12e6, 256, 3.5), point("f16", 12e6, 512, 3.0)});
  auto refused = calibration_for_model(tiny, "/tmp/cal.json", "llama-3-8b", 16e9, "f16");
  ASSERT_FALSE(refused.has_value());
  const std::string& msg = refused.error().message();
  EXPECT_NE(msg.find("cannot predict llama-3-8b"), std::string::npos) << msg;
  EXPECT_NE(msg.find("m-f16.gguf (f16, 12.0 MB): 2 points"), std::string::npos) << msg;
  EXPECT_NE(msg.find("frugal bench -m"), std::string::npos) << msg;
  EXPECT_NE(msg.find("/tmp/cal.json"), std::string::npos) << msg;
  // The same record for its own model keeps its points.
  auto own = calibration_for_model(tiny, "/tmp/cal.json", "tiny", 13e6, "f16");
  ASSERT_TRUE(own.has_value());
  EXPECT_EQ(own->points.size(), 2u);
  // Probes only (no points): nothing is extrapolated; the roofline uses the default efficiencies.
  EXPECT_TRUE(calibration_for_model(record(20, {}), "/tmp/cal.json", "llama-3-8b", 16e9, "f16").has_value());
}

}  // namespace
}  // namespace frugal
