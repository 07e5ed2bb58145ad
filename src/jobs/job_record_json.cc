#include "jobs/job_record_json.h"

#include <nlohmann/json.hpp>

namespace frugal::jobs {

std::string spec_json(const JobRecord& job) {
  const nlohmann::json spec = {{"prompt", job.prompt},   {"negative_prompt", job.negative_prompt},
                               {"seconds", job.seconds}, {"size", job.size},
                               {"width", job.width},     {"height", job.height},
                               {"frames", job.frames},   {"steps", job.steps},
                               {"sampler", job.sampler}, {"cfg", job.cfg},
                               {"shift", job.shift},     {"seed", job.seed},
                               {"remixed_from", job.remixed_from}, {"predicted_seconds", job.predicted_seconds},
                               {"moderation_hold", job.moderation_hold}};
  return spec.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string stages_json(const StageSeconds& s) {
  return nlohmann::json{{"queue", s.queue},           {"text_encode", s.text_encode}, {"denoise", s.denoise},
                        {"vae_decode", s.vae_decode}, {"mp4_encode", s.mp4_encode},   {"total", s.total}}
      .dump();
}

void read_spec(const std::string& text, JobRecord& job) {
  const nlohmann::json spec = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!spec.is_object()) return;
  job.prompt = spec.value("prompt", "");
  job.negative_prompt = spec.value("negative_prompt", "");
  job.seconds = spec.value("seconds", "");
  job.size = spec.value("size", "");
  job.width = spec.value("width", int64_t{0});
  job.height = spec.value("height", int64_t{0});
  job.frames = spec.value("frames", int64_t{0});
  job.steps = spec.value("steps", 0);
  job.sampler = spec.value("sampler", "");
  job.cfg = spec.value("cfg", 0.0);
  job.shift = spec.value("shift", 0.0);
  job.seed = spec.value("seed", uint64_t{0});
  job.remixed_from = spec.value("remixed_from", "");
  job.moderation_hold = spec.value("moderation_hold", "");
  job.predicted_seconds = spec.value("predicted_seconds", 0.0);
}

void read_stages(const std::string& text, StageSeconds& s) {
  const nlohmann::json stages = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!stages.is_object()) return;
  s.queue = stages.value("queue", 0.0);
  s.text_encode = stages.value("text_encode", 0.0);
  s.denoise = stages.value("denoise", 0.0);
  s.vae_decode = stages.value("vae_decode", 0.0);
  s.mp4_encode = stages.value("mp4_encode", 0.0);
  s.total = stages.value("total", 0.0);
}

}  // namespace frugal::jobs
