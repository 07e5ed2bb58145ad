// Helpers of the DiT tests: the reference cases in tests/data/wan/dit_{a,b} and the error measure
// the README suggests (max|a - ref| / max|ref|), printed with the cosine similarity.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/test_data.h"
#include "video/dit/dit_config.h"

namespace frugal::video::testing {

// One DiT case: the inputs and sizes of tests/data/wan/<name>/meta.json.
struct DitCase {
  std::string name;
  nlohmann::json meta;
  DitConfig config;              // from the case's config.json
  std::vector<float> x;          // [in_dim, frames, height, width]
  std::vector<float> context;    // [ctx_len, text_dim]
  int64_t frames = 0, height = 0, width = 0, ctx_len = 0;

  std::string path(const std::string& file) const { return frugal::testing::data_path("wan/" + name + "/" + file); }
  std::vector<float> read(const std::string& file) const { return frugal::testing::read_f32_file(path(file)); }
  int64_t x_size() const { return static_cast<int64_t>(x.size()); }
};

inline DitCase load_dit_case(const std::string& name) {
  DitCase c;
  c.name = name;
  c.meta = nlohmann::json::parse(frugal::testing::read_text_file(frugal::testing::data_path("wan/" + name + "/meta.json")));
  auto config = load_dit_config_file(c.path("config.json"));
  EXPECT_TRUE(config.has_value()) << config.error().to_string();
  if (config) c.config = *config;
  const auto& xs = c.meta["inputs"]["x"]["shape"];
  c.frames = xs[1].get<int64_t>();
  c.height = xs[2].get<int64_t>();
  c.width = xs[3].get<int64_t>();
  c.ctx_len = c.meta["inputs"]["context"]["shape"][0].get<int64_t>();
  c.x = c.read("x.f32");
  c.context = c.read("context.f32");
  EXPECT_EQ(static_cast<int64_t>(c.x.size()), xs[0].get<int64_t>() * c.frames * c.height * c.width);
  EXPECT_EQ(static_cast<int64_t>(c.context.size()), c.ctx_len * c.config.text_dim);
  return c;
}

struct Diff {
  double max_abs = 0.0;  // max |a - ref|
  double max_ref = 0.0;  // max |ref|
  double cosine = 0.0;
  double rel() const { return max_ref > 0.0 ? max_abs / max_ref : max_abs; }
};

template <typename A, typename B>
Diff compare(const A* a, const B* ref, int64_t n) {
  Diff d;
  double dot = 0.0, na = 0.0, nr = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double x = static_cast<double>(a[i]), y = static_cast<double>(ref[i]);
    d.max_abs = std::max(d.max_abs, std::abs(x - y));
    d.max_ref = std::max(d.max_ref, std::abs(y));
    dot += x * y;
    na += x * x;
    nr += y * y;
  }
  d.cosine = (na > 0.0 && nr > 0.0) ? dot / std::sqrt(na * nr) : (na == nr ? 1.0 : 0.0);
  return d;
}

// Prints the measure and checks rel() <= tolerance.
inline void expect_close(const std::string& what, const std::vector<float>& a, const std::vector<float>& ref,
                         double tolerance) {
  ASSERT_EQ(a.size(), ref.size()) << what;
  ASSERT_FALSE(ref.empty()) << what;
  const Diff d = compare(a.data(), ref.data(), static_cast<int64_t>(a.size()));
  std::printf("  %-34s max|d| %.3e  max|ref| %.3e  rel %.3e  cos %.9f\n", what.c_str(), d.max_abs, d.max_ref, d.rel(),
              d.cosine);
  EXPECT_LE(d.rel(), tolerance) << what << ": max|d| " << d.max_abs << " max|ref| " << d.max_ref;
}

}  // namespace frugal::video::testing
