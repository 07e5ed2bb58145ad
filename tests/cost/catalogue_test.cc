// Hardware catalogue: the built-in file is complete and sourced; user entries merge and are
// validated with errors naming the entry and the field.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "cost_test_util.h"

namespace frugal {
namespace {

using nlohmann::json;

json raw_catalogue() {
  std::ifstream in(testing::catalogue_path());
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

json valid_entry(const std::string& name) {
  return {{"name", name},
          {"description", "test accelerator"},
          {"kind", "gpu"},
          {"memory_bytes", 16e9},
          {"memory_bandwidth_bytes_per_s", 500e9},
          {"bf16_dense_flops_per_s", 100e12},
          {"bf16_sparse_flops_per_s", nullptr},
          {"fp8_dense_flops_per_s", nullptr},
          {"fp8_sparse_flops_per_s", nullptr},
          {"int8_dense_ops_per_s", 200e12},
          {"int8_sparse_ops_per_s", nullptr},
          {"tdp_watts", 200},
          {"interconnect", {{"type", "PCIe"}, {"bandwidth_bytes_per_s", 32e9}}},
          {"cloud_usd_per_hour", {{"low", 0.5}, {"high", 1.0}}},
          {"purchase_usd", 3000},
          {"sources", {{"datasheet", "doc"}, {"cloud_usd_per_hour", "doc"}, {"purchase_usd", "doc"}}}};
}

std::string doc_with(const json& entry) { return json{{"entries", json::array({entry})}}.dump(); }

TEST(Catalogue, BuiltInHasEveryRequiredDeviceWithEveryFieldAndSource) {
  const HardwareCatalogue c = testing::builtin_catalogue();
  for (const char* name : {"h100-sxm", "h100-pcie", "h200", "a100-40gb", "a100-80gb", "l40s", "rtx-4090",
                           "rtx-6000-ada", "b200", "mi300x", "gaudi3", "graviton4"}) {
    const Accelerator* a = c.find(name);
    ASSERT_NE(a, nullptr) << name;
    EXPECT_GT(a->memory_bytes, 0) << name;
    EXPECT_GT(a->memory_bandwidth_bytes_per_s, 0) << name;
    EXPECT_GT(a->bf16_dense_flops_per_s, 0) << name;
    EXPECT_FALSE(a->source_datasheet.empty()) << name;
    EXPECT_FALSE(a->source_cloud_price.empty()) << name;
    EXPECT_FALSE(a->source_purchase_price.empty()) << name;
    // Sparse rates are kept apart from dense ones and are never below them.
    if (a->bf16_sparse_flops_per_s > 0) EXPECT_GE(a->bf16_sparse_flops_per_s, a->bf16_dense_flops_per_s) << name;
    if (a->fp8_sparse_flops_per_s > 0) EXPECT_GE(a->fp8_sparse_flops_per_s, a->fp8_dense_flops_per_s) << name;
    EXPECT_LE(a->cloud_usd_per_hour_low, a->cloud_usd_per_hour_high) << name;
  }
  // Every key is present in the file itself (null allowed only where documented).
  const json raw = raw_catalogue();  // kept alive: a range-for over raw_catalogue()["entries"] dangles
  for (const json& e : raw["entries"]) {
    for (const char* key : {"name", "description", "kind", "memory_bytes", "memory_bandwidth_bytes_per_s",
                            "bf16_dense_flops_per_s", "bf16_sparse_flops_per_s", "fp8_dense_flops_per_s",
                            "fp8_sparse_flops_per_s", "int8_dense_ops_per_s", "int8_sparse_ops_per_s", "tdp_watts",
                            "interconnect", "cloud_usd_per_hour", "purchase_usd", "sources"}) {
      EXPECT_TRUE(e.contains(key)) << e["name"] << " lacks " << key;
    }
  }
  // Spot-check datasheet figures against independently known values.
  EXPECT_DOUBLE_EQ(c.find("h100-sxm")->memory_bandwidth_bytes_per_s, 3.35e12);
  EXPECT_DOUBLE_EQ(c.find("h200")->memory_bytes, 141e9);
  EXPECT_DOUBLE_EQ(c.find("a100-80gb")->bf16_dense_flops_per_s, 312e12);
  EXPECT_EQ(c.find("a100-80gb")->fp8_dense_flops_per_s, 0.0);  // no FP8 on Ampere
}

TEST(Catalogue, DefaultPathFindsTheRepositoryFile) {
  auto c = HardwareCatalogue::load_default();
  ASSERT_TRUE(c.has_value()) << c.error().to_string();
  EXPECT_NE(c->find("h100-sxm"), nullptr);
}

TEST(Catalogue, UserEntriesMergeAndOverride) {
  HardwareCatalogue c = testing::builtin_catalogue();
  const size_t before = c.entries().size();
  json cheap_h100 = valid_entry("h100-sxm");
  cheap_h100["cloud_usd_per_hour"] = {{"low", 1.0}, {"high", 1.0}};
  auto user = HardwareCatalogue::parse(json{{"entries", {valid_entry("my-card"), cheap_h100}}}.dump(), "user.json");
  ASSERT_TRUE(user.has_value()) << user.error().to_string();
  c.merge(*user);
  EXPECT_EQ(c.entries().size(), before + 1);
  ASSERT_NE(c.find("my-card"), nullptr);
  EXPECT_DOUBLE_EQ(c.find("h100-sxm")->cloud_usd_per_hour_high, 1.0);
  EXPECT_FALSE(c.get("no-such-card").has_value());
}

TEST(Catalogue, ValidationErrorsNameEntryAndField) {
  struct Case { const char* field; json value; const char* expect; };
  const std::vector<Case> cases = {
      {"memory_bytes", -5, "field 'memory_bytes'"},
      {"memory_bandwidth_bytes_per_s", "fast", "field 'memory_bandwidth_bytes_per_s'"},
      {"bf16_dense_flops_per_s", nullptr, "field 'bf16_dense_flops_per_s'"},
      {"kind", "tpu", "field 'kind'"},
      {"sources", json{{"datasheet", ""}}, "field 'sources.datasheet'"},
      {"interconnect", json{{"type", "x"}}, "field 'interconnect.bandwidth_bytes_per_s'"},
      {"cloud_usd_per_hour", json{{"low", 3}, {"high", 1}}, "field 'cloud_usd_per_hour'"},
      {"weight_formats", json::array({"bf16", "q9_z"}), "field 'weight_formats' must list known weight types"},
      {"weight_formats", json::array(), "field 'weight_formats'"},
      {"host", json{{"server_usd_per_device", 1}, {"network_usd_per_device", 1}, {"watts_per_device", 1}},
       "field 'host.source'"},
      {"host", json{{"server_usd_per_device", -1}}, "field 'host.server_usd_per_device'"},
  };
  for (const Case& k : cases) {
    json e = valid_entry("bad-card");
    e[k.field] = k.value;
    auto r = HardwareCatalogue::parse(doc_with(e), "user.json");
    ASSERT_FALSE(r.has_value()) << k.field;
    EXPECT_NE(r.error().message().find("user.json: entry 'bad-card'"), std::string::npos) << r.error().message();
    EXPECT_NE(r.error().message().find(k.expect), std::string::npos) << r.error().message();
  }
  json missing = valid_entry("half-card");
  missing.erase("tdp_watts");
  auto r = HardwareCatalogue::parse(doc_with(missing), "user.json");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("'tdp_watts' is missing"), std::string::npos) << r.error().message();
  EXPECT_FALSE(HardwareCatalogue::parse("{not json", "x.json").has_value());
  EXPECT_FALSE(HardwareCatalogue::parse("{\"entries\": 3}", "x.json").has_value());
  EXPECT_FALSE(HardwareCatalogue::load_file("/nonexistent/catalogue.json").has_value());
}

// weight_formats and host are optional in user entries: without them every format is allowed and
// owning is refused (breakeven_test); with them they are read.
TEST(Catalogue, WeightFormatsAndHostAreRead) {
  json e = valid_entry("my-card");
  auto plain = HardwareCatalogue::parse(doc_with(e), "user.json");
  ASSERT_TRUE(plain.has_value()) << plain.error().to_string();
  EXPECT_TRUE(plain->entries()[0].can_run("q4_k_m"));
  EXPECT_FALSE(plain->entries()[0].has_host);
  e["weight_formats"] = json::array({"BF16", "fp8"});
  e["host"] = {{"server_usd_per_device", 2000}, {"network_usd_per_device", 100}, {"watts_per_device", 150},
               {"source", "my quote"}};
  auto full = HardwareCatalogue::parse(doc_with(e), "user.json");
  ASSERT_TRUE(full.has_value()) << full.error().to_string();
  const Accelerator& a = full->entries()[0];
  EXPECT_TRUE(a.can_run("bf16"));
  EXPECT_FALSE(a.can_run("q4_k_m"));
  EXPECT_TRUE(a.has_host);
  EXPECT_DOUBLE_EQ(a.host_server_usd, 2000);
  EXPECT_EQ(a.source_host, "my quote");
}

}  // namespace
}  // namespace frugal
