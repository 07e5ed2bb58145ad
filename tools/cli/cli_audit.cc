// `frugal audit`: the tamper-evident audit log's tools (tools layer; trust/audit_log.h).
//   frugal audit verify FILE [--pubkey PEM] [--anchor FILE|-]  checks every hash, link and
//       checkpoint signature; prints the first failure by kind and seq; exit 0 intact, 1 tampered,
//       2 unreadable.
//   frugal audit write FILE --records N [--key PEM] [--checkpoint-every N] [--prompt-bytes B]
//       appends N synthetic records (the crash test's writer, and a throughput measure).
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

#include "cli_common.h"
#include "trust/audit_log.h"
#include "trust/audit_verify.h"

namespace frugal::cli {
namespace {

struct AuditVerifyArgs {
  std::string file;
  std::string pubkey;
  std::string anchor;
};

struct AuditWriteArgs {
  std::string file;
  std::string key;
  int64_t records = 1000;
  int64_t checkpoint_every = 256;
  int64_t prompt_bytes = 200;
};

int run_verify(const AuditVerifyArgs& args) {
  std::optional<trust::PublicKey> key;
  if (!args.pubkey.empty()) {
    auto loaded = trust::PublicKey::load(args.pubkey);
    if (!loaded) return report_error(loaded.error());
    key = std::move(*loaded);
  }
  trust::AuditVerifyOptions options;
  options.public_key = key ? &*key : nullptr;
  options.anchor_path = args.anchor;
  auto report = trust::verify_audit_log(args.file, options);
  if (!report) {
    report_error(report.error());
    return 2;
  }
  for (const std::string& note : report->notes) std::printf("note: %s\n", note.c_str());
  if (!report->ok()) {
    const trust::AuditFailure& f = *report->failure;
    std::printf("FAIL %s at seq %lld (line %lld): %s\n", trust::audit_failure_name(f.kind),
                static_cast<long long>(f.seq), static_cast<long long>(f.line), f.detail.c_str());
    return 1;
  }
  std::printf("OK %lld records, %lld signed checkpoints\n", static_cast<long long>(report->records),
              static_cast<long long>(report->checkpoints));
  return 0;
}

int run_write(const AuditWriteArgs& args) {
  trust::AuditLogOptions options;
  options.path = args.file;
  options.key_path = args.key;
  options.checkpoint_every = args.checkpoint_every;
  options.store_prompts = true;
  auto log = trust::AuditLog::open(options);
  if (!log) return report_error(log.error());
  const trust::AuditOpenReport& opened = (*log)->open_report();
  if (opened.key_generated) std::printf("frugal: generated audit signing key %s\n", opened.key_path.c_str());
  std::printf("frugal: appending to %s from seq %lld\n", args.file.c_str(), static_cast<long long>(opened.next_seq));
  std::fflush(stdout);
  const auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < args.records; ++i) {
    trust::AuditEvent event;
    event.kind = "llm_request";
    event.request_id = "synthetic_" + std::to_string(opened.next_seq + i);
    event.prompt = std::string(static_cast<size_t>(args.prompt_bytes), 'p');
    event.model = "synthetic";
    event.outcome = "completed";
    event.checks = {{"synthetic", "info", "frugal audit write"}};
    if (Status s = (*log)->record(event); !s) return report_error(s);
  }
  if (Status s = (*log)->close(); !s) return report_error(s);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("wrote %lld records in %.3f s (%.0f records/s, each fdatasync'd)\n", static_cast<long long>(args.records),
              seconds, seconds > 0 ? static_cast<double>(args.records) / seconds : 0.0);
  return 0;
}

}  // namespace

void register_audit(CLI::App& app) {
  CLI::App* audit = app.add_subcommand("audit", "The tamper-evident audit log: verify it, or write test records");
  audit->require_subcommand(1);

  auto verify_args = std::make_shared<AuditVerifyArgs>();
  CLI::App* verify = audit->add_subcommand(
      "verify", "Check every hash link and checkpoint signature; name the first edited, removed, inserted, reordered "
                "or truncated record (exit 1)");
  verify->add_option("file", verify_args->file, "The audit log (JSON lines)")->required();
  verify->add_option("--pubkey", verify_args->pubkey,
                     "The operator's public key (PEM) the checkpoints must verify with (default: the key in the log)");
  verify->add_option("--anchor", verify_args->anchor,
                     "A copy of the last signed checkpoint (default: FILE.head when present; - for none)");
  verify->callback([verify_args] {
    const int code = run_verify(*verify_args);
    if (code != 0) throw CLI::RuntimeError(code);
  });

  auto write_args = std::make_shared<AuditWriteArgs>();
  CLI::App* write = audit->add_subcommand("write", "Append synthetic records (crash tests, throughput)");
  write->add_option("file", write_args->file, "The audit log")->required();
  write->add_option("--key", write_args->key, "Signing key PEM (default: audit-signing-key.pem beside the log)");
  write->add_option("--records", write_args->records, "Records to append")->capture_default_str();
  write->add_option("--checkpoint-every", write_args->checkpoint_every, "Records between signed checkpoints")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  write->add_option("--prompt-bytes", write_args->prompt_bytes, "Stored prompt size per record")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  write->callback([write_args] {
    const int code = run_write(*write_args);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace frugal::cli
