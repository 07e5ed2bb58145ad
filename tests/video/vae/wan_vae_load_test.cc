// WanVae::load on damaged state dicts: a missing tensor or one with another shape gives a Status that
// names it (the vae_a file rewritten with an edited safetensors header; the tensor bytes stay put).
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>

#include "video/vae/vae_test_util.h"

namespace frugal::video {
namespace {

// Copies the vae_a safetensors file to `path` with its JSON header passed through `edit`.
void write_edited_copy(const std::string& path, const std::function<void(nlohmann::json&)>& edit) {
  const std::string bytes = testing::read_text_file(vae_test::case_path("Wan2.1_VAE.safetensors"));
  ASSERT_GT(bytes.size(), 8u);
  uint64_t header_len = 0;
  std::memcpy(&header_len, bytes.data(), 8);
  nlohmann::json header = nlohmann::json::parse(bytes.substr(8, header_len));
  edit(header);
  const std::string new_header = header.dump();
  const uint64_t new_len = new_header.size();
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(&new_len), 8);
  out.write(new_header.data(), static_cast<std::streamsize>(new_header.size()));
  out.write(bytes.data() + 8 + header_len, static_cast<std::streamsize>(bytes.size() - 8 - header_len));
}

Status load_edited(const std::string& tag, const std::function<void(nlohmann::json&)>& edit) {
  const std::string path = (std::filesystem::temp_directory_path() / ("frugal_vae_" + tag + ".safetensors")).string();
  write_edited_copy(path, edit);
  auto store = WeightStore::open({path});
  std::filesystem::remove(path);
  if (!store) return store.error();
  auto vae = WanVae::load(*store);
  return vae ? Status::ok() : vae.error();
}

TEST(WanVaeLoad, MissingTensorIsNamed) {
  for (const char* name : {"decoder.upsamples.7.time_conv.weight", "encoder.middle.1.to_qkv.bias", "conv1.weight",
                           "decoder.head.0.gamma"}) {
    const Status s = load_edited("missing", [&](nlohmann::json& h) { h.erase(name); });
    std::printf("without %-38s -> %s\n", name, s.to_string().c_str());
    EXPECT_EQ(s.code(), StatusCode::kNotFound) << name;
    EXPECT_NE(s.message().find(name), std::string::npos) << s.to_string();
  }
}

TEST(WanVaeLoad, MisShapedTensorIsNamed) {
  // Same byte count, other shape: [32, 32, 3, 3, 3] stored as [32, 32, 27, 1, 1].
  const std::string name = "decoder.middle.0.residual.2.weight";
  const Status s = load_edited("shape", [&](nlohmann::json& h) { h[name]["shape"] = {32, 32, 27, 1, 1}; });
  std::printf("reshaped %s -> %s\n", name.c_str(), s.to_string().c_str());
  EXPECT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find(name), std::string::npos) << s.to_string();
}

TEST(WanVaeLoad, NotAVaeStateDict) {
  const Status s = load_edited("empty", [](nlohmann::json& h) {
    const nlohmann::json meta = h["__metadata__"];
    h = nlohmann::json::object();
    h["__metadata__"] = meta;
  });
  std::printf("no tensors -> %s\n", s.to_string().c_str());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
}

TEST(WanVaeLoad, EncoderBlockGapIsRejected) {
  // Drop a whole encoder block: the walk finds a hole in encoder.downsamples.N.
  const Status s = load_edited("gap", [](nlohmann::json& h) {
    for (auto it = h.begin(); it != h.end();) {
      it = it.key().rfind("encoder.downsamples.4.", 0) == 0 ? h.erase(it) : std::next(it);
    }
  });
  std::printf("no encoder.downsamples.4 -> %s\n", s.to_string().c_str());
  EXPECT_FALSE(s.is_ok());
}

}  // namespace
}  // namespace frugal::video
