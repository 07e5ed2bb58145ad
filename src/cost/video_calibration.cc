#include "cost/video_calibration.h"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <tuple>

#include "core/user_files.h"

namespace frugal {
namespace {

using nlohmann::json;

// What a later measurement replaces: the same model, threads and configuration.
using PointKey = std::tuple<std::string, int, int64_t, int64_t, int64_t, int64_t, bool, bool>;

PointKey key_of(const VideoCalibrationPoint& p) {
  return {p.signature, p.threads, p.width, p.height, p.frames, p.steps, p.cfg, p.decoded};
}

json point_to_json(const VideoCalibrationPoint& p) {
  return {{"model", p.model}, {"signature", p.signature},
          {"dit", {{"dim", p.dim}, {"n_layer", p.n_layer}, {"n_head", p.n_head}, {"ffn_dim", p.ffn_dim}, {"text_len", p.text_len}}},
          {"threads", p.threads}, {"width", p.width}, {"height", p.height}, {"frames", p.frames}, {"steps", p.steps},
          {"cfg", p.cfg}, {"decoded", p.decoded}, {"repetitions", p.repetitions},
          {"text_encode_seconds", p.text_encode_seconds}, {"seconds_per_step", p.seconds_per_step},
          {"vae_decode_seconds", p.vae_decode_seconds}, {"total_seconds", p.total_seconds},
          {"measured_utc", p.measured_utc}};
}

Status bad(const std::string& origin, const std::string& what) {
  return invalid_argument("video calibration record " + origin + ": " + what);
}

Expected<VideoCalibrationPoint> point_from_json(const json& j, const std::string& origin, size_t index) {
  const std::string where = "points[" + std::to_string(index) + "]";
  try {
    VideoCalibrationPoint p;
    p.model = j.at("model").get<std::string>();
    p.signature = j.at("signature").get<std::string>();
    const json& d = j.at("dit");
    p.dim = d.at("dim").get<int64_t>();
    p.n_layer = d.at("n_layer").get<int64_t>();
    p.n_head = d.at("n_head").get<int64_t>();
    p.ffn_dim = d.at("ffn_dim").get<int64_t>();
    p.text_len = d.at("text_len").get<int64_t>();
    p.threads = j.at("threads").get<int>();
    p.width = j.at("width").get<int64_t>();
    p.height = j.at("height").get<int64_t>();
    p.frames = j.at("frames").get<int64_t>();
    p.steps = j.at("steps").get<int64_t>();
    p.cfg = j.at("cfg").get<bool>();
    p.decoded = j.value("decoded", true);
    p.repetitions = j.value("repetitions", 1);
    p.text_encode_seconds = j.at("text_encode_seconds").get<double>();
    p.seconds_per_step = j.at("seconds_per_step").get<double>();
    p.vae_decode_seconds = j.value("vae_decode_seconds", 0.0);
    p.total_seconds = j.value("total_seconds", 0.0);
    p.measured_utc = j.value("measured_utc", std::string());
    if (p.dim <= 0 || p.n_layer <= 0 || p.n_head <= 0 || p.ffn_dim <= 0 || p.text_len <= 0) {
      return bad(origin, where + ": the DiT sizes must be > 0");
    }
    if (p.threads < 1 || p.width <= 0 || p.height <= 0 || p.frames <= 0 || p.steps <= 0) {
      return bad(origin, where + ": threads, width, height, frames and steps must be > 0");
    }
    for (double s : {p.text_encode_seconds, p.seconds_per_step, p.vae_decode_seconds, p.total_seconds}) {
      if (!std::isfinite(s) || s < 0) return bad(origin, where + ": times must be finite and >= 0");
    }
    if (p.seconds_per_step <= 0) return bad(origin, where + ": seconds_per_step must be > 0");
    return p;
  } catch (const json::exception& e) {
    return bad(origin, where + ": " + e.what());
  }
}

}  // namespace

std::string video_calibration_to_json(const VideoCalibrationRecord& r) {
  json points = json::array();
  for (const VideoCalibrationPoint& p : r.points) points.push_back(point_to_json(p));
  json out = {{"schema", kVideoCalibrationSchema}, {"machine_id", r.machine_id}, {"cpu_model", r.cpu_model},
              {"created_utc", r.created_utc}, {"method", r.method}, {"points", points}};
  return out.dump(2) + "\n";
}

Expected<VideoCalibrationRecord> video_calibration_from_json(const std::string& text, const std::string& origin) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return bad(origin, "not a JSON object");
  if (j.value("schema", std::string()) != kVideoCalibrationSchema) {
    return bad(origin, std::string("schema must be \"") + kVideoCalibrationSchema + "\"");
  }
  VideoCalibrationRecord r;
  r.machine_id = j.value("machine_id", std::string());
  r.cpu_model = j.value("cpu_model", std::string());
  r.created_utc = j.value("created_utc", std::string());
  r.method = j.value("method", std::string());
  if (!j.contains("points") || !j["points"].is_array()) return bad(origin, "\"points\" must be an array");
  for (size_t i = 0; i < j["points"].size(); ++i) {
    auto p = point_from_json(j["points"][i], origin, i);
    if (!p) return p.error();
    r.points.push_back(std::move(*p));
  }
  return r;
}

Expected<VideoCalibrationRecord> load_video_calibration(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return not_found("no video calibration record at " + path +
                     " (run `frugal bench video -m MODEL_DIR` or pass --video-calibration FILE)");
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return video_calibration_from_json(ss.str(), path);
}

Status save_video_calibration(const VideoCalibrationRecord& record, const std::string& path) {
  return write_file_atomically(path, video_calibration_to_json(record));
}

std::string resolve_video_calibration_path(const std::string& explicit_path) {
  return user_cache_file(explicit_path, "FRUGAL_VIDEO_CALIBRATION", "video-calibration.json");
}

VideoCalibrationRecord merge_video_calibration(const VideoCalibrationRecord& previous, const VideoCalibrationRecord& fresh) {
  if (previous.machine_id != fresh.machine_id || previous.cpu_model != fresh.cpu_model) return fresh;
  VideoCalibrationRecord merged = fresh;
  std::set<PointKey> fresh_keys;
  for (const VideoCalibrationPoint& p : fresh.points) fresh_keys.insert(key_of(p));
  std::vector<VideoCalibrationPoint> kept;
  for (const VideoCalibrationPoint& p : previous.points) {
    if (fresh_keys.count(key_of(p)) == 0) kept.push_back(p);
  }
  merged.points.insert(merged.points.begin(), kept.begin(), kept.end());
  return merged;
}

Expected<std::vector<VideoCalibrationPoint>> video_points_for(const VideoCalibrationRecord& record, const std::string& path,
                                                              const std::string& model_name, const std::string& signature,
                                                              int threads) {
  std::map<std::string, std::set<int>> held;  // model -> thread counts, for the message
  std::set<int> model_threads;
  for (const VideoCalibrationPoint& p : record.points) {
    held[p.model].insert(p.threads);
    if (p.signature == signature) model_threads.insert(p.threads);
  }
  const std::string run = "run `frugal bench video -m " + model_name + (threads > 0 ? " -t " + std::to_string(threads) : "") + "`";
  if (model_threads.empty()) {
    std::string have;
    for (const auto& [m, ts] : held) have += (have.empty() ? "" : ", ") + m;
    return invalid_argument("video calibration record " + path + " has no points for the model " + model_name +
                            (have.empty() ? " (it has none at all)" : " (it has " + have + ")") + ": " + run);
  }
  if (threads == 0) {
    if (model_threads.size() > 1) {
      std::string ts;
      for (int t : model_threads) ts += (ts.empty() ? "" : ", ") + std::to_string(t);
      return invalid_argument("video calibration record " + path + " has " + model_name + " at " + ts +
                              " threads: pick one with --threads");
    }
    threads = *model_threads.begin();
  }
  std::vector<VideoCalibrationPoint> out;
  for (const VideoCalibrationPoint& p : record.points) {
    if (p.signature == signature && p.threads == threads) out.push_back(p);
  }
  if (out.empty()) {
    std::string ts;
    for (int t : model_threads) ts += (ts.empty() ? "" : ", ") + std::to_string(t);
    return invalid_argument("video calibration record " + path + " has " + model_name + " only at " + ts +
                            " threads, not " + std::to_string(threads) + ": " + run);
  }
  return out;
}

}  // namespace frugal
