// `frugal video`, `text-encode`, `vae`, `inspect` and `mkmodel --preset wan-tiny` end to end: the
// reference mode reproduces the official generate() through the binary; real prompts make an MP4
// that ffprobe reads; bad input exits with a clear message, never a crash.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "common/subprocess.h"
#include "common/test_data.h"
#include "ops/conv.h"
#include "reference_model.h"

namespace frugal {
namespace {

namespace fs = std::filesystem;
using testing::compare;
using testing::data_path;
using testing::frugal_binary;
using testing::run_command;

std::string temp_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("frugal_video_cli_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

std::string ids_of(const std::string& path) {
  const auto raw = testing::read_f32_file(path);
  std::string out;
  for (float f : raw) {
    int32_t v;
    std::memcpy(&v, &f, 4);
    out += (out.empty() ? "" : ",") + std::to_string(v);
  }
  return out;
}

// The last line of the output that parses as a JSON object.
nlohmann::json last_json(const std::string& output) {
  size_t end = output.size();
  while (end > 0) {
    const size_t start = output.rfind('\n', end - 1);
    const std::string line = output.substr(start == std::string::npos ? 0 : start + 1, end - (start == std::string::npos ? 0 : start + 1));
    if (!line.empty() && line.front() == '{') return nlohmann::json::parse(line, nullptr, false);
    if (start == std::string::npos) break;
    end = start;
  }
  return nlohmann::json();
}

std::string ffprobe(const std::string& mp4) {
  return run_command("ffprobe -v error -count_frames -show_entries stream=codec_name,width,height,nb_read_frames,r_frame_rate "
                     "-of default=noprint_wrappers=1 " + mp4 + " 2>&1").output;
}

TEST(VideoCli, ReferenceModeReproducesTheOfficialGenerate) {
  const std::string model = testing::reference_model_dir("cli");
  const std::string dir = temp_dir("ref");
  const std::string e2e = data_path("wan/e2e_a/");
  auto r = run_command(frugal_binary() + " video -m " + model + " --prompt-ids " + ids_of(e2e + "ids_pos.i32") +
                       " --negative-ids " + ids_of(e2e + "ids_neg.i32") + " --noise " + e2e + "noise.f32" +
                       " --size 96x64 --frames 9 --steps 10 --shift 5 --cfg 5 --sampler unipc --precision f32 -t 2" +
                       " --out-raw " + dir + "/video.f32 --out-latents " + dir + "/latents.f32 -o " + dir +
                       "/clip.mp4 --json 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto video = testing::read_f32_file(dir + "/video.f32");
  const auto ref = testing::read_f32_file(e2e + "video.f32");
  ASSERT_EQ(video.size(), ref.size());
  EXPECT_LE(compare(video.data(), ref, "cli video").relative(), 1e-4);
  const auto latents = testing::read_f32_file(dir + "/latents.f32");
  const auto ref_latents = testing::read_f32_file(e2e + "latents.f32");
  ASSERT_EQ(latents.size(), ref_latents.size());
  EXPECT_LE(compare(latents.data(), ref_latents, "cli latents").relative(), 1e-4);
  // The summary: progress bar lines, the closing line, and the JSON object.
  EXPECT_NE(r.output.find("denoise     ["), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("step 10/10"), std::string::npos) << r.output;
  // The bar names the stage, the step i/N, seconds per step, and the time left.
  for (const char* part : {"text encode [", "VAE decode  [", " s/step", "ETA ", "latent frame 3/3"}) {
    EXPECT_NE(r.output.find(part), std::string::npos) << part << "\n" << r.output;
  }
  EXPECT_NE(r.output.find("peak memory"), std::string::npos) << r.output;
  const auto summary = last_json(r.output);
  ASSERT_TRUE(summary.is_object()) << r.output;
  EXPECT_EQ(summary["steps"], 10);
  EXPECT_EQ(summary["dit_passes"], 20);
  EXPECT_EQ(summary["frames"], 9);
  for (const char* key : {"seconds_per_step", "text_encode_seconds", "vae_decode_seconds", "compute_seconds"}) {
    EXPECT_GE(summary[key].get<double>(), 0.0) << key;
  }
  EXPECT_GT(summary["peak_rss_bytes"].get<int64_t>(), 1 << 20);
  const std::string probe = ffprobe(dir + "/clip.mp4");
  EXPECT_NE(probe.find("codec_name=h264"), std::string::npos) << probe;
  EXPECT_NE(probe.find("width=96"), std::string::npos) << probe;
  EXPECT_NE(probe.find("nb_read_frames=9"), std::string::npos) << probe;
  EXPECT_NE(probe.find("r_frame_rate=16/1"), std::string::npos) << probe;
  fs::remove_all(dir);
}

TEST(VideoCli, ComponentToolsMatchTheReference) {
  const std::string model = testing::reference_model_dir("tools");
  const std::string dir = temp_dir("tools");
  const std::string e2e = data_path("wan/e2e_a/");
  auto r = run_command(frugal_binary() + " text-encode -m " + model + " --ids " + ids_of(e2e + "ids_pos.i32") + " -o " +
                       dir + "/ctx.f32 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("[17, 32]"), std::string::npos) << r.output;
  EXPECT_LE(compare(testing::read_f32_file(dir + "/ctx.f32").data(), testing::read_f32_file(e2e + "context_pos.f32"),
                    "text-encode").relative(), 1e-5);
  const std::string vae = data_path("wan/vae_a/");
  r = run_command(frugal_binary() + " vae decode --vae " + vae + "Wan2.1_VAE.safetensors -i " + vae + "z.f32 --shape 16,4,3,5 -o " +
                  dir + "/z_decoded.f32 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("[3, 13, 24, 40]"), std::string::npos) << r.output;
  EXPECT_LE(compare(testing::read_f32_file(dir + "/z_decoded.f32").data(), testing::read_f32_file(vae + "z_decoded.f32"),
                    "vae decode").relative(),
            // the f32 FMA convolutions, or AMX-BF16 x3 tiles where granted (tests/video/vae/vae_test_util.h)
            conv_tile_mode_in_effect() == ConvTileMode::kOff ? 2e-5 : 2.5e-4);
  r = run_command(frugal_binary() + " vae encode --vae " + vae + "Wan2.1_VAE.safetensors -i " + vae + "video.f32 --shape 3,9,32,48 -o " +
                  dir + "/mu.f32 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_LE(compare(testing::read_f32_file(dir + "/mu.f32").data(), testing::read_f32_file(vae + "video_mu.f32"), "vae encode")
                .relative(), 2e-5);
  r = run_command(frugal_binary() + " vae decode --vae " + vae + "Wan2.1_VAE.safetensors -i " + vae + "z.f32 --shape 16,4,3,6 -o " +
                  dir + "/bad.f32 2>&1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("needs"), std::string::npos) << r.output;
  fs::remove_all(dir);
}

TEST(VideoCli, TinyRandomModelMakesAClipFromAPrompt) {
  const std::string dir = temp_dir("tiny");
  auto r = run_command(frugal_binary() + " mkmodel --preset wan-tiny -o " + dir + "/model 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_command(frugal_binary() + " inspect " + dir + "/model 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("blocks.0.self_attn.q.weight"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("decoder.upsamples.0.residual.0.gamma"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("spiece.model"), std::string::npos) << r.output;
  r = run_command(frugal_binary() + " inspect " + dir + "/model/Wan2.1_VAE.safetensors 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("[3, 8, 3, 3, 3]"), std::string::npos) << r.output;
  r = run_command(frugal_binary() + " video -m " + dir + "/model -p 'a red circle moving right on a black background'" +
                  " --size 64x48 --frames 9 --steps 3 --sampler dpm++ -o " + dir + "/clip.mp4 --png-dir " + dir +
                  "/frames 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string probe = ffprobe(dir + "/clip.mp4");
  EXPECT_NE(probe.find("nb_read_frames=9"), std::string::npos) << probe;
  EXPECT_NE(probe.find("height=48"), std::string::npos) << probe;
  int pngs = 0;
  for (const auto& e : fs::directory_iterator(dir + "/frames")) pngs += e.path().extension() == ".png";
  EXPECT_EQ(pngs, 9);
  // The same seed gives the same clip, bit for bit, whatever the thread count.
  r = run_command(frugal_binary() + " video -m " + dir + "/model -p 'a blue square' --size 32x32 --frames 5 --steps 2 -t 1 -q" +
                  " --out-raw " + dir + "/a.f32 --seed 7 2>&1 && " + frugal_binary() + " video -m " + dir +
                  "/model -p 'a blue square' --size 32x32 --frames 5 --steps 2 -t 2 -q --out-raw " + dir + "/b.f32 --seed 7 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(testing::read_f32_file(dir + "/a.f32"), testing::read_f32_file(dir + "/b.f32"));
  fs::remove_all(dir);
}

// A model folder's generation_config.json sets the defaults of the flags not given; flags given
// win; a malformed file is an error naming the key.
TEST(VideoCli, GenerationConfigSetsTheDefaultsAndFlagsOverrideIt) {
  const std::string dir = temp_dir("gencfg");
  auto r = run_command(frugal_binary() + " mkmodel --preset wan-tiny -o " + dir + "/model 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::ofstream(dir + "/model/generation_config.json")
      << R"({"size": "32x48", "frames": 5, "steps": 2, "sampler": "euler", "shift": 2.0, "cfg": 1.0})";
  r = run_command(frugal_binary() + " video -m " + dir + "/model -p 'a red circle' -q --json -o " + dir + "/a.mp4");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output.substr(r.output.find('{')));
  EXPECT_EQ(j["width"], 32);
  EXPECT_EQ(j["height"], 48);
  EXPECT_EQ(j["frames"], 5);
  EXPECT_EQ(j["steps"], 2);
  EXPECT_EQ(j["sampler"], "euler");
  EXPECT_EQ(j["dit_passes"], 2) << "cfg 1: one DiT pass per step";
  r = run_command(frugal_binary() + " video -m " + dir + "/model -p 'a red circle' -q --json --frames 9 --cfg 3 -o " + dir +
                  "/b.mp4");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto k = nlohmann::json::parse(r.output.substr(r.output.find('{')));
  EXPECT_EQ(k["frames"], 9);
  EXPECT_EQ(k["width"], 32);
  EXPECT_EQ(k["dit_passes"], 4) << "--cfg 3 given: two passes per step";
  std::ofstream(dir + "/model/generation_config.json") << R"({"frames": 6})";
  r = run_command(frugal_binary() + " video -m " + dir + "/model -p x -q -o " + dir + "/c.mp4 2>&1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("\"frames\" must be an integer 4n+1"), std::string::npos) << r.output;
  std::ofstream(dir + "/model/generation_config.json") << R"({"step": 4})";
  r = run_command(frugal_binary() + " video -m " + dir + "/model -p x -q -o " + dir + "/c.mp4 2>&1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("\"step\" is not a generation setting"), std::string::npos) << r.output;
  fs::remove_all(dir);
}

TEST(VideoCli, VaeDecodeMemoryDoesNotGrowWithLength_slow) {
  const std::string dir = temp_dir("mem");
  auto r = run_command(frugal_binary() + " mkmodel --preset wan-tiny -o " + dir + "/model 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  int64_t peak[2] = {0, 0};
  const int frames[2] = {9, 33};
  for (int i = 0; i < 2; ++i) {
    r = run_command(frugal_binary() + " video -m " + dir + "/model -p 'a cat' --cfg 1 --size 256x256 --frames " +
                    std::to_string(frames[i]) + " --steps 1 -q -o " + dir + "/clip.mp4 --json 2>/dev/null");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const auto summary = last_json(r.output);
    ASSERT_TRUE(summary.is_object()) << r.output;
    peak[i] = summary["vae_decode_peak_rss_bytes"].get<int64_t>();
  }
  std::printf("  VAE decode peak RSS: 9 frames %.1f MiB, 33 frames %.1f MiB\n", peak[0] / 1048576.0, peak[1] / 1048576.0);
  EXPECT_LE(static_cast<double>(peak[1]), 1.3 * static_cast<double>(peak[0]));
  fs::remove_all(dir);
}

// A DiT quantized to a GGUF file (the community's layout) runs from separate part files, ComfyUI style.
TEST(VideoCli, QuantizedGgufDitFromSeparatePartFiles) {
  const std::string model = testing::reference_model_dir("gguf");
  const std::string dir = temp_dir("gguf");
  auto r = run_command(frugal_binary() + " quantize " + model + " " + dir + "/dit-q8_0.gguf q8_0 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_command(frugal_binary() + " inspect " + dir + "/dit-q8_0.gguf 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("Q8_0"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("dim 64, ffn_dim 128, heads 4"), std::string::npos) << r.output;
  const std::string e2e = data_path("wan/e2e_a/");
  r = run_command(frugal_binary() + " video --dit " + dir + "/dit-q8_0.gguf --vae " +
                  data_path("wan/vae_a/Wan2.1_VAE.safetensors") + " --text-encoder " +
                  data_path("wan/t5_a/models_t5_umt5-xxl-enc.safetensors") + " --prompt-ids " + ids_of(e2e + "ids_pos.i32") +
                  " --negative-ids " + ids_of(e2e + "ids_neg.i32") + " --noise " + e2e + "noise.f32" +
                  " --size 96x64 --frames 9 --steps 10 -q --out-raw " + dir + "/video.f32 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // Q8_0 weights and activations (≈ 7e-3 per DiT pass, wan_dit_gguf_test), amplified by CFG 5 (the
  // difference of the two passes is multiplied by 5) over 10 steps: measured 6.8e-2 of the range,
  // held to 1.2e-1.
  EXPECT_LE(compare(testing::read_f32_file(dir + "/video.f32").data(), testing::read_f32_file(e2e + "video.f32"),
                    "Q8_0 GGUF video").relative(), 1.2e-1);
  fs::remove_all(dir);
}

struct BadCase {
  const char* flags;
  const char* needle;
};

TEST(VideoCli, BadInputExitsWithAClearMessage) {
  const std::string model = testing::reference_model_dir("bad");
  const std::string common = frugal_binary() + " video -m " + model + " --prompt-ids 5,6,1 --negative-ids 7,1 --steps 1 -q ";
  const std::vector<BadCase> cases = {
      {"--frames 8 --size 32x32 -o /tmp/x.mp4", "4n+1"},
      {"--frames 5 --size 40x32 -o /tmp/x.mp4", "multiples of 16"},
      {"--frames 5 --size 32 -o /tmp/x.mp4", "WIDTHxHEIGHT"},
      {"--frames 5 --size 32x32 --sampler ddim -o /tmp/x.mp4", "valid samplers"},
      {"--frames 5 --size 32x32 --cfg-high-noise 4 -o /tmp/x.mp4", "cfg_high_noise: this model has one DiT"},
      {"--frames 5 --size 32x32", "name an output"},
      {"--frames 5 --size 32x32 --noise /nonexistent.f32 -o /tmp/x.mp4", "/nonexistent.f32"},
      {"--frames 5 --size 32x32 -o /nonexistent/dir/x.mp4", "/nonexistent/dir"},
  };
  for (const BadCase& c : cases) {
    auto r = run_command(common + c.flags + " 2>&1");
    EXPECT_NE(r.exit_code, 0) << c.flags;
    EXPECT_LT(r.exit_code, 128) << c.flags << " crashed: " << r.output;
    EXPECT_NE(r.output.find(c.needle), std::string::npos) << c.flags << ": " << r.output;
  }
  auto r = run_command(frugal_binary() + " video -m " + model + " --prompt-ids 5,x --frames 5 --size 32x32 -o /tmp/x.mp4 2>&1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("not a token id"), std::string::npos) << r.output;
  r = run_command(frugal_binary() + " video -m " + model + " -p '' --frames 5 --size 32x32 -o /tmp/x.mp4 2>&1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("prompt"), std::string::npos) << r.output;
  r = run_command(frugal_binary() + " video -m /nonexistent/model -p 'a cat' -o /tmp/x.mp4 2>&1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_LT(r.exit_code, 128);
  EXPECT_NE(r.output.find("/nonexistent/model"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace frugal
