#include "cost/calibration.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string_view>
#include <utility>

#include "core/user_files.h"

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
  if (*mbu > kMaxCalibratedEfficiency || *mfu > kMaxCalibratedEfficiency) {
    return invalid_argument(where + ": 'mbu' and 'mfu' must be <= " + std::to_string(kMaxCalibratedEfficiency));
  }
  point.batch = static_cast<int64_t>(*batch);
  point.context = static_cast<int64_t>(*context);
  point.mbu = *mbu;
  point.mfu = *mfu;
  const std::string phase = read_string(p, "phase");
  if (phase == "prefill") {
    point.phase = CalibrationPhase::kPrefill;
  } else if (phase.empty()) {
    // Records written before the field existed stored pp tests as batch = context = prompt tokens.
    point.phase = point.batch > 1 && point.batch == point.context ? CalibrationPhase::kPrefill : CalibrationPhase::kDecode;
  } else if (phase != "decode") {
    return invalid_argument(where + ": field 'phase' must be \"decode\" or \"prefill\"");
  }
  if (auto m = p.find("model"); m != p.end()) {
    if (!m->is_object()) return invalid_argument(where + ": field 'model' must be an object");
    point.model_name = read_string(*m, "name");
    for (auto [field, out] : {std::pair<const char*, double*>{"params", &point.model_params},
                              std::pair<const char*, double*>{"weight_bytes", &point.model_weight_bytes}}) {
      auto v = read_number(*m, field, where + ".model");
      if (!v) return v.error();
      *out = *v;
    }
    point.model_n_layer = m->value("n_layer", int64_t{0});
    point.model_n_embd = m->value("n_embd", int64_t{0});
  }
  point.measured_utc = read_string(p, "measured_utc");
  return point;
}

Efficiency lerp(const Efficiency& a, const Efficiency& b, double t) {
  return Efficiency{a.mbu + t * (b.mbu - a.mbu), a.mfu + t * (b.mfu - a.mfu)};
}

// Linear in time per unit of work: time_i = work_i / efficiency_i, interpolated, converted back at
// x's work. Falls back to linear in efficiency where a figure is missing (0).
double lerp_in_time(double work_a, double eff_a, double work_b, double eff_b, double work_x, double t) {
  if (work_a <= 0 || work_b <= 0 || work_x <= 0 || eff_a <= 0 || eff_b <= 0) return eff_a + t * (eff_b - eff_a);
  const double time = work_a / eff_a + t * (work_b / eff_b - work_a / eff_a);
  return work_x / time;
}

// Piecewise-linear interpolation of (x -> efficiency) at x, the nearest measured value outside the
// measured range. work_at(x) is the work at coordinate x (empty: linear in efficiency).
// Precondition: `curve` is non-empty; x values are distinct (a map's keys).
Efficiency interpolate(const std::map<int64_t, Efficiency>& curve, int64_t x,
                       const std::function<CalibrationWork(int64_t)>& work_at) {
  auto upper = curve.lower_bound(x);
  if (upper == curve.end()) return std::prev(upper)->second;
  if (upper->first == x || upper == curve.begin()) return upper->second;
  auto lower = std::prev(upper);
  const double t = static_cast<double>(x - lower->first) / static_cast<double>(upper->first - lower->first);
  if (!work_at) return lerp(lower->second, upper->second, t);
  const CalibrationWork wa = work_at(lower->first), wb = work_at(upper->first), wx = work_at(x);
  return Efficiency{lerp_in_time(wa.bytes, lower->second.mbu, wb.bytes, upper->second.mbu, wx.bytes, t),
                    lerp_in_time(wa.flops, lower->second.mfu, wb.flops, upper->second.mfu, wx.flops, t)};
}

// The points calibrated_efficiency interpolates over: the most specific non-empty selection.
std::vector<CalibrationPoint> candidate_points(const CalibrationRecord& record, std::string_view weight_type,
                                               CalibrationPhase phase) {
  auto select = [&](bool same_type, bool same_phase) {
    std::vector<CalibrationPoint> out;
    for (const CalibrationPoint& p : record.points) {
      if ((!same_type || p.weight_type == weight_type) && (!same_phase || p.phase == phase)) out.push_back(p);
    }
    return out;
  };
  constexpr std::pair<bool, bool> kPreferences[] = {{true, true}, {true, false}, {false, true}, {false, false}};
  for (const auto& [same_type, same_phase] : kPreferences) {
    std::vector<CalibrationPoint> out = select(same_type, same_phase);
    if (!out.empty()) return out;
  }
  return {};
}

json point_to_json(const CalibrationPoint& p) {
  json j = {{"weight_type", p.weight_type}, {"phase", std::string(calibration_phase_name(p.phase))},
            {"batch", p.batch}, {"context", p.context}, {"mbu", p.mbu}, {"mfu", p.mfu}};
  if (p.model_weight_bytes > 0) {
    j["model"] = {{"name", p.model_name}, {"params", p.model_params}, {"weight_bytes", p.model_weight_bytes},
                  {"n_layer", p.model_n_layer}, {"n_embd", p.model_n_embd}};
  }
  if (!p.measured_utc.empty()) j["measured_utc"] = p.measured_utc;
  return j;
}

Status parse_points(const json& doc, const char* field, const std::string& origin, std::vector<CalibrationPoint>& out) {
  if (!doc.contains(field)) return Status::ok();
  if (!doc[field].is_array()) return invalid_argument(origin + ": field '" + field + "' must be an array");
  for (size_t i = 0; i < doc[field].size(); ++i) {
    auto p = parse_point(doc[field][i], origin + ": " + field + "[" + std::to_string(i) + "]");
    if (!p) return p.error();
    out.push_back(std::move(*p));
  }
  return Status::ok();
}

// The optional "probe" object; a record without it keeps an empty method.
Status parse_probe(const json& doc, const std::string& origin, CalibrationProbe& out) {
  auto it = doc.find("probe");
  if (it == doc.end()) return Status::ok();
  const std::string where = origin + ": probe";
  if (!it->is_object()) return invalid_argument(where + " must be an object");
  out.method = read_string(*it, "method");
  out.verdict = read_string(*it, "verdict");
  struct Field { const char* name; double* out; };
  for (const Field& f : {Field{"read_median_gb_per_s", &out.read_median_gb_per_s},
                         Field{"read_min_gb_per_s", &out.read_min_gb_per_s},
                         Field{"read_relative_spread", &out.read_relative_spread}}) {
    auto v = read_number(*it, f.name, where);
    if (!v) return v.error();
    *f.out = *v;
  }
  for (auto [name, flag] : {std::pair{"host_quiet", &out.host_quiet}, std::pair{"trusted", &out.trusted}}) {
    auto b = it->find(name);
    if (b == it->end() || !b->is_boolean()) return invalid_argument(where + ": field '" + name + "' must be true or false");
    *flag = b->get<bool>();
  }
  return Status::ok();
}

}  // namespace

std::string calibration_to_json(const CalibrationRecord& r) {
  json points = json::array(), history = json::array();
  for (const CalibrationPoint& p : r.points) points.push_back(point_to_json(p));
  for (const CalibrationPoint& p : r.history) history.push_back(point_to_json(p));
  json doc = {{"schema", kCalibrationSchema},       {"machine_id", r.machine_id},
              {"cpu_model", r.cpu_model},           {"created_utc", r.created_utc},
              {"memory_bytes", r.memory_bytes},     {"read_gb_per_s", r.read_gb_per_s},
              {"triad_gb_per_s", r.triad_gb_per_s}, {"peak_flops_per_s", r.peak_flops_per_s},
              {"points", points}};
  if (!history.empty()) doc["history"] = history;
  if (!r.probe.method.empty()) {
    doc["probe"] = {{"method", r.probe.method},
                    {"read_median_gb_per_s", r.probe.read_median_gb_per_s},
                    {"read_min_gb_per_s", r.probe.read_min_gb_per_s},
                    {"read_relative_spread", r.probe.read_relative_spread},
                    {"host_quiet", r.probe.host_quiet},
                    {"trusted", r.probe.trusted},
                    {"verdict", r.probe.verdict}};
  }
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
  if (Status s = parse_probe(doc, origin, r.probe); !s) return s;
  if (Status s = parse_points(doc, "points", origin, r.points); !s) return s;
  if (Status s = parse_points(doc, "history", origin, r.history); !s) return s;
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
  return write_file_atomically(path, calibration_to_json(record));
}

std::string resolve_calibration_path(const std::string& explicit_path) {
  return user_cache_file(explicit_path, "FRUGAL_CALIBRATION", "calibration.json");
}

std::string_view calibration_phase_name(CalibrationPhase phase) {
  switch (phase) {
    case CalibrationPhase::kDecode: return "decode";
    case CalibrationPhase::kPrefill: return "prefill";
  }
  return "decode";
}

std::optional<Efficiency> calibrated_efficiency(const CalibrationRecord& record, std::string_view weight_type,
                                                int64_t batch, int64_t context, CalibrationPhase phase,
                                                const CalibrationWorkFn& work) {
  const std::vector<CalibrationPoint> points = candidate_points(record, weight_type, phase);
  if (points.empty()) return std::nullopt;
  // [batch][context] -> efficiency; a repeated (batch, context) keeps the last point.
  std::map<int64_t, std::map<int64_t, Efficiency>> grid;
  for (const CalibrationPoint& p : points) grid[p.batch][p.context] = Efficiency{p.mbu, p.mfu};
  // First along context within each measured batch, then along batch.
  std::map<int64_t, Efficiency> by_batch;
  for (const auto& [measured_batch, by_context] : grid) {
    const int64_t b = measured_batch;
    std::function<CalibrationWork(int64_t)> along_context;
    if (work) along_context = [&work, b](int64_t c) { return work(b, c); };
    by_batch[b] = interpolate(by_context, context, along_context);
  }
  std::function<CalibrationWork(int64_t)> along_batch;
  if (work) along_batch = [&work, context](int64_t b) { return work(b, context); };
  return interpolate(by_batch, batch, along_batch);
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
