#pragma once
// Small files a command keeps for the user between runs (core layer): written atomically (a
// temporary beside the target, then rename, so a reader never sees half a file), and found under
// one cache rule. Used by the planner's calibration records (LLM and video).

#include <string>

#include "core/status.h"

namespace frugal {

// Writes `contents` to `path` through `path.tmp.<pid>` and a rename; creates missing parent folders.
Status write_file_atomically(const std::string& path, const std::string& contents);

// Where a cached file lives: `explicit_path` if given, else $`env_var` if set and non-empty, else
// $XDG_CACHE_HOME/frugal/`file_name`, else $HOME/.cache/frugal/`file_name` (./.cache/... without HOME).
std::string user_cache_file(const std::string& explicit_path, const char* env_var, const std::string& file_name);

}  // namespace frugal
