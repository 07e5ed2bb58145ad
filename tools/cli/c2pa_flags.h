// --c2pa-key / --c2pa-cert (`frugal serve`, `frugal video`): the credentials that sign the C2PA
// provenance in every MP4 frugal writes (trust/c2pa_manifest.h). Without them frugal uses a local
// development CA + signer under its state folder, made (and announced on stderr) on first use.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "core/expected.h"
#include "trust/signing_credentials.h"

namespace frugal::cli {

struct C2paFlags {
  std::string key;   // PEM private key (EC P-256)
  std::string cert;  // PEM chain, signer certificate first
};

void add_c2pa_flags(CLI::App& cmd, C2paFlags& flags);

// The operator's credentials when both flags are set (checked: a malformed key or certificate is an
// error), else the development ones under `state_dir`. One flag without the other is an error.
Expected<std::shared_ptr<const trust::SigningCredentials>> load_c2pa_credentials(const C2paFlags& flags,
                                                                                 const std::string& state_dir);

}  // namespace frugal::cli
