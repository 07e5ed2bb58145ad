// The audit log of `frugal serve` (tools layer; trust/audit_log.h, docs/design/trust-audit-log.md):
// --audit-log FILE; on by default as <--video-state>/audit.jsonl when video models are served;
// --no-audit-log turns it off; --audit-key PEM (default: audit-signing-key.pem beside the log,
// generated on first run); --audit-checkpoint-every N; --audit-store-prompts.
#pragma once

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "core/expected.h"
#include "serve_video.h"
#include "trust/audit_log.h"

namespace frugal::cli {

struct ServeAuditFlags {
  std::string log;                 // "" → the video state folder's audit.jsonl when video is served
  bool off = false;                // --no-audit-log
  std::string key;                 // "" → beside the log
  int64_t checkpoint_every = 256;
  bool store_prompts = false;
};

void add_serve_audit_flags(CLI::App& cmd, ServeAuditFlags& flags);

// The opened log (its start-up line printed), or nullptr when there is none to keep. Errors: a
// malformed key file, a damaged last record, an unwritable path — never a silent fallback.
Expected<std::unique_ptr<trust::AuditLog>> open_serve_audit_log(const ServeAuditFlags& flags, const ServeVideoFlags& video);

}  // namespace frugal::cli
