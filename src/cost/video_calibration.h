// Video calibration (cost layer): what `frugal bench video` measured of frugal's own video runs on
// this machine, and the machine rates fitted to it, so that `frugal plan video --hardware
// this-machine` predicts frugal's own seconds per step and per video.
// The fitted model is in video_rates.h.
//
// The model is physical, with fitted rates (not a lookup table of measured configurations):
//   step  = passes x (linear FLOPs / R_lin + attention FLOPs / R_attn + t_pass)
//           passes = 2 with classifier-free guidance, else 1; FLOPs of one DiT pass at the
//           configuration's token count (video_pass_work); R_lin, R_attn in FLOP/s, t_pass seconds
//   VAE   = output pixel-frames x t_pixel + t_vae        (the decoder's work is per output pixel)
//   text  = prompts encoded x t_prompt                   (2 with CFG: the negative prompt too)
//   video = text + steps x step + VAE
// Each group of seconds is fitted by non-negative least squares on relative errors over the points
// of one model (the same DiT shape and weight files) and one thread count: rates measured on one
// model are not carried to another (a cache-resident toy model runs at other rates than a 1.3B).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/expected.h"
#include "cost/video_model.h"

namespace frugal {

// One configuration `frugal bench video` ran: medians over its repetitions.
struct VideoCalibrationPoint {
  std::string model;       // model folder name (messages)
  std::string signature;   // identity of the model's files (bench and plan compute it alike)
  int64_t dim = 0, n_layer = 0, n_head = 0, ffn_dim = 0, text_len = 0;  // the DiT's shape
  int threads = 1;
  int64_t width = 0, height = 0, frames = 0;
  int64_t steps = 0;
  bool cfg = true;
  bool decoded = true;            // false: the run stopped after the sampler (no VAE figure)
  int repetitions = 0;
  double text_encode_seconds = 0; // medians
  double seconds_per_step = 0;
  double vae_decode_seconds = 0;  // 0 when !decoded
  double total_seconds = 0;       // text + denoise (+ VAE)
  std::string measured_utc;
};

struct VideoCalibrationRecord {
  std::string machine_id;
  std::string cpu_model;
  std::string created_utc;
  std::string method;  // how the points were measured (bench writes it)
  std::vector<VideoCalibrationPoint> points;
};

inline constexpr const char* kVideoCalibrationSchema = "frugal.video-calibration/1";

std::string video_calibration_to_json(const VideoCalibrationRecord& record);
Expected<VideoCalibrationRecord> video_calibration_from_json(const std::string& json_text, const std::string& origin);
Expected<VideoCalibrationRecord> load_video_calibration(const std::string& path);
Status save_video_calibration(const VideoCalibrationRecord& record, const std::string& path);  // atomic
// explicit_path if non-empty, else $FRUGAL_VIDEO_CALIBRATION, else ~/.cache/frugal/video-calibration.json.
std::string resolve_video_calibration_path(const std::string& explicit_path);

// `fresh` over `previous`: a fresh point replaces one of the same model, threads and configuration
// (size, frames, steps, CFG, decoded); other earlier points are kept. Another machine's previous
// record is dropped (fresh returned as is).
VideoCalibrationRecord merge_video_calibration(const VideoCalibrationRecord& previous,
                                               const VideoCalibrationRecord& fresh);

// The points of `record` for the model `signature` at `threads` (threads 0: the record's only thread
// count for that model). kInvalidArgument naming `path`, the models and thread counts it holds and
// the command to run when none match.
Expected<std::vector<VideoCalibrationPoint>> video_points_for(const VideoCalibrationRecord& record,
                                                              const std::string& path, const std::string& model_name,
                                                              const std::string& signature, int threads);

}  // namespace frugal
