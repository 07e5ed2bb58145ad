// `frugal worker` (tools layer): a video job worker without HTTP. It claims the jobs of the tiers it
// serves (--tiers draft,preview; default all) from the shared Redis Streams job store
// (--job-store redis://..., jobs/redis_job_store.h), runs them with a VideoWorker per --video-model,
// reports progress, stores the files in --video-state/files and the job's end in the store; `frugal
// serve --no-video-workers` nodes answer the clients. SIGTERM/SIGINT drain: nothing new is claimed,
// a running job gets --drain-timeout seconds to finish, then it is cancelled and released to the
// queue (another worker runs it from the start): no job is lost. The video flags are `frugal
// serve`'s (serve_video.h), as is the audit log (serve_audit.h).
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli_common.h"
#include "cli_worker.h"
#include "serve_audit.h"
#include "serve_video.h"

namespace frugal::cli {
namespace {

struct WorkerArgs {
  ServeVideoFlags video;
  ServeAuditFlags audit;
  int threads = 0;
  double price_per_hour = 0;
  double drain_timeout_s = 30;
};

int run_worker(WorkerArgs& args) {
  // SIGINT/SIGTERM go to the waiting main thread: blocked before any thread starts.
  sigset_t stop_signals = block_stop_signals();
  if (args.video.job_store.rfind("redis://", 0) != 0) {
    return report_error(invalid_argument("frugal worker needs the queue it shares with the API nodes: --job-store "
                                         "redis://HOST[:PORT][/DB]"));
  }
  if (args.video.model_values.empty()) return report_error(invalid_argument("frugal worker needs --video-model NAME=DIR"));
  auto audit_log = open_serve_audit_log(args.audit, args.video);
  if (!audit_log) return report_error(audit_log.error());
  ServeVideoFlags flags = args.video;
  flags.threads = args.threads;
  flags.usd_per_hour = args.price_per_hour;
  flags.audit = audit_log->get();
  MetricsRegistry registry;
  auto service = start_video_service(flags, &registry);
  if (!service) return report_error(service.error());
  std::string tiers;
  for (const std::string& tier : flags.served_tiers) tiers += (tiers.empty() ? "" : ",") + tier;
  std::printf("frugal: worker ready (tiers: %s); SIGTERM drains\n", tiers.empty() ? "all" : tiers.c_str());
  std::fflush(stdout);
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  std::fprintf(stderr, "frugal: signal %d: draining the worker for up to %.0f s\n", signal_number, args.drain_timeout_s);
  (*service)->drain(std::chrono::milliseconds(static_cast<int64_t>(args.drain_timeout_s * 1000)));
  service->reset();
  std::fprintf(stderr, "frugal: worker stopped\n");
  return 0;
}

}  // namespace

void register_worker(CLI::App& app) {
  auto args = std::make_shared<WorkerArgs>();
  CLI::App* cmd = app.add_subcommand(
      "worker", "Run video jobs from a shared Redis queue (no HTTP; API nodes: frugal serve --no-video-workers)");
  add_serve_video_flags(*cmd, args->video);
  cmd->add_option("--tiers", args->video.served_tiers, "The video tiers this worker runs, e.g. draft,preview (default: all)")
      ->delimiter(',');
  cmd->add_option("-t,--threads", args->threads, "Compute threads (0 = all cores)");
  cmd->add_option("--price-per-hour", args->price_per_hour, "USD per hour of this machine: each job's cost_usd")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--drain-timeout", args->drain_timeout_s,
                  "Seconds a running job gets to finish on SIGTERM before it is released to the queue")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  add_serve_audit_flags(*cmd, args->audit);
  cmd->callback([args] {
    const int code = run_worker(*args);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace frugal::cli
