#include "cost/catalogue.h"

#include "cost/weight_type.h"

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

// Reads and validates one entry. `where` is "FILE: entry 'NAME'" for messages.
class EntryReader {
 public:
  EntryReader(const json& entry, std::string where) : entry_(entry), where_(std::move(where)) {}

  Status error(std::string_view field, std::string_view what) const {
    return invalid_argument(where_ + ": field '" + std::string(field) + "' " + std::string(what));
  }

  // A required positive number.
  Expected<double> positive(std::string_view field) const {
    auto v = number(field, /*allow_null=*/false);
    if (!v) return v;
    if (*v <= 0) return error(field, "must be > 0");
    return v;
  }
  // A required key holding a non-negative number or null (null -> 0: "none / not published").
  Expected<double> optional_number(std::string_view field) const { return number(field, /*allow_null=*/true); }

  Expected<std::string> text(const json& obj, std::string_view field, bool required_non_empty) const {
    auto it = obj.find(std::string(field));
    if (it == obj.end()) return error(field, "is missing");
    if (!it->is_string()) return error(field, "must be a string");
    std::string s = it->get<std::string>();
    if (required_non_empty && s.empty()) return error(field, "must not be empty");
    return s;
  }

  Expected<double> number_in(const json& obj, std::string_view parent, std::string_view field, bool allow_null) const {
    const std::string full = std::string(parent) + "." + std::string(field);
    auto it = obj.find(std::string(field));
    if (it == obj.end()) return error(full, "is missing");
    if (it->is_null() && allow_null) return 0.0;
    if (!it->is_number()) return error(full, allow_null ? "must be a number or null" : "must be a number");
    const double v = it->get<double>();
    if (!std::isfinite(v) || v < 0) return error(full, "must be a finite number >= 0");
    return v;
  }

  const json& entry() const { return entry_; }

 private:
  Expected<double> number(std::string_view field, bool allow_null) const {
    auto it = entry_.find(std::string(field));
    if (it == entry_.end()) return error(field, "is missing");
    if (it->is_null() && allow_null) return 0.0;
    if (!it->is_number()) return error(field, allow_null ? "must be a number or null" : "must be a number");
    const double v = it->get<double>();
    if (!std::isfinite(v) || v < 0) return error(field, "must be a finite number >= 0");
    return v;
  }

  const json& entry_;
  std::string where_;
};

Expected<AcceleratorKind> parse_kind(const EntryReader& r) {
  auto kind = r.text(r.entry(), "kind", true);
  if (!kind) return kind.error();
  if (*kind == "gpu") return AcceleratorKind::kGpu;
  if (*kind == "accelerator") return AcceleratorKind::kAccelerator;
  if (*kind == "cpu") return AcceleratorKind::kCpu;
  return r.error("kind", "must be one of gpu, accelerator, cpu (got '" + *kind + "')");
}

Status read_figures(const EntryReader& r, Accelerator& a) {
  struct Required { const char* field; double* out; };
  for (const Required& f : {Required{"memory_bytes", &a.memory_bytes},
                            Required{"memory_bandwidth_bytes_per_s", &a.memory_bandwidth_bytes_per_s},
                            Required{"bf16_dense_flops_per_s", &a.bf16_dense_flops_per_s}}) {
    auto v = r.positive(f.field);
    if (!v) return v.error();
    *f.out = *v;
  }
  for (const Required& f : {Required{"bf16_sparse_flops_per_s", &a.bf16_sparse_flops_per_s},
                            Required{"fp8_dense_flops_per_s", &a.fp8_dense_flops_per_s},
                            Required{"fp8_sparse_flops_per_s", &a.fp8_sparse_flops_per_s},
                            Required{"int8_dense_ops_per_s", &a.int8_dense_ops_per_s},
                            Required{"int8_sparse_ops_per_s", &a.int8_sparse_ops_per_s},
                            Required{"tdp_watts", &a.tdp_watts}, Required{"purchase_usd", &a.purchase_usd}}) {
    auto v = r.optional_number(f.field);
    if (!v) return v.error();
    *f.out = *v;
  }
  return Status::ok();
}

Status read_objects(const EntryReader& r, Accelerator& a) {
  const json& e = r.entry();
  auto ic = e.find("interconnect");
  if (ic == e.end() || !ic->is_object()) return r.error("interconnect", "must be an object {type, bandwidth_bytes_per_s}");
  auto type = ic->find("type");
  if (type == ic->end() || !type->is_string() || type->get<std::string>().empty()) {
    return r.error("interconnect.type", "must be a non-empty string");
  }
  a.interconnect_type = type->get<std::string>();
  auto bw = r.number_in(*ic, "interconnect", "bandwidth_bytes_per_s", false);
  if (!bw) return bw.error();
  a.interconnect_bytes_per_s = *bw;

  auto price = e.find("cloud_usd_per_hour");
  if (price == e.end() || !(price->is_object() || price->is_null())) {
    return r.error("cloud_usd_per_hour", "must be an object {low, high} or null");
  }
  if (price->is_object()) {
    auto low = r.number_in(*price, "cloud_usd_per_hour", "low", false);
    if (!low) return low.error();
    auto high = r.number_in(*price, "cloud_usd_per_hour", "high", false);
    if (!high) return high.error();
    if (*high < *low) return r.error("cloud_usd_per_hour", "has high < low");
    a.cloud_usd_per_hour_low = *low;
    a.cloud_usd_per_hour_high = *high;
  }
  auto sources = e.find("sources");
  if (sources == e.end() || !sources->is_object()) return r.error("sources", "must be an object");
  struct Src { const char* field; std::string* out; };
  for (const Src& s : {Src{"datasheet", &a.source_datasheet}, Src{"cloud_usd_per_hour", &a.source_cloud_price},
                       Src{"purchase_usd", &a.source_purchase_price}}) {
    auto it = sources->find(s.field);
    if (it == sources->end() || !it->is_string() || it->get<std::string>().empty()) {
      return r.error(std::string("sources.") + s.field, "must be a non-empty string citing the document or URL");
    }
    *s.out = it->get<std::string>();
  }
  return Status::ok();
}

// Optional "weight_formats": ["bf16", "fp8", ...], each a known weight type.
Status read_weight_formats(const EntryReader& r, Accelerator& a) {
  auto it = r.entry().find("weight_formats");
  if (it == r.entry().end()) return Status::ok();
  if (!it->is_array() || it->empty()) return r.error("weight_formats", "must be a non-empty array of weight type names");
  for (const json& f : *it) {
    if (!f.is_string() || !find_weight_type(f.get<std::string>())) {
      return r.error("weight_formats", "must list known weight types (" + weight_type_names() + "), got " + f.dump());
    }
    a.weight_formats.push_back(find_weight_type(f.get<std::string>())->name);
  }
  return Status::ok();
}

// Optional "host": {server_usd_per_device, network_usd_per_device, watts_per_device, source}.
Status read_host(const EntryReader& r, Accelerator& a) {
  auto it = r.entry().find("host");
  if (it == r.entry().end() || it->is_null()) return Status::ok();
  if (!it->is_object()) return r.error("host", "must be an object {server_usd_per_device, network_usd_per_device, "
                                               "watts_per_device, source}");
  struct Field { const char* name; double* out; };
  for (const Field& f : {Field{"server_usd_per_device", &a.host_server_usd},
                         Field{"network_usd_per_device", &a.host_network_usd},
                         Field{"watts_per_device", &a.host_watts}}) {
    auto v = r.number_in(*it, "host", f.name, false);
    if (!v) return v.error();
    *f.out = *v;
  }
  auto source = it->find("source");
  if (source == it->end() || !source->is_string() || source->get<std::string>().empty()) {
    return r.error("host.source", "must be a non-empty string citing where the figures come from");
  }
  a.source_host = source->get<std::string>();
  a.has_host = true;
  return Status::ok();
}

Expected<Accelerator> parse_entry(const json& e, size_t index, const std::string& origin) {
  std::string label = "entry #" + std::to_string(index);
  if (e.is_object()) {
    if (auto it = e.find("name"); it != e.end() && it->is_string()) label = "entry '" + it->get<std::string>() + "'";
  }
  EntryReader r(e, origin + ": " + label);
  if (!e.is_object()) return invalid_argument(origin + ": " + label + " must be a JSON object");
  Accelerator a;
  auto name = r.text(e, "name", true);
  if (!name) return name.error();
  a.name = *name;
  auto description = r.text(e, "description", true);
  if (!description) return description.error();
  a.description = *description;
  auto kind = parse_kind(r);
  if (!kind) return kind.error();
  a.kind = *kind;
  if (Status s = read_figures(r, a); !s) return s;
  if (Status s = read_objects(r, a); !s) return s;
  if (auto it = e.find("measured"); it != e.end() && it->is_boolean()) a.measured = it->get<bool>();
  if (Status s = read_weight_formats(r, a); !s) return s;
  if (Status s = read_host(r, a); !s) return s;
  return a;
}

std::string executable_dir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : exe.parent_path().string();
}

}  // namespace

bool Accelerator::can_run(std::string_view weight_type) const {
  return weight_formats.empty() ||
         std::find(weight_formats.begin(), weight_formats.end(), weight_type) != weight_formats.end();
}

std::string_view accelerator_kind_name(AcceleratorKind kind) {
  switch (kind) {
    case AcceleratorKind::kGpu: return "gpu";
    case AcceleratorKind::kAccelerator: return "accelerator";
    case AcceleratorKind::kCpu: return "cpu";
  }
  return "?";
}

Expected<HardwareCatalogue> HardwareCatalogue::parse(const std::string& json_text, const std::string& origin) {
  json doc;
  try {
    doc = json::parse(json_text);
  } catch (const json::exception& e) {
    return invalid_argument(origin + ": not valid JSON: " + e.what());
  }
  if (!doc.is_object() || !doc.contains("entries") || !doc["entries"].is_array()) {
    return invalid_argument(origin + ": expected an object with an \"entries\" array");
  }
  HardwareCatalogue catalogue;
  const json& entries = doc["entries"];
  for (size_t i = 0; i < entries.size(); ++i) {
    auto a = parse_entry(entries[i], i, origin);
    if (!a) return a.error();
    if (catalogue.find(a->name) != nullptr) {
      return invalid_argument(origin + ": entry '" + a->name + "': field 'name' is duplicated in this file");
    }
    catalogue.entries_.push_back(std::move(*a));
  }
  return catalogue;
}

Expected<HardwareCatalogue> HardwareCatalogue::load_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return not_found("hardware catalogue not found: " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return parse(ss.str(), path);
}

Expected<HardwareCatalogue> HardwareCatalogue::load_default() { return load_file(default_catalogue_path()); }

Expected<HardwareCatalogue> HardwareCatalogue::load_default_with(const std::vector<std::string>& extra_files) {
  auto catalogue = load_default();
  if (!catalogue) return catalogue.error();
  for (const std::string& path : extra_files) {
    auto extra = load_file(path);
    if (!extra) return extra.error();
    catalogue->merge(*extra);
  }
  return catalogue;
}

void HardwareCatalogue::merge(const HardwareCatalogue& other) {
  for (const Accelerator& a : other.entries_) add(a);
}

void HardwareCatalogue::add(Accelerator accelerator) {
  for (Accelerator& existing : entries_) {
    if (existing.name == accelerator.name) {
      existing = std::move(accelerator);
      return;
    }
  }
  entries_.push_back(std::move(accelerator));
}

const Accelerator* HardwareCatalogue::find(std::string_view name) const {
  for (const Accelerator& a : entries_) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

Expected<Accelerator> HardwareCatalogue::get(std::string_view name) const {
  if (const Accelerator* a = find(name)) return *a;
  std::string known;
  for (const Accelerator& a : entries_) known += (known.empty() ? "" : ", ") + a.name;
  return not_found("unknown hardware '" + std::string(name) + "' (known: " + known + ", " + kThisMachineName + ")");
}

std::string default_catalogue_path() {
  if (const char* env = std::getenv("FRUGAL_HARDWARE_CATALOGUE"); env != nullptr && *env != '\0') return env;
  namespace fs = std::filesystem;
  const fs::path rel = fs::path("data") / "hardware" / "catalogue.json";
  std::vector<fs::path> candidates;
  if (std::string dir = executable_dir(); !dir.empty()) {
    candidates.push_back(fs::path(dir) / rel);
    candidates.push_back(fs::path(dir).parent_path() / rel);
    candidates.push_back(fs::path(dir).parent_path() / "share" / "frugal" / "hardware" / "catalogue.json");
  }
  // The source checkout this library was compiled from (src/cost/catalogue.cc -> ../../data/...).
  candidates.push_back(fs::path(__FILE__).parent_path().parent_path().parent_path() / rel);
  for (const fs::path& p : candidates) {
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) return p.string();
  }
  return candidates.back().string();
}

}  // namespace frugal
