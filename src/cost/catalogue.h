// Hardware catalogue: accelerator specs with their sources, loaded from JSON (cost layer).
// The built-in catalogue is data/hardware/catalogue.json; users merge their own entries with
// --catalogue FILE. Every figure is validated; an error names the file, the entry and the field.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/expected.h"

namespace frugal {

enum class AcceleratorKind { kGpu, kAccelerator, kCpu };

std::string_view accelerator_kind_name(AcceleratorKind kind);

struct Accelerator {
  std::string name;                      // "h100-sxm": the key used by --hardware
  std::string description;               // "NVIDIA H100 SXM5 80GB"
  AcceleratorKind kind = AcceleratorKind::kGpu;
  double memory_bytes = 0;               // device memory (decimal GB x 1e9 from the datasheet)
  double memory_bandwidth_bytes_per_s = 0;
  // Peak tensor rates; 0 = no such mode or none published (JSON null).
  double bf16_dense_flops_per_s = 0;
  double bf16_sparse_flops_per_s = 0;
  double fp8_dense_flops_per_s = 0;
  double fp8_sparse_flops_per_s = 0;
  double int8_dense_ops_per_s = 0;
  double int8_sparse_ops_per_s = 0;
  double tdp_watts = 0;                  // 0 = not published
  std::string interconnect_type;
  double interconnect_bytes_per_s = 0;   // aggregate bidirectional per device; 0 = none
  double cloud_usd_per_hour_low = 0;     // 0 = not rentable
  double cloud_usd_per_hour_high = 0;
  double purchase_usd = 0;               // 0 = not sold
  std::string source_datasheet;
  std::string source_cloud_price;
  std::string source_purchase_price;
  bool measured = false;                 // "this-machine": figures from the calibration record
  // Weight formats a serving stack has kernels for on this device (weight_type.h names). Empty:
  // not stated (a user entry without the field), and every format is allowed.
  std::vector<std::string> weight_formats;
  // What owning one device takes besides the device itself (JSON "host"; has_host = false when
  // absent): its share of the server around it (CPUs, RAM, storage, chassis, PSUs, NICs), of the
  // network (switch ports, cables, optics), and the server's power beyond the device's TDP.
  bool has_host = false;
  double host_server_usd = 0;
  double host_network_usd = 0;
  double host_watts = 0;
  std::string source_host;

  // True when weight_formats is empty or lists `weight_type` (exact, lower-case name).
  bool can_run(std::string_view weight_type) const;

  // Midpoint of the cloud price range (the planner's default price).
  double cloud_usd_per_hour_mid() const { return 0.5 * (cloud_usd_per_hour_low + cloud_usd_per_hour_high); }
};

// Name of the measured entry built from the calibration record.
inline constexpr const char* kThisMachineName = "this-machine";

class HardwareCatalogue {
 public:
  // Parses a catalogue document ({"entries": [...]}); `origin` names it in errors.
  static Expected<HardwareCatalogue> parse(const std::string& json_text, const std::string& origin);
  static Expected<HardwareCatalogue> load_file(const std::string& path);
  // The built-in catalogue (see default_catalogue_path()).
  static Expected<HardwareCatalogue> load_default();
  // The default catalogue with the users' own files merged over it (--catalogue FILE, repeatable).
  static Expected<HardwareCatalogue> load_default_with(const std::vector<std::string>& extra_files);

  // Adds `other`'s entries; an entry with an existing name replaces it (user overrides win).
  void merge(const HardwareCatalogue& other);
  void add(Accelerator accelerator);

  const std::vector<Accelerator>& entries() const { return entries_; }
  const Accelerator* find(std::string_view name) const;
  // find() or kNotFound listing the known names.
  Expected<Accelerator> get(std::string_view name) const;

 private:
  std::vector<Accelerator> entries_;
};

// Built-in catalogue path: $FRUGAL_HARDWARE_CATALOGUE, else data/hardware/catalogue.json next to
// the executable's parent directory (build dir inside the checkout), else the source checkout.
std::string default_catalogue_path();

}  // namespace frugal
