// The JSON columns a job store keeps of a record (jobs layer): the immutable request ("spec") and
// the stage timings of the run that finished it ("stages"). Shared by the SQLite and Redis stores,
// so both write the same documents:
//   spec:   {"prompt", "negative_prompt", "seconds", "size", "width", "height", "frames", "steps",
//            "sampler", "cfg", "shift", "seed", "remixed_from", "predicted_seconds", "moderation_hold"}
//   stages: {"queue", "text_encode", "denoise", "vae_decode", "mp4_encode", "total"} (seconds)
#pragma once

#include <string>

#include "jobs/job.h"

namespace frugal::jobs {

std::string spec_json(const JobRecord& job);
// Fills the spec fields of `job`; unparsable text leaves them as they are.
void read_spec(const std::string& text, JobRecord& job);
std::string stages_json(const StageSeconds& stages);
void read_stages(const std::string& text, StageSeconds& stages);

}  // namespace frugal::jobs
