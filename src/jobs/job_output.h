// JobOutput: one job's files, written as the streaming VAE decode hands over frames (jobs layer):
// the H.264 MP4, a PNG thumbnail (the first frame) and a PNG spritesheet (up to kSpriteFrames
// frames spread over the clip, side by side in rows of kSpriteColumns). Files are staged in the
// object store's staging folder and stored under "<job id>/video.mp4", "<job id>/thumbnail.png",
// "<job id>/spritesheet.png" by store(); an abandoned output deletes its staged files.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/expected.h"
#include "media/mp4_writer.h"
#include "storage/object_store.h"
#include "trust/watermark_embed.h"
#include "trust/post_check.h"

namespace frugal::jobs {

// The object key of a job's file for an API variant: "video" | "thumbnail" | "spritesheet";
// nullopt for any other variant.
std::optional<std::string> job_object_key(const std::string& job_id, const std::string& variant);

class JobOutput {
 public:
  static constexpr int kSpriteFrames = 8;
  static constexpr int kSpriteColumns = 4;

  // `staging_tag` makes the staged names unique per attempt. With `watermark_key`, every frame (so
  // the MP4, the thumbnail and the spritesheet) carries the payload watermark_payload_for(key, job_id)
  // (trust/watermark_embed.h), embedded before encoding; frames below trust::kWatermarkMinSide on a
  // side cannot hold the mark and are stored unmarked with a logged warning.
  static Expected<std::unique_ptr<JobOutput>> open(storage::ObjectStore& store, const std::string& job_id,
                                                   const std::string& staging_tag, int64_t width, int64_t height,
                                                   int64_t frames, int64_t fps,
                                                   const trust::WatermarkKey* watermark_key = nullptr,
                                                   std::function<Status(const std::string&)> before_publish = {});
  ~JobOutput();
  // frames: [3, n, H, W] unclamped decoder output, following the frames written before.
  Status write_frames(const float* frames, int64_t n);
  // Keeps a copy of every `every`-th frame (0, every, 2·every, ...) for the post-generation checks;
  // 0 (the default): none. Call before the first write_frames.
  void sample_every(int64_t every) { sample_every_ = every; }
  const std::vector<trust::SampledFrame>& samples() const { return samples_; }
  // Finishes the MP4 and writes the thumbnail and spritesheet in staging (mp4_path() is then the
  // whole file). kInternal when frames are missing. store() calls it when it was not called.
  Status finish();
  const std::string& mp4_path() const { return mp4_path_; }
  // finish(), then puts all three files in the store with `expires_at`.
  Status store(int64_t expires_at);

 private:
  JobOutput() = default;
  Status write_stills();
  void remove_staged();

  storage::ObjectStore* store_ = nullptr;
  std::string job_id_;
  std::string mp4_path_, thumbnail_path_, spritesheet_path_;  // staged files
  int64_t width_ = 0, height_ = 0, frames_ = 0;
  int64_t frames_done_ = 0;
  std::optional<media::Mp4Writer> mp4_;
  std::optional<trust::WatermarkEmbedder> watermark_;
  std::vector<uint8_t> rgb_;          // [H, W, 3], the frame being converted
  std::vector<uint8_t> thumbnail_;    // [H, W, 3]
  std::vector<uint8_t> sprites_;      // [rows·H, cols·W, 3]
  int64_t sample_every_ = 0;
  std::vector<trust::SampledFrame> samples_;  // [every sample_every_-th frame]
  bool finished_ = false;
  bool stored_ = false;
};

}  // namespace frugal::jobs
