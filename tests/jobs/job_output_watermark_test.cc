// The service's output path marks every frame: a JobOutput opened with a watermark key stores an MP4
// whose payload is the keyed hash of the job id; without a key it stores an unmarked one.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <vector>

#include "jobs/job_output.h"
#include "storage/local_store.h"
#include "trust/watermark_detect.h"

namespace frugal::jobs {
namespace {

// A decoder-output-like clip [3, F, H, W] in [-1, 1]: smooth shading with a drifting bright blob.
std::vector<float> smooth_video(int frames, int height, int width) {
  std::vector<float> video(static_cast<size_t>(3) * frames * height * width);
  for (int c = 0; c < 3; ++c) {
    for (int f = 0; f < frames; ++f) {
      for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
          const double dx = x - width * (0.3 + 0.05 * f), dy = y - height * 0.5;
          const double v = -0.3 + 0.4 * x / width + 0.5 * std::exp(-(dx * dx + dy * dy) / (0.05 * width * width)) - 0.1 * c;
          video[((static_cast<size_t>(c) * frames + f) * height + y) * width + x] = static_cast<float>(v);
        }
      }
    }
  }
  return video;
}

TEST(JobOutputWatermark, StoredVideoCarriesTheJobPayload) {
  const std::string root = (std::filesystem::temp_directory_path() / ("frugal_job_wm_" + std::to_string(::getpid()))).string();
  auto store = storage::LocalDirectoryStore::open(root);
  ASSERT_TRUE(store.has_value()) << store.error().to_string();
  trust::WatermarkKey key;
  for (size_t i = 0; i < key.bytes.size(); ++i) key.bytes[i] = static_cast<uint8_t>(i * 7 + 1);
  const int frames = 9, height = 256, width = 320;
  const std::vector<float> video = smooth_video(frames, height, width);
  for (const bool marked : {true, false}) {
    const std::string job_id = marked ? "video_marked" : "video_plain";
    auto output = JobOutput::open(**store, job_id, "t", width, height, frames, 16, marked ? &key : nullptr);
    ASSERT_TRUE(output.has_value()) << output.error().to_string();
    ASSERT_TRUE((*output)->write_frames(video.data(), frames).is_ok());
    ASSERT_TRUE((*output)->store(4102444800).is_ok());
    auto bytes = (*store)->get(job_id + "/video.mp4", 0);
    ASSERT_TRUE(bytes.has_value()) << bytes.error().to_string();
    const std::string copy = root + "/" + job_id + ".mp4";
    std::ofstream(copy, std::ios::binary) << *bytes;
    auto d = trust::detect_watermark_in_file(key, copy);
    ASSERT_TRUE(d.has_value()) << d.error().to_string();
    EXPECT_EQ(d->detected, marked) << job_id << ": T " << d->statistic;
    if (marked) {
      EXPECT_EQ(d->payload, trust::watermark_payload_for(key, job_id));
    }
  }
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace frugal::jobs
