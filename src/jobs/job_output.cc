#include "jobs/job_output.h"

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "core/logging.h"
#include "media/frame_convert.h"
#include "media/png_writer.h"

namespace frugal::jobs {
namespace {

int sprite_count(int64_t frames) { return static_cast<int>(std::min<int64_t>(JobOutput::kSpriteFrames, frames)); }

// The sprite slot that frame `frame_idx` fills, or -1: slot s shows frame floor(s · frames / count).
int sprite_slot(int64_t frame_idx, int64_t frames) {
  const int64_t count = sprite_count(frames);
  const int64_t slot = (frame_idx * count + frames - 1) / frames;  // ceil(frame_idx · count / frames)
  return slot < count && slot * frames / count == frame_idx ? static_cast<int>(slot) : -1;
}

}  // namespace

std::optional<std::string> job_object_key(const std::string& job_id, const std::string& variant) {
  if (variant == "video") return job_id + "/video.mp4";
  if (variant == "thumbnail") return job_id + "/thumbnail.png";
  if (variant == "spritesheet") return job_id + "/spritesheet.png";
  return std::nullopt;
}

Expected<std::unique_ptr<JobOutput>> JobOutput::open(storage::ObjectStore& store, const std::string& job_id,
                                                     const std::string& staging_tag, int64_t width, int64_t height,
                                                     int64_t frames, int64_t fps,
                                                     const trust::WatermarkKey* watermark_key,
                                                     std::function<Status(const std::string&)> before_publish) {
  std::unique_ptr<JobOutput> output(new JobOutput());
  output->store_ = &store;
  output->job_id_ = job_id;
  output->width_ = width;
  output->height_ = height;
  output->frames_ = frames;
  const std::string stem = store.staging_dir() + "/" + job_id + "." + staging_tag;
  output->mp4_path_ = stem + ".mp4";
  output->thumbnail_path_ = stem + ".thumbnail.png";
  output->spritesheet_path_ = stem + ".spritesheet.png";
  media::Mp4Options options;
  options.fps = media::FrameRate{static_cast<int>(fps), 1};
  options.num_threads = 1;  // the clip is small next to the generation; keep the cores for the DiT
  options.before_publish = std::move(before_publish);  // e.g. C2PA provenance (video_worker.cc)
  auto writer = media::Mp4Writer::open(output->mp4_path_, static_cast<int>(width), static_cast<int>(height), options);
  if (!writer) return writer.error();
  output->mp4_.emplace(std::move(*writer));
  if (watermark_key != nullptr && (width < trust::kWatermarkMinSide || height < trust::kWatermarkMinSide)) {
    log_warn("video job " + job_id + ": " + std::to_string(width) + "x" + std::to_string(height) +
             " is below the watermark's minimum side of " + std::to_string(trust::kWatermarkMinSide) + " pixels: not marked");
  } else if (watermark_key != nullptr) {
    auto embedder = trust::WatermarkEmbedder::create(*watermark_key, trust::watermark_payload_for(*watermark_key, job_id),
                                                     static_cast<int>(width), static_cast<int>(height));
    if (!embedder) return embedder.error();
    output->watermark_.emplace(std::move(*embedder));
  }
  const int columns = std::min(kSpriteColumns, sprite_count(frames));
  const int rows = (sprite_count(frames) + columns - 1) / columns;
  output->sprites_.assign(static_cast<size_t>(rows * height * columns * width * 3), 0);
  return output;
}

JobOutput::~JobOutput() {
  if (!stored_) remove_staged();
}

void JobOutput::remove_staged() {
  std::error_code ec;
  for (const std::string& path : {mp4_path_, thumbnail_path_, spritesheet_path_}) std::filesystem::remove(path, ec);
}

Status JobOutput::write_frames(const float* frames, int64_t n) {
  if (frames_done_ + n > frames_) return internal_error("the decoder produced more frames than requested");
  const media::VideoShape shape{static_cast<int>(n), static_cast<int>(height_), static_cast<int>(width_)};
  const std::span<const float> chunk(frames, shape.tensor_elements());
  rgb_.resize(shape.frame_pixels() * 3);
  const int columns = std::min(kSpriteColumns, sprite_count(frames_));
  const size_t row_bytes = static_cast<size_t>(width_) * 3;
  for (int64_t frame_idx = 0; frame_idx < n; ++frame_idx) {
    media::video_frame_to_rgb8(chunk, shape, static_cast<int>(frame_idx), rgb_);
    if (watermark_) watermark_->embed_frame(rgb_);
    if (Status s = mp4_->write_frame(rgb_); !s) return s;
    const int64_t global_idx = frames_done_ + frame_idx;
    if (global_idx == 0) thumbnail_ = rgb_;
    if (sample_every_ > 0 && global_idx % sample_every_ == 0) {
      samples_.push_back({global_idx, media::RgbImage{static_cast<int>(width_), static_cast<int>(height_), rgb_}});
    }
    const int slot = sprite_slot(global_idx, frames_);
    if (slot < 0) continue;
    const size_t sheet_row_bytes = row_bytes * static_cast<size_t>(columns);
    const size_t origin = static_cast<size_t>(slot / columns) * static_cast<size_t>(height_) * sheet_row_bytes +
                          static_cast<size_t>(slot % columns) * row_bytes;
    for (int64_t y = 0; y < height_; ++y) {
      std::memcpy(&sprites_[origin + static_cast<size_t>(y) * sheet_row_bytes], &rgb_[static_cast<size_t>(y) * row_bytes],
                  row_bytes);
    }
  }
  frames_done_ += n;
  return Status::ok();
}

Status JobOutput::write_stills() {
  if (Status s = media::write_png(thumbnail_path_, thumbnail_, static_cast<int>(width_), static_cast<int>(height_)); !s) {
    return s;
  }
  const int columns = std::min(kSpriteColumns, sprite_count(frames_));
  const int rows = (sprite_count(frames_) + columns - 1) / columns;
  return media::write_png(spritesheet_path_, sprites_, static_cast<int>(width_) * columns,
                          static_cast<int>(height_) * rows);
}

Status JobOutput::finish() {
  if (finished_) return Status::ok();
  if (frames_done_ != frames_) {
    return internal_error("decoded " + std::to_string(frames_done_) + " frames, expected " + std::to_string(frames_));
  }
  if (Status s = mp4_->finish(); !s) return s;
  if (Status s = write_stills(); !s) return s;
  finished_ = true;
  return Status::ok();
}

Status JobOutput::store(int64_t expires_at) {
  if (Status s = finish(); !s) return s;
  const std::pair<const char*, const std::string*> files[] = {
      {"thumbnail", &thumbnail_path_}, {"spritesheet", &spritesheet_path_}, {"video", &mp4_path_}};
  for (const auto& [variant, path] : files) {
    if (Status s = store_->put_file(*job_object_key(job_id_, variant), *path, expires_at); !s) return s;
  }
  stored_ = true;
  return Status::ok();
}

}  // namespace frugal::jobs
