#pragma once
// frugal's per-user state folder: where a command keeps what it makes on first use and must find
// again (the watermark key, the C2PA development CA and signer). One rule for all of them, so an
// operator moves or isolates all of frugal's state with one variable.

#include <string>

namespace frugal {

// $FRUGAL_STATE_DIR, else $XDG_STATE_HOME/frugal, else $HOME/.local/state/frugal, else
// ./frugal-state. `frugal serve` with video uses its --video-state folder instead.
std::string default_state_dir();

}  // namespace frugal
