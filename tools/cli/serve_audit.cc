#include "serve_audit.h"

#include <cstdio>
#include <filesystem>

namespace frugal::cli {

void add_serve_audit_flags(CLI::App& cmd, ServeAuditFlags& flags) {
  cmd.add_option("--audit-log", flags.log,
                 "Tamper-evident audit log: one hash-chained, fsync'd JSON line per video job and LLM request, signed "
                 "checkpoints (default with --video-model: <video-state>/audit.jsonl; check it with `frugal audit verify`)");
  cmd.add_flag("--no-audit-log", flags.off, "Keep no audit log (not even the video default)");
  cmd.add_option("--audit-key", flags.key,
                 "Checkpoint signing key, Ed25519 or ECDSA P-256 PEM (default: audit-signing-key.pem beside the log, "
                 "made on first run)");
  cmd.add_option("--audit-checkpoint-every", flags.checkpoint_every, "Records between signed checkpoints")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd.add_flag("--audit-store-prompts", flags.store_prompts,
               "Store each prompt's text in the audit log, not only its SHA-256");
}

Expected<std::unique_ptr<trust::AuditLog>> open_serve_audit_log(const ServeAuditFlags& flags, const ServeVideoFlags& video) {
  if (flags.off) {
    if (!flags.log.empty()) return invalid_argument("--no-audit-log and --audit-log contradict each other");
    return std::unique_ptr<trust::AuditLog>();
  }
  std::string path = flags.log;
  if (path.empty() && !video.model_values.empty()) path = video.state_dir + "/audit.jsonl";
  if (path.empty()) {
    if (!flags.key.empty()) return invalid_argument("--audit-key needs an audit log (--audit-log FILE)");
    return std::unique_ptr<trust::AuditLog>();
  }
  const std::filesystem::path folder = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!folder.empty()) std::filesystem::create_directories(folder, ec);
  if (ec) return unavailable("cannot create the audit log's folder " + folder.string() + ": " + ec.message());
  trust::AuditLogOptions options;
  options.path = path;
  options.key_path = flags.key;
  options.generate_key = flags.key.empty();  // a named key must exist: never a silent stand-in
  options.checkpoint_every = flags.checkpoint_every;
  options.store_prompts = flags.store_prompts;
  auto log = trust::AuditLog::open(options);
  if (!log) return log.error();
  const trust::AuditOpenReport& report = (*log)->open_report();
  if (report.key_generated) {
    std::printf("frugal: no audit signing key: generated Ed25519 key %s (public key %s.pub; keep a copy to verify with)\n",
                report.key_path.c_str(), report.key_path.c_str());
  }
  if (report.torn_bytes_cut > 0) {
    std::printf("frugal: audit log %s: cut a torn last line (%lld bytes) left by a crash; recorded as a recovery\n",
                path.c_str(), static_cast<long long>(report.torn_bytes_cut));
  }
  std::printf("frugal: audit log %s (from record %lld; signed checkpoint every %lld records and at shutdown; key %s)\n",
              path.c_str(), static_cast<long long>(report.next_seq), static_cast<long long>(flags.checkpoint_every),
              report.key_fingerprint.c_str());
  return log;
}

}  // namespace frugal::cli
