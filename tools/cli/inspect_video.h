// `frugal inspect` for safetensors files, shard indexes and video model folders (tools layer).
#pragma once

#include <string>

namespace frugal::cli {

// True for a folder, a `.safetensors` file or a `.json` shard index.
bool is_video_inspect_target(const std::string& path);
// Prints each part's files, metadata, tensor table (PyTorch shapes), parameters and bytes per dtype,
// and the component's sizes as the engine reads them. Returns the process exit code.
int inspect_video(const std::string& path, bool all_tensors);
// The sizes of a GGUF Wan DiT (its tensors are printed by the GGUF inspector).
int inspect_wan_gguf(const std::string& path);

}  // namespace frugal::cli
