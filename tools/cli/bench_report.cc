#include "bench_report.h"

#include <nlohmann/json.hpp>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>

namespace frugal::cli {
namespace {

using nlohmann::json;

std::vector<double> sorted(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v;
}

double achieved_fraction(double achieved, double peak) { return peak > 0 ? achieved / peak : 0.0; }

}  // namespace

std::string hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0) return "unknown";
  return buf;
}

std::string cpu_model_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  return "";
}

std::string utc_now_iso8601() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string BenchRow::test_name() const {
  if (n_prompt > 0) return "pp" + std::to_string(n_prompt);
  return "tg" + std::to_string(n_gen) + (n_depth > 0 ? "@d" + std::to_string(n_depth) : "");
}
double BenchRow::tps_min() const { return tokens_per_s.empty() ? 0 : sorted(tokens_per_s).front(); }
double BenchRow::tps_max() const { return tokens_per_s.empty() ? 0 : sorted(tokens_per_s).back(); }
double BenchRow::tps_median() const {
  if (tokens_per_s.empty()) return 0;
  const std::vector<double> s = sorted(tokens_per_s);
  const size_t mid = s.size() / 2;
  return s.size() % 2 == 1 ? s[mid] : 0.5 * (s[mid - 1] + s[mid]);
}
MbuReading BenchRow::mbu() const { return gate_mbu(probe.trust, achieved_bytes_per_s(), probe.read_gb_per_s * 1e9); }
MfuReading BenchRow::mfu() const {
  const double f = achieved_fraction(flops_per_token * tps_median(), probe.peak_flops_per_s);
  if (!probe.trust.host_quiet) return {std::nullopt, judge_host(probe.trust.host).summary() + "; MFU not reported"};
  if (f > 1.0) {
    char buf[160];
    std::snprintf(buf, sizeof(buf), "achieved FLOP/s is %.0f %% of the FMA probe's peak (a disturbed probe); MFU not reported",
                  100 * f);
    return {std::nullopt, buf};
  }
  return {f, ""};
}

void print_table_header() {
  std::printf("| %-28s | %-7s | %9s | %7s | %10s | %11s | %10s | %10s | %6s | %6s |\n", "model", "type", "size", "threads",
              "test", "t/s median", "t/s min", "t/s max", "MBU", "MFU");
  std::printf("| :--------------------------- | :------ | --------: | ------: | ---------: | ----------: | ---------: | ---------: | -----: | -----: |\n");
}

void print_table_row(const BenchRow& r) {
  std::string name = r.model.substr(r.model.find_last_of('/') == std::string::npos ? 0 : r.model.find_last_of('/') + 1);
  const bool gib = r.model_bytes >= 1024.0 * 1024.0 * 1024.0;
  const double size = r.model_bytes / (gib ? 1024.0 * 1024.0 * 1024.0 : 1024.0 * 1024.0);
  const MbuReading mbu = r.mbu();
  const MfuReading mfu = r.mfu();
  char mbu_text[16] = "n/a", mfu_text[16] = "n/a";
  if (mbu.mbu) std::snprintf(mbu_text, sizeof(mbu_text), "%5.1f%%", 100 * *mbu.mbu);
  if (mfu.mfu) std::snprintf(mfu_text, sizeof(mfu_text), "%5.1f%%", 100 * *mfu.mfu);
  std::printf("| %-28s | %-7s | %5.2f %s | %7d | %10s | %11.2f | %10.2f | %10.2f | %6s | %6s |\n", name.c_str(),
              r.weight_type.c_str(), size, gib ? "GiB" : "MiB", r.threads, r.test_name().c_str(),
              r.tps_median(), r.tps_min(), r.tps_max(), mbu_text, mfu_text);
  std::fflush(stdout);
}

void print_withheld_efficiency_notes(const std::vector<BenchRow>& rows) {
  // (figure, reason) -> rows, in first-seen order
  std::vector<std::pair<std::pair<const char*, std::string>, int>> reasons;
  auto count = [&](const char* figure, const std::string& why) {
    auto it = std::find_if(reasons.begin(), reasons.end(),
                           [&](const auto& e) { return e.first.first == figure && e.first.second == why; });
    if (it == reasons.end()) {
      reasons.push_back({{figure, why}, 1});
    } else {
      ++it->second;
    }
  };
  for (const BenchRow& r : rows) {
    if (const MbuReading m = r.mbu(); !m.mbu) count("MBU", m.withheld);
    if (const MfuReading m = r.mfu(); !m.mfu) count("MFU", m.withheld);
  }
  for (const auto& [key, n] : reasons) {
    std::printf("# %s n/a for %d row%s: %s\n", key.first, n, n == 1 ? "" : "s", key.second.c_str());
  }
  std::fflush(stdout);
}

std::string row_to_json_line(const BenchRow& r) {
  json j = {{"model", r.model},
            {"weight_type", r.weight_type},
            {"model_bytes", r.model_bytes},
            {"n_params", r.n_params},
            {"threads", r.threads},
            {"test", r.test_name()},
            {"n_prompt", r.n_prompt},
            {"n_gen", r.n_gen},
            {"n_depth", r.n_depth},
            {"repetitions", r.tokens_per_s.size()},
            {"tokens_per_s", r.tokens_per_s},
            {"tokens_per_s_min", r.tps_min()},
            {"tokens_per_s_median", r.tps_median()},
            {"tokens_per_s_max", r.tps_max()},
            {"bytes_per_token", r.bytes_per_token},
            {"flops_per_token", r.flops_per_token},
            {"read_gb_per_s", r.probe.read_gb_per_s},
            {"probe_trusted", r.probe.trust.trusted},
            {"peak_flops_per_s", r.probe.peak_flops_per_s}};
  // "mbu": a number in (0, 1], or null with "mbu_withheld" saying why (membw_trust.h).
  const MbuReading mbu = r.mbu();
  if (mbu.mbu) {
    j["mbu"] = *mbu.mbu;
  } else {
    j["mbu"] = nullptr;
    j["mbu_withheld"] = mbu.withheld;
  }
  // "mfu" likewise: a number in (0, 1], or null with "mfu_withheld".
  const MfuReading mfu = r.mfu();
  if (mfu.mfu) {
    j["mfu"] = *mfu.mfu;
  } else {
    j["mfu"] = nullptr;
    j["mfu_withheld"] = mfu.withheld;
  }
  return j.dump();
}

void print_probe_table_header() {
  std::printf("| %7s | %9s | %10s | %12s | %9s | %7s | %9s | %10s | %16s | %-8s | %-7s |\n", "threads", "array",
              "read GB/s", "read median", "read min", "spread", "copy GB/s", "triad GB/s", "peak GFLOP/s f32",
              "FMA loop", "trusted");
  std::printf("| ------: | --------: | ---------: | -----------: | --------: | ------: | --------: | ---------: | "
              "---------------: | -------- | ------- |\n");
}

void print_probe_row(const ProbeFigures& p) {
  std::printf("| %7d | %5lld MiB | %10.2f | %12.2f | %9.2f | %5.1f %% | %9.2f | %10.2f | %16.1f | %-8s | %-7s |\n",
              p.threads, static_cast<long long>(p.array_bytes >> 20), p.read.best, p.read.median, p.read.min,
              100 * p.read.relative_spread(), p.copy_gb_per_s, p.triad_gb_per_s, p.peak_flops_per_s / 1e9,
              p.flops_variant.c_str(), p.trust.trusted ? "yes" : "no");
  std::fflush(stdout);
}

void print_probe_notes(const ProbeFigures& p) {
  const HostActivity& h = p.trust.host;
  std::printf("# %d thread%s: %s; host during the probe: load %.2f on %d cores, steal %.1f %%, other processes %.1f %% "
              "of the CPUs over %.1f s\n",
              p.threads, p.threads == 1 ? "" : "s", p.trust.method.c_str(), h.load1, h.cores, 100 * h.steal_share, 100 * h.other_cpu_share,
              h.window_s);
  if (p.trust.trusted) {
    std::printf("# %d thread%s: probe trusted: MBU is reported against %.2f GB/s read\n", p.threads,
                p.threads == 1 ? "" : "s", p.read_gb_per_s);
  } else {
    std::printf("# %d thread%s: %s\n", p.threads, p.threads == 1 ? "" : "s", p.trust.why_no_mbu().c_str());
  }
  std::fflush(stdout);
}

std::string probe_to_json_line(const ProbeFigures& p) {
  const HostActivity& h = p.trust.host;
  json j = {{"threads", p.threads},
            {"array_mib", p.array_bytes >> 20},
            {"llc_bytes", p.llc_bytes},
            {"repetitions", p.repetitions},
            {"read_gb_per_s", p.read_gb_per_s},
            {"read_median_gb_per_s", p.read.median},
            {"read_min_gb_per_s", p.read.min},
            {"read_relative_spread", p.read.relative_spread()},
            {"copy_gb_per_s", p.copy_gb_per_s},
            {"triad_gb_per_s", p.triad_gb_per_s},
            {"peak_flops_per_s", p.peak_flops_per_s},
            {"flops_variant", p.flops_variant},
            {"method", p.trust.method},
            {"host", {{"load1", h.load1}, {"cores", h.cores}, {"steal_share", h.steal_share},
                      {"other_cpu_share", h.other_cpu_share}, {"window_s", h.window_s}}},
            {"host_quiet", p.trust.host_quiet},
            {"trusted", p.trust.trusted},
            {"reasons", p.trust.reasons}};
  return j.dump();
}

CalibrationRecord build_calibration(const std::vector<BenchRow>& rows, const ProbeFigures& machine, bool best) {
  CalibrationRecord rec;
  rec.machine_id = hostname();
  rec.cpu_model = cpu_model_name();
  rec.created_utc = utc_now_iso8601();
  rec.read_gb_per_s = machine.read_gb_per_s;
  rec.triad_gb_per_s = machine.triad_gb_per_s;
  rec.peak_flops_per_s = machine.peak_flops_per_s;
  rec.probe.method = machine.trust.method;
  rec.probe.read_median_gb_per_s = machine.read.median;
  rec.probe.read_min_gb_per_s = machine.read.min;
  rec.probe.read_relative_spread = machine.read.relative_spread();
  rec.probe.host_quiet = machine.trust.host_quiet;
  rec.probe.trusted = machine.trust.trusted;
  rec.probe.verdict = machine.trust.trusted ? "trusted" : machine.trust.why_no_mbu();
  int point_threads = 0;
  for (const BenchRow& r : rows) {
    if (r.threads == machine.threads) point_threads = machine.threads;
  }
  if (point_threads == 0) {
    for (const BenchRow& r : rows) point_threads = std::max(point_threads, r.threads);
  }
  for (const BenchRow& r : rows) {
    if (r.threads != point_threads) continue;
    CalibrationPoint p;
    p.weight_type = r.weight_type;
    // pp: the planner's prefill looks up (batch = prompt tokens, context = prompt tokens);
    // tg: one sequence at the test's mean context (step s attends over depth + s + 1 positions).
    const bool pp = r.n_prompt > 0;
    p.phase = pp ? CalibrationPhase::kPrefill : CalibrationPhase::kDecode;
    p.batch = pp ? r.n_prompt : 1;
    p.context = pp ? r.n_prompt : r.n_depth + 1 + (r.n_gen + 1) / 2;
    const double tps = best ? r.tps_max() : r.tps_median();
    p.mbu = std::clamp(achieved_fraction(r.bytes_per_token * tps, machine.read_gb_per_s * 1e9), 0.0,
                       kMaxCalibratedEfficiency);
    p.mfu = std::clamp(achieved_fraction(r.flops_per_token * tps, machine.peak_flops_per_s), 0.0,
                       kMaxCalibratedEfficiency);
    // The key the planner matches models by (calibration_store.h).
    p.model_name = std::filesystem::path(r.model).filename().string();
    p.model_params = r.n_params;
    p.model_weight_bytes = r.tensor_bytes > 0 ? r.tensor_bytes : r.model_bytes;
    p.model_n_layer = r.n_layer;
    p.model_n_embd = r.n_embd;
    p.measured_utc = rec.created_utc;
    rec.points.push_back(p);
  }
  return rec;
}

}  // namespace frugal::cli
