// The reference renderer of the caption grammar (video/eval layer): one solid shape moving in a
// straight line at constant speed over a plain background, antialiased by 4x4 supersampling. The
// C++ twin of the training data's Python renderer (tools/train_video/), not bit-identical to it:
// the evaluator's own tests and the benchmarks use it to make clips whose truth is known.
#pragma once

#include <cstdint>

#include "video/eval/caption.h"
#include "video/eval/rgb_clip.h"

namespace frugal::video {

// Geometry of one rendered clip. Coordinates are pixels, x to the right and y down, with pixel
// (col, row) covering [col, col + 1) x [row, row + 1).
struct RenderParams {
  int width = 64;
  int height = 64;
  int num_frames = 17;
  float start_x = 32.0f;  // centre of the shape's bounding box in frame 0
  float start_y = 32.0f;
  float size = 16.0f;     // bounding-box side: square side, circle diameter, triangle base = height
  float speed = 1.0f;     // pixels per frame along the caption's direction (>= 0)
};

// Draws the clip [num_frames, height, width, 3]. The centre moves speed pixels per frame towards
// caption.direction (up = towards row 0). Shapes: an axis-aligned square, a disc, an isosceles
// triangle with its apex up and its base at the bottom of the box (bounding-box fill 1, pi/4, 1/2).
// Each pixel mixes shape and background colour by its coverage of 16 sub-samples. Parts of the
// shape outside the frame are clipped. Preconditions (CHECKed): sizes positive, size > 0.
RgbClip render_clip(const Caption& caption, const RenderParams& params);

// Random geometry within the training data's bounds (issue #19): the box side is 15-35 % of the
// smaller frame side, the shape stays wholly inside the frame on every frame, and it travels 25 % to
// 60 % of the frame along its direction (capped by the room there is) over the clip. Deterministic
// in seed. Preconditions (CHECKed): width, height >= 16, num_frames >= 2.
RenderParams random_render_params(const Caption& caption, int width, int height, int num_frames, uint64_t seed);

}  // namespace frugal::video
