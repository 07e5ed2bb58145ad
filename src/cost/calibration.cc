#include "cost/calibration.h"

#include <nlohmann/json.hpp>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace frugal {
namespace {

using nlohmann::json;

Expected<double> read_number(const json& obj, const char* field, const std::string& where) {
  auto it = obj.find(field);
  if (it == obj.end()) return invalid_argument(where + ": field '" + field + "' is missing");
  if (!it->is_number() || !std::isfinite(it->get<double>()) || it->get<double>() < 0) {
    return invalid_argument(where + ": field '" + field + "' must be a finite number >= 0");
  }
  return it->get<double>();
}

std::string read_string(const json& obj, const char* field) {
  auto it = obj.find(field);
  return (it != obj.end() && it->is_string()) ? it->get<std::string>() : std::string();
}

Expected<CalibrationPoint> parse_point(const json& p, const std::string& where) {
  if (!p.is_object()) return invalid_argument(where + " must be an object");
  CalibrationPoint point;
  point.weight_type = read_string(p, "weight_type");
  if (point.weight_type.empty()) return invalid_argument(where + ": field 'weight_type' must be a non-empty string");
  auto batch = read_number(p, "batch", where);
  if (!batch) return batch.error();
  auto context = read_number(p, "context", where);
  if (!context) return context.error();
  auto mbu = read_number(p, "mbu", where);
  if (!mbu) return mbu.error();
  auto mfu = read_number(p, "mfu", where);
  if (!mfu) return mfu.error();
  if (*batch < 1) return invalid_argument(where + ": field 'batch' must be >= 1");
  if (*mbu > 1.0 || *mfu > 1.0) return invalid_argument(where + ": 'mbu' and 'mfu' are fractions in [0, 1]");
  point.batch = static_cast<int64_t>(*batch);
  point.context = static_cast<int64_t>(*context);
  point.mbu = *mbu;
  point.mfu = *mfu;
  return point;
}

double lerp_by_batch(const CalibrationPoint& a, const CalibrationPoint& b, int64_t batch, bool mbu) {
  const double va = mbu ? a.mbu : a.mfu;
  const double vb = mbu ? b.mbu : b.mfu;
  if (b.batch == a.batch) return va;
  const double t = static_cast<double>(batch - a.batch) / static_cast<double>(b.batch - a.batch);
  return va + t * (vb - va);
}

}  // namespace

std::string calibration_to_json(const CalibrationRecord& r) {
  json points = json::array();
  for (const CalibrationPoint& p : r.points) {
    points.push_back({{"weight_type", p.weight_type}, {"batch", p.batch}, {"context", p.context}, {"mbu", p.mbu},
                      {"mfu", p.mfu}});
  }
  json doc = {{"schema", kCalibrationSchema},       {"machine_id", r.machine_id},
              {"cpu_model", r.cpu_model},           {"created_utc", r.created_utc},
              {"memory_bytes", r.memory_bytes},     {"read_gb_per_s", r.read_gb_per_s},
              {"triad_gb_per_s", r.triad_gb_per_s}, {"peak_flops_per_s", r.peak_flops_per_s},
              {"points", points}};
  return doc.dump(2) + "\n";
}

Expected<CalibrationRecord> calibration_from_json(const std::string& json_text, const std::string& origin) {
  json doc;
  try {
    doc = json::parse(json_text);
  } catch (const json::exception& e) {
    return invalid_argument(origin + ": not valid JSON: " + e.what());
  }
  if (!doc.is_object()) return invalid_argument(origin + ": expected a JSON object");
  if (read_string(doc, "schema") != kCalibrationSchema) {
    return invalid_argument(origin + ": field 'schema' must be \"" + std::string(kCalibrationSchema) + "\"");
  }
  CalibrationRecord r;
  r.machine_id = read_string(doc, "machine_id");
  r.cpu_model = read_string(doc, "cpu_model");
  r.created_utc = read_string(doc, "created_utc");
  struct Field { const char* name; double* out; };
  for (const Field& f : {Field{"memory_bytes", &r.memory_bytes}, Field{"read_gb_per_s", &r.read_gb_per_s},
                         Field{"triad_gb_per_s", &r.triad_gb_per_s}, Field{"peak_flops_per_s", &r.peak_flops_per_s}}) {
    auto v = read_number(doc, f.name, origin);
    if (!v) return v.error();
    *f.out = *v;
  }
  if (r.read_gb_per_s <= 0) return invalid_argument(origin + ": field 'read_gb_per_s' must be > 0");
  if (r.peak_flops_per_s <= 0) return invalid_argument(origin + ": field 'peak_flops_per_s' must be > 0");
  if (doc.contains("points")) {
    if (!doc["points"].is_array()) return invalid_argument(origin + ": field 'points' must be an array");
    for (size_t i = 0; i < doc["points"].size(); ++i) {
      auto p = parse_point(doc["points"][i], origin + ": points[" + std::to_string(i) + "]");
      if (!p) return p.error();
      r.points.push_back(std::move(*p));
    }
  }
  return r;
}

Expected<CalibrationRecord> load_calibration(const std::string& path) {
  std::ifstream in(path);
  if (!in) return not_found("no calibration record at " + path + " (run `frugal bench` or pass --calibration FILE)");
  std::stringstream ss;
  ss << in.rdbuf();
  return calibration_from_json(ss.str(), path);
}

Status save_calibration(const CalibrationRecord& record, const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path target(path);
  if (target.has_parent_path()) fs::create_directories(target.parent_path(), ec);
  if (ec) return unavailable("cannot create " + target.parent_path().string() + ": " + ec.message());
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return unavailable("cannot write " + tmp);
    out << calibration_to_json(record);
    if (!out) return unavailable("write failed: " + tmp);
  }
  fs::rename(tmp, target, ec);
  if (ec) return unavailable("cannot rename " + tmp + " to " + path + ": " + ec.message());
  return Status::ok();
}

std::string resolve_calibration_path(const std::string& explicit_path) {
  if (!explicit_path.empty()) return explicit_path;
  if (const char* env = std::getenv("FRUGAL_CALIBRATION"); env != nullptr && *env != '\0') return env;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
    return std::string(xdg) + "/frugal/calibration.json";
  }
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : ".") + "/.cache/frugal/calibration.json";
}

std::optional<Efficiency> calibrated_efficiency(const CalibrationRecord& record, std::string_view weight_type,
                                                int64_t batch, int64_t context) {
  if (record.points.empty()) return std::nullopt;
  // Candidates: the same weight type when measured, else every point.
  std::vector<CalibrationPoint> same;
  for (const CalibrationPoint& p : record.points) {
    if (p.weight_type == weight_type) same.push_back(p);
  }
  if (same.empty()) same = record.points;
  // The nearest measured context (log distance: 512 vs 1024 matters more than 8192 vs 8704).
  auto log_distance = [context](const CalibrationPoint& p) {
    return std::fabs(std::log1p(static_cast<double>(p.context)) - std::log1p(static_cast<double>(context)));
  };
  const double best = log_distance(*std::min_element(same.begin(), same.end(), [&](const auto& a, const auto& b) {
    return log_distance(a) < log_distance(b);
  }));
  std::vector<CalibrationPoint> row;
  for (const CalibrationPoint& p : same) {
    if (log_distance(p) <= best + 1e-12) row.push_back(p);
  }
  std::sort(row.begin(), row.end(), [](const auto& a, const auto& b) { return a.batch < b.batch; });
  // Linear interpolation over batch between the bracketing points; clamped outside the range.
  if (batch <= row.front().batch) return Efficiency{row.front().mbu, row.front().mfu};
  if (batch >= row.back().batch) return Efficiency{row.back().mbu, row.back().mfu};
  for (size_t i = 1; i < row.size(); ++i) {
    if (batch <= row[i].batch) {
      return Efficiency{lerp_by_batch(row[i - 1], row[i], batch, true), lerp_by_batch(row[i - 1], row[i], batch, false)};
    }
  }
  return Efficiency{row.back().mbu, row.back().mfu};
}

Accelerator accelerator_from_calibration(const CalibrationRecord& record) {
  Accelerator a;
  a.name = kThisMachineName;
  a.description = "this machine (" + (record.cpu_model.empty() ? record.machine_id : record.cpu_model) + ", measured)";
  a.kind = AcceleratorKind::kCpu;
  a.memory_bytes = record.memory_bytes;
  if (a.memory_bytes <= 0) {
    const long pages = ::sysconf(_SC_PHYS_PAGES);
    const long page_bytes = ::sysconf(_SC_PAGE_SIZE);
    a.memory_bytes = pages > 0 && page_bytes > 0 ? static_cast<double>(pages) * static_cast<double>(page_bytes) : 0;
  }
  a.memory_bandwidth_bytes_per_s = record.read_gb_per_s * 1e9;
  a.bf16_dense_flops_per_s = record.peak_flops_per_s;
  a.int8_dense_ops_per_s = record.peak_flops_per_s;
  a.interconnect_type = "none";
  a.source_datasheet = "measured by frugal bench on " + record.machine_id + " at " + record.created_utc;
  a.source_cloud_price = "not applicable (owned machine; pass --usd-per-hour)";
  a.source_purchase_price = "not applicable";
  a.measured = true;
  return a;
}

}  // namespace frugal
