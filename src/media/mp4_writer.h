// Mp4Writer: RGB8 frames -> H.264 (libx264, yuv420p) in an MP4 file (media layer).
//
// The file appears at `path` only when finish() succeeds: frames are written to `<path>.partial`,
// which finish() renames over `path`, replacing any file there (rename(2) is atomic on one
// filesystem, so a reader polling for the mp4 never sees half a file). A writer destroyed without
// a successful finish() frees every libav object and deletes the .partial file.
//
// Colour: RGB is converted with the BT.709 matrix to limited-range yuv420p, and the stream is tagged
// BT.709 (primaries, transfer, matrix) so browsers and ffmpeg convert it back the same way.
// Timing: the codec time base is 1/fps, frame i has pts i and lasts one tick, so the container
// duration is frames / fps. `+faststart` moves the moov atom to the front for progressive playback.
//
// Threading: one thread at a time per writer; distinct writers are independent.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "core/expected.h"
#include "core/status.h"
#include "media/media_types.h"

namespace frugal::media {

namespace detail {
struct Mp4WriterState;  // libav objects; defined in mp4_writer.cc
}  // namespace detail

struct Mp4Options {
  FrameRate fps;
  // x264 constant rate factor, 0 (lossless luma) .. 51; 18 is visually lossless for most content.
  int crf = 18;
  // x264 speed/size trade-off: ultrafast .. veryslow. "medium" is x264's default.
  std::string preset = "medium";
  // Encoder threads; 0 lets the encoder choose (one per core).
  int num_threads = 0;
  // Runs on the complete `<path>.partial` file before finish() renames it into place (e.g. to embed
  // C2PA provenance, trust/c2pa_manifest.h), so no reader ever sees the file without it. An error
  // abandons the file and is finish()'s result. Empty: nothing runs.
  std::function<Status(const std::string& partial_path)> before_publish;
};

class Mp4Writer {
 public:
  // Opens `<path>.partial` and the encoder. `width` and `height` must be positive and even
  // (yuv420p subsamples chroma 2x2); fps num and den positive; crf in [0, 51].
  static Expected<Mp4Writer> open(const std::string& path, int width, int height, const Mp4Options& options = {});

  Mp4Writer(Mp4Writer&& other) noexcept;
  Mp4Writer& operator=(Mp4Writer&& other) noexcept;
  Mp4Writer(const Mp4Writer&) = delete;
  Mp4Writer& operator=(const Mp4Writer&) = delete;
  ~Mp4Writer();  // abandons an unfinished file (see the header comment)
  // A moved-from writer may only be destroyed or assigned to.

  // Encodes one frame, rgb [H, W, 3] (rgb.size() must be width * height * 3). Frames are
  // displayed in call order. An error leaves the writer failed: later calls return it again.
  Status write_frame(std::span<const uint8_t> rgb);
  // Flushes the encoder, writes the trailer (then rewrites for faststart) and renames the file
  // into place. A clip needs at least one frame: finishing an empty writer is kInvalidArgument
  // and leaves no file. After finish(), write_frame and finish return kInvalidArgument.
  Status finish();

  int width() const;
  int height() const;
  int64_t num_frames() const;  // frames accepted so far
  const std::string& path() const;
  // The encoder actually in use ("libx264", or another H.264 encoder where libx264 is missing).
  const std::string& encoder_name() const;

 private:
  explicit Mp4Writer(std::unique_ptr<detail::Mp4WriterState> state);
  std::unique_ptr<detail::Mp4WriterState> state_;
};

}  // namespace frugal::media
