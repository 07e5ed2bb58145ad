#include "cost/deploy_workload.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "cost/video_model.h"

namespace frugal {
namespace {

using nlohmann::json;

// Approximate medians of public inter-region round trips (ms) between the cloud regions of the
// same names (cloudping-style tables, 2024); an assumption, see docs/COST-MODEL.md.
struct RegionInfo {
  const char* name;
  int utc_offset_hours;  // typical local time of the users served there
};
constexpr RegionInfo kRegions[] = {{"us-east", -5},     {"us-west", -8},      {"eu-west", 0},      {"eu-central", 1},
                                   {"ap-south", 5},     {"ap-northeast", 9},  {"ap-southeast", 8}, {"sa-east", -3}};
constexpr int kRegionCount = sizeof(kRegions) / sizeof(kRegions[0]);
constexpr double kRttMs[kRegionCount][kRegionCount] = {
    // us-e us-w  eu-w  eu-c  ap-s  ap-ne ap-se sa-e
    {0, 65, 75, 90, 190, 150, 220, 115},     // us-east
    {65, 0, 135, 150, 220, 105, 170, 175},   // us-west
    {75, 135, 0, 25, 120, 210, 165, 185},    // eu-west
    {90, 150, 25, 0, 115, 225, 160, 200},    // eu-central
    {190, 220, 120, 115, 0, 130, 60, 300},   // ap-south
    {150, 105, 210, 225, 130, 0, 70, 255},   // ap-northeast
    {220, 170, 165, 160, 60, 70, 0, 320},    // ap-southeast
    {115, 175, 185, 200, 300, 255, 320, 0},  // sa-east
};

int region_index(const std::string& name) {
  for (int i = 0; i < kRegionCount; ++i) {
    if (name == kRegions[i].name) return i;
  }
  return -1;
}

std::string shown(double v) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

// Errors name the document and the field.
struct Reader {
  const std::string& origin;
  Status bad(const std::string& field, const std::string& what) const {
    return invalid_argument(origin + ": field '" + field + "' " + what);
  }
  Status number(const json& obj, const char* key, const std::string& path, double& out) const {
    if (!obj.contains(key)) return Status::ok();
    const json& v = obj.at(key);
    if (!v.is_number()) return bad(path, "must be a number");
    out = v.get<double>();
    if (!std::isfinite(out)) return bad(path, "must be finite");
    return Status::ok();
  }
  Status integer(const json& obj, const char* key, const std::string& path, int64_t& out) const {
    if (!obj.contains(key)) return Status::ok();
    const json& v = obj.at(key);
    if (!v.is_number_integer()) return bad(path, "must be an integer");
    out = v.get<int64_t>();
    return Status::ok();
  }
  Status text(const json& obj, const char* key, const std::string& path, std::string& out) const {
    if (!obj.contains(key)) return Status::ok();
    const json& v = obj.at(key);
    if (!v.is_string() || v.get<std::string>().empty()) return bad(path, "must be a non-empty string");
    out = v.get<std::string>();
    return Status::ok();
  }
  Status only_keys(const json& obj, const std::string& path, const std::set<std::string>& keys) const {
    if (!obj.is_object()) return bad(path.empty() ? "(document)" : path, "must be a JSON object");
    for (const auto& [k, v] : obj.items()) {
      if (!keys.count(k)) {
        std::string known;
        for (const std::string& s : keys) known += (known.empty() ? "" : ", ") + s;
        return bad(path.empty() ? k : path + "." + k, "is not a workload field (known: " + known + ")");
      }
    }
    return Status::ok();
  }
};

Status check_range(const Reader& r, const std::string& field, double v, double lo, double hi, bool lo_open) {
  if (lo_open ? v <= lo : v < lo) return r.bad(field, "must be " + std::string(lo_open ? "> " : ">= ") + shown(lo) + " (got " + shown(v) + ")");
  if (v > hi) return r.bad(field, "must be <= " + shown(hi) + " (got " + shown(v) + ")");
  return Status::ok();
}

Status read_pricing(const Reader& r, const json& p, DeployPricing& out) {
  const std::set<std::string> keys = {"edge_price_factor", "access_rtt_ms", "max_utilisation", "serverless_price_factor",
                                      "serverless_cold_start_s", "serverless_keep_warm_s", "spot_discount",
                                      "spot_availability", "spot_preemptions_per_hour", "spot_restart_s",
                                      "committed_1y_discount", "committed_3y_discount"};
  if (Status s = r.only_keys(p, "pricing", keys); !s) return s;
  double access_ms = out.access_rtt_s * 1e3;
  struct Field { const char* key; double* value; double lo, hi; bool lo_open; };
  const Field fields[] = {{"edge_price_factor", &out.edge_price_factor, 0, 100, true},
                          {"access_rtt_ms", &access_ms, 0, 1e4, false},
                          {"max_utilisation", &out.max_utilisation, 0, 1, true},
                          {"serverless_price_factor", &out.serverless_price_factor, 0, 1e3, true},
                          {"serverless_cold_start_s", &out.serverless_cold_start_s, 0, 1e4, false},
                          {"serverless_keep_warm_s", &out.serverless_keep_warm_s, 0, 1e5, false},
                          {"spot_discount", &out.spot_discount, 0, 1, false},
                          {"spot_availability", &out.spot_availability, 0, 1, false},
                          {"spot_preemptions_per_hour", &out.spot_preemptions_per_hour, 0, 100, false},
                          {"spot_restart_s", &out.spot_restart_s, 0, 1e5, false},
                          {"committed_1y_discount", &out.committed_1y_discount, 0, 1, false},
                          {"committed_3y_discount", &out.committed_3y_discount, 0, 1, false}};
  for (const Field& f : fields) {
    const std::string path = std::string("pricing.") + f.key;
    if (Status s = r.number(p, f.key, path, *f.value); !s) return s;
    if (Status s = check_range(r, path, *f.value, f.lo, f.hi, f.lo_open); !s) return s;
  }
  if (out.spot_discount >= 1) return r.bad("pricing.spot_discount", "must be < 1 (got " + shown(out.spot_discount) + ")");
  out.access_rtt_s = access_ms / 1e3;
  return Status::ok();
}

}  // namespace

std::array<double, 24> flat_profile() {
  std::array<double, 24> p;
  p.fill(1.0 / 24.0);
  return p;
}

double DeployWorkload::region_rate_at(size_t region_index, int utc_hour) const {
  const DeployRegion& r = regions.at(region_index);
  const int local = ((utc_hour + r.utc_offset_hours) % 24 + 24) % 24;
  // requests/hour (daily mean) x 24 x the hour's fraction = that hour's requests; / 3600 per second.
  return requests_per_hour * r.share * 24.0 * profile[static_cast<size_t>(local)] / 3600.0;
}

double DeployWorkload::mean_output_tokens() const {
  double sum = 0;
  for (const RequestClass& c : mix) sum += c.share * static_cast<double>(c.output_tokens);
  return sum;
}

std::vector<std::string> known_region_names() {
  std::vector<std::string> out;
  for (const RegionInfo& r : kRegions) out.emplace_back(r.name);
  return out;
}

bool is_known_region(const std::string& name) { return region_index(name) >= 0; }

int region_utc_offset_hours(const std::string& name) {
  const int i = region_index(name);
  return i >= 0 ? kRegions[i].utc_offset_hours : 0;
}

double region_rtt_s(const std::string& a, const std::string& b) {
  const int i = region_index(a), j = region_index(b);
  if (i < 0 || j < 0) return 0;
  return kRttMs[i][j] / 1e3;
}

Status validate_deploy_workload(DeployWorkload& w) {
  const Reader r{w.origin};
  std::string regions_known;
  for (const std::string& n : known_region_names()) regions_known += (regions_known.empty() ? "" : ", ") + n;
  if (!std::isfinite(w.requests_per_hour) || w.requests_per_hour <= 0) {
    return r.bad("requests_per_hour", "must be > 0 (got " + shown(w.requests_per_hour) + ")");
  }
  if (w.devices_per_replica < 1) return r.bad("devices_per_replica", "must be >= 1 (got " + std::to_string(w.devices_per_replica) + ")");
  if (Status s = check_range(r, "burstiness", w.burstiness, 0, 100, true); !s) return s;
  if (Status s = check_range(r, "max_tpot_ms", w.max_tpot_s * 1e3, 0, 1e5, true); !s) return s;
  double profile_sum = 0;
  for (size_t h = 0; h < 24; ++h) {
    if (!std::isfinite(w.profile[h]) || w.profile[h] < 0) {
      return r.bad("profile[" + std::to_string(h) + "]", "must be >= 0 (got " + shown(w.profile[h]) + ")");
    }
    profile_sum += w.profile[h];
  }
  if (std::fabs(profile_sum - 1.0) > 1e-3) {
    return r.bad("profile", "must sum to 1 (fractions of a day's requests per local hour; got a sum of " + shown(profile_sum) + ")");
  }
  if (w.regions.empty()) return r.bad("regions", "must list at least one region");
  double share_sum = 0;
  std::set<std::string> seen;
  for (size_t i = 0; i < w.regions.size(); ++i) {
    const DeployRegion& reg = w.regions[i];
    const std::string p = "regions[" + std::to_string(i) + "]";
    if (!is_known_region(reg.name)) return r.bad(p + ".name", "names an unknown region '" + reg.name + "' (known: " + regions_known + ")");
    if (!seen.insert(reg.name).second) return r.bad(p + ".name", "repeats region '" + reg.name + "'");
    if (Status s = check_range(r, p + ".share", reg.share, 0, 1, false); !s) return s;
    if (Status s = check_range(r, p + ".latency_budget_ms", reg.latency_budget_s * 1e3, 0, 1e8, true); !s) return s;
    share_sum += reg.share;
  }
  if (std::fabs(share_sum - 1.0) > 1e-3) return r.bad("regions", "shares must sum to 1 (got " + shown(share_sum) + ")");
  if (w.central_region.empty()) {
    w.central_region = std::max_element(w.regions.begin(), w.regions.end(), [](const DeployRegion& a, const DeployRegion& b) {
                         return a.share < b.share;
                       })->name;
  }
  if (!is_known_region(w.central_region)) {
    return r.bad("central_region", "names an unknown region '" + w.central_region + "' (known: " + regions_known + ")");
  }
  if (w.video) {
    if (w.video_mix.empty()) return r.bad("video_mix", "must list at least one video tier");
    double tier_sum = 0;
    for (size_t i = 0; i < w.video_mix.size(); ++i) {
      const VideoTier& t = w.video_mix[i];
      const std::string p = "video_mix[" + std::to_string(i) + "]";
      if (Status s = check_range(r, p + ".share", t.share, 0, 1, false); !s) return s;
      if (!find_dit_config(t.model)) return r.bad(p + ".model", "names an unknown video model '" + t.model + "' (" + dit_config_names() + ")");
      if (!parse_video_resolution(t.resolution)) {
        return r.bad(p + ".resolution", "must be " + std::string(kVideoResolutionNames) + " (got '" + t.resolution + "')");
      }
      if (Status s = check_range(r, p + ".seconds", t.seconds, 0, 3600, true); !s) return s;
      if (t.steps < 1) return r.bad(p + ".steps", "must be >= 1 (got " + std::to_string(t.steps) + ")");
      tier_sum += t.share;
    }
    if (std::fabs(tier_sum - 1.0) > 1e-3) return r.bad("video_mix", "shares must sum to 1 (got " + shown(tier_sum) + ")");
    return Status::ok();
  }
  if (w.mix.empty()) return r.bad("mix", "must list at least one request class");
  double mix_sum = 0;
  for (size_t i = 0; i < w.mix.size(); ++i) {
    const RequestClass& c = w.mix[i];
    const std::string p = "mix[" + std::to_string(i) + "]";
    if (Status s = check_range(r, p + ".share", c.share, 0, 1, false); !s) return s;
    if (c.prompt_tokens < 1) return r.bad(p + ".prompt_tokens", "must be >= 1 (got " + std::to_string(c.prompt_tokens) + ")");
    if (c.output_tokens < 1) return r.bad(p + ".output_tokens", "must be >= 1 (got " + std::to_string(c.output_tokens) + ")");
    mix_sum += c.share;
  }
  if (std::fabs(mix_sum - 1.0) > 1e-3) return r.bad("mix", "shares must sum to 1 (got " + shown(mix_sum) + ")");
  return Status::ok();
}

Expected<DeployWorkload> parse_deploy_workload(const std::string& json_text, const std::string& origin) {
  json doc;
  try {
    doc = json::parse(json_text);
  } catch (const json::parse_error& e) {
    return invalid_argument(origin + ": not valid JSON: " + e.what());
  }
  const Reader r{origin};
  DeployWorkload w;
  w.origin = origin;
  w.name = origin;
  w.profile = flat_profile();
  const std::set<std::string> keys = {"name", "model", "weights", "hardware", "devices_per_replica", "requests_per_hour",
                                      "profile", "burstiness", "max_tpot_ms", "central_region", "regions", "mix",
                                      "edge_model", "edge_weights", "edge_hardware", "pricing", "comment", "kind",
                                      "video_mix"};
  if (Status s = r.only_keys(doc, "", keys); !s) return s;
  for (auto [key, out] : {std::pair{"name", &w.name}, {"model", &w.model}, {"weights", &w.weights}, {"hardware", &w.hardware},
                          {"central_region", &w.central_region}, {"edge_model", &w.edge_model},
                          {"edge_weights", &w.edge_weights}, {"edge_hardware", &w.edge_hardware}}) {
    if (Status s = r.text(doc, key, key, *out); !s) return s;
  }
  std::string kind = "llm";
  if (Status s = r.text(doc, "kind", "kind", kind); !s) return s;
  if (kind != "llm" && kind != "video") return r.bad("kind", "must be \"llm\" or \"video\" (got '" + kind + "')");
  w.video = kind == "video";
  if (w.video && doc.contains("mix")) return r.bad("mix", "is for LLM requests: a video workload lists its tiers in video_mix");
  if (!w.video && doc.contains("video_mix")) return r.bad("video_mix", "needs \"kind\": \"video\"");
  if (doc.contains("video_mix")) {
    const json& tiers = doc["video_mix"];
    if (!tiers.is_array()) return r.bad("video_mix", "must be an array");
    for (size_t i = 0; i < tiers.size(); ++i) {
      const std::string p = "video_mix[" + std::to_string(i) + "]";
      if (Status s = r.only_keys(tiers[i], p, {"share", "model", "resolution", "seconds", "steps", "hard"}); !s) return s;
      VideoTier t;
      for (Status s : {r.number(tiers[i], "share", p + ".share", t.share), r.text(tiers[i], "model", p + ".model", t.model),
                       r.text(tiers[i], "resolution", p + ".resolution", t.resolution),
                       r.number(tiers[i], "seconds", p + ".seconds", t.seconds),
                       r.integer(tiers[i], "steps", p + ".steps", t.steps)}) {
        if (!s) return s;
      }
      if (tiers[i].contains("hard")) {
        if (!tiers[i]["hard"].is_boolean()) return r.bad(p + ".hard", "must be true or false");
        t.hard = tiers[i]["hard"].get<bool>();
      }
      w.video_mix.push_back(t);
    }
  }
  int64_t devices = w.devices_per_replica;
  if (Status s = r.integer(doc, "devices_per_replica", "devices_per_replica", devices); !s) return s;
  w.devices_per_replica = static_cast<int>(std::clamp<int64_t>(devices, -(1 << 20), 1 << 20));
  if (!doc.contains("requests_per_hour")) return r.bad("requests_per_hour", "is required");
  if (Status s = r.number(doc, "requests_per_hour", "requests_per_hour", w.requests_per_hour); !s) return s;
  if (Status s = r.number(doc, "burstiness", "burstiness", w.burstiness); !s) return s;
  double tpot_ms = w.max_tpot_s * 1e3;
  if (Status s = r.number(doc, "max_tpot_ms", "max_tpot_ms", tpot_ms); !s) return s;
  w.max_tpot_s = tpot_ms / 1e3;
  if (doc.contains("profile")) {
    const json& p = doc["profile"];
    if (!p.is_array() || p.size() != 24) return r.bad("profile", "must be an array of 24 numbers (one per local hour)");
    for (size_t h = 0; h < 24; ++h) {
      if (!p[h].is_number()) return r.bad("profile[" + std::to_string(h) + "]", "must be a number");
      w.profile[h] = p[h].get<double>();
    }
  }
  if (doc.contains("regions")) {
    const json& regs = doc["regions"];
    if (!regs.is_array()) return r.bad("regions", "must be an array");
    for (size_t i = 0; i < regs.size(); ++i) {
      const std::string p = "regions[" + std::to_string(i) + "]";
      if (Status s = r.only_keys(regs[i], p, {"name", "share", "latency_budget_ms", "utc_offset_hours"}); !s) return s;
      DeployRegion reg;
      if (!regs[i].contains("name")) return r.bad(p + ".name", "is required");
      if (Status s = r.text(regs[i], "name", p + ".name", reg.name); !s) return s;
      reg.utc_offset_hours = region_utc_offset_hours(reg.name);
      double budget_ms = reg.latency_budget_s * 1e3;
      int64_t offset = reg.utc_offset_hours;
      for (Status s : {r.number(regs[i], "share", p + ".share", reg.share),
                       r.number(regs[i], "latency_budget_ms", p + ".latency_budget_ms", budget_ms),
                       r.integer(regs[i], "utc_offset_hours", p + ".utc_offset_hours", offset)}) {
        if (!s) return s;
      }
      if (offset < -12 || offset > 14) return r.bad(p + ".utc_offset_hours", "must be in [-12, 14] (got " + std::to_string(offset) + ")");
      reg.latency_budget_s = budget_ms / 1e3;
      reg.utc_offset_hours = static_cast<int>(offset);
      w.regions.push_back(reg);
    }
  } else {
    w.regions.push_back({"us-east", 1.0, 2.0, region_utc_offset_hours("us-east")});
  }
  if (doc.contains("mix")) {
    const json& mix = doc["mix"];
    if (!mix.is_array()) return r.bad("mix", "must be an array");
    for (size_t i = 0; i < mix.size(); ++i) {
      const std::string p = "mix[" + std::to_string(i) + "]";
      if (Status s = r.only_keys(mix[i], p, {"share", "prompt_tokens", "output_tokens", "hard"}); !s) return s;
      RequestClass c;
      for (Status s : {r.number(mix[i], "share", p + ".share", c.share),
                       r.integer(mix[i], "prompt_tokens", p + ".prompt_tokens", c.prompt_tokens),
                       r.integer(mix[i], "output_tokens", p + ".output_tokens", c.output_tokens)}) {
        if (!s) return s;
      }
      if (mix[i].contains("hard")) {
        if (!mix[i]["hard"].is_boolean()) return r.bad(p + ".hard", "must be true or false");
        c.hard = mix[i]["hard"].get<bool>();
      }
      w.mix.push_back(c);
    }
  } else {
    w.mix.push_back(RequestClass{});
  }
  if (doc.contains("pricing")) {
    if (Status s = read_pricing(r, doc["pricing"], w.pricing); !s) return s;
  }
  if (Status s = validate_deploy_workload(w); !s) return s;
  return w;
}

Expected<DeployWorkload> load_deploy_workload(const std::string& path) {
  std::ifstream in(path);
  if (!in) return not_found("cannot read the workload file '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_deploy_workload(ss.str(), path);
}

}  // namespace frugal
