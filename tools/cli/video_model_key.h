// The identity of a Wan model folder for video calibration (tools layer): `frugal bench video`
// records it with each point and `frugal plan video --hardware this-machine` looks it up, so that
// rates measured on one model are used only for that model.
#pragma once

#include <string>

#include "core/expected.h"
#include "cost/video_model.h"

namespace frugal::cli {

struct VideoModelKey {
  std::string name;       // the folder's name
  std::string signature;  // DiT shape and the bytes of the DiT, VAE and text-encoder files
  DitConfig dit;          // the cost layer's view of the DiT (dim, layers, heads, ffn, text_len, patch)
};

// From a model folder with a DiT config.json (as released and as `frugal mkmodel` writes it);
// errors name the missing file.
Expected<VideoModelKey> video_model_key(const std::string& model_dir);

}  // namespace frugal::cli
