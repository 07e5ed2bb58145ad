#include "c2pa_flags.h"

#include <cstdio>

namespace frugal::cli {

void add_c2pa_flags(CLI::App& cmd, C2paFlags& flags) {
  cmd.add_option("--c2pa-key", flags.key,
                 "PEM EC P-256 private key that signs the C2PA manifest in every MP4 (with --c2pa-cert; default: a "
                 "development CA + signer made in the state folder)");
  cmd.add_option("--c2pa-cert", flags.cert,
                 "PEM certificate chain for --c2pa-key, signer first (X.509 v3, not a CA, keyUsage digitalSignature "
                 "critical, EKU documentSigning or emailProtection, AKI/SKI)");
}

Expected<std::shared_ptr<const trust::SigningCredentials>> load_c2pa_credentials(const C2paFlags& flags,
                                                                                 const std::string& state_dir) {
  if (flags.key.empty() != flags.cert.empty()) {
    return invalid_argument(flags.key.empty() ? "--c2pa-cert needs --c2pa-key" : "--c2pa-key needs --c2pa-cert");
  }
  if (!flags.key.empty()) {
    auto creds = trust::load_signing_credentials(flags.key, flags.cert);
    if (!creds) return creds.error();
    return std::shared_ptr<const trust::SigningCredentials>(
        std::make_shared<trust::SigningCredentials>(std::move(*creds)));
  }
  bool created = false;
  auto creds = trust::ensure_dev_credentials(state_dir, &created);
  if (!creds) return creds.error();
  const trust::DevCredentialPaths paths = trust::dev_credential_paths(state_dir);
  if (created) {
    std::fprintf(stderr,
                 "frugal: no --c2pa-key/--c2pa-cert: made a local development C2PA CA and signer in %s/c2pa/; MP4s are "
                 "signed with it. Validators trust them only with %s as a trust anchor; configure your own key and "
                 "certificate chain for production.\n",
                 state_dir.c_str(), paths.ca.c_str());
  }
  return std::shared_ptr<const trust::SigningCredentials>(std::make_shared<trust::SigningCredentials>(std::move(*creds)));
}

}  // namespace frugal::cli
