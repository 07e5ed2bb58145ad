#include "server/model_set.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>

#include "core/check.h"

namespace frugal {
namespace {

constexpr size_t kMaxNameLength = 64;

Status check_new_name(const std::string& name, const std::set<std::string>& taken, const std::string& what) {
  if (!is_valid_served_name(name)) {
    return invalid_argument(what + " name '" + name + "' is not valid (1-64 of A-Z a-z 0-9 . _ : -)");
  }
  if (taken.count(name) != 0) return invalid_argument(what + " name '" + name + "' is used twice");
  return Status::ok();
}

}  // namespace

bool is_valid_served_name(const std::string& name) {
  if (name.empty() || name.size() > kMaxNameLength || name[0] == '.' || name[0] == '-') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == ':' || c == '-';
  });
}

Expected<std::vector<ModelSpec>> parse_model_specs(const std::vector<std::string>& values,
                                                   const std::string& single_name) {
  if (values.empty()) return invalid_argument("no model given: use -m PATH or --model NAME=PATH");
  if (values.size() == 1 && values[0].find('=') == std::string::npos) {
    const std::string& path = values[0];
    if (path.empty()) return invalid_argument("--model: empty path");
    std::string name = single_name.empty() ? std::filesystem::path(path).stem().string() : single_name;
    return std::vector<ModelSpec>{{std::move(name), path}};
  }
  std::vector<ModelSpec> specs;
  std::set<std::string> taken = {kAutoRoute};
  for (const std::string& value : values) {
    const size_t eq = value.find('=');
    if (eq == std::string::npos) {
      return invalid_argument("--model '" + value + "': several models need NAME=PATH for each");
    }
    ModelSpec spec{value.substr(0, eq), value.substr(eq + 1)};
    Status name_ok = check_new_name(spec.name, taken, "model");
    if (!name_ok.is_ok()) return name_ok;
    if (spec.path.empty()) return invalid_argument("--model " + spec.name + "=: empty path");
    taken.insert(spec.name);
    specs.push_back(std::move(spec));
  }
  return specs;
}

Expected<std::vector<RouteSpec>> parse_route_specs(const std::vector<std::string>& values,
                                                   const std::vector<ModelSpec>& models) {
  std::set<std::string> model_names;
  for (const ModelSpec& model : models) model_names.insert(model.name);
  std::set<std::string> taken = model_names;
  taken.insert(kAutoRoute);
  std::vector<RouteSpec> routes;
  for (const std::string& value : values) {
    const size_t eq = value.find('=');
    if (eq == std::string::npos) return invalid_argument("--route '" + value + "': expected NAME=TIER[,TIER...]");
    RouteSpec route{value.substr(0, eq), {}};
    Status name_ok = check_new_name(route.name, taken, "route");
    if (!name_ok.is_ok()) return name_ok;
    std::string rest = value.substr(eq + 1);
    size_t start = 0;
    while (start <= rest.size()) {
      const size_t comma = std::min(rest.find(',', start), rest.size());
      const std::string tier = rest.substr(start, comma - start);
      if (model_names.count(tier) == 0) {
        return invalid_argument("--route " + route.name + ": '" + tier + "' is not a served model");
      }
      if (std::find(route.tiers.begin(), route.tiers.end(), tier) != route.tiers.end()) {
        return invalid_argument("--route " + route.name + ": tier '" + tier + "' is listed twice");
      }
      route.tiers.push_back(tier);
      start = comma + 1;
    }
    taken.insert(route.name);
    routes.push_back(std::move(route));
  }
  return routes;
}

std::vector<int64_t> split_kv_budget(int64_t total_bytes, const std::vector<int64_t>& wanted_bytes) {
  CHECK(total_bytes >= 0, "split_kv_budget: a budget is not negative");
  long double sum_wanted = 0;
  for (int64_t wanted : wanted_bytes) {
    CHECK(wanted > 0, "split_kv_budget: every engine wants some KV memory");
    sum_wanted += static_cast<long double>(wanted);
  }
  std::vector<int64_t> shares;
  shares.reserve(wanted_bytes.size());
  for (int64_t wanted : wanted_bytes) {
    // Rounded down, so the shares never add up to more than the budget.
    const auto share = static_cast<int64_t>(static_cast<long double>(total_bytes) * wanted / sum_wanted);
    shares.push_back(std::min(wanted, share));
  }
  return shares;
}

}  // namespace frugal
