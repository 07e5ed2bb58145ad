// `frugal video` with bad model files: each is refused before any work with a message naming the
// part and what is wrong, and a plain non-zero exit (never a signal). Request errors (frames,
// sizes, prompt, sampler) are in video_cli_test's BadInputExitsWithAClearMessage.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/subprocess.h"
#include "common/test_data.h"

namespace frugal {
namespace {

namespace fs = std::filesystem;
using testing::data_path;
using testing::frugal_binary;
using testing::run_command;

struct BadModel {
  std::string what;
  std::string model_flags;
  std::vector<std::string> needles;  // every one must be in the output
};

TEST(VideoCliErrors, BadModelFilesExitWithAClearMessage) {
  const fs::path dir = fs::temp_directory_path() / ("frugal_video_cli_errors_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "wrong_shape");
  const std::string dit_a = data_path("wan/dit_a/diffusion_pytorch_model.safetensors");
  const std::string dit_b = data_path("wan/dit_b/diffusion_pytorch_model.safetensors");
  const std::string vae = data_path("wan/vae_a/Wan2.1_VAE.safetensors");
  const std::string t5 = data_path("wan/t5_a/models_t5_umt5-xxl-enc.safetensors");

  // A DiT cut off in its data section, and a folder whose config.json is another model's (dit_b's
  // dim 132) beside dit_a's dim-64 weights: a tensor of the wrong shape.
  std::ifstream in(dit_a, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  ASSERT_GT(bytes.size(), 100000u);
  std::ofstream(dir / "truncated.safetensors", std::ios::binary).write(bytes.data(), 100000);
  fs::copy_file(data_path("wan/dit_b/config.json"), dir / "wrong_shape" / "config.json");
  fs::create_symlink(dit_a, dir / "wrong_shape" / "diffusion_pytorch_model.safetensors");
  fs::create_symlink(vae, dir / "wrong_shape" / "Wan2.1_VAE.safetensors");
  fs::create_symlink(t5, dir / "wrong_shape" / "models_t5_umt5-xxl-enc.safetensors");

  const auto parts = [](const std::string& d, const std::string& v, const std::string& t) {
    return "--dit " + d + " --vae " + v + " --text-encoder " + t;
  };
  const std::string truncated = (dir / "truncated.safetensors").string();
  const std::vector<BadModel> cases = {
      {"missing DiT file", parts("/nonexistent/dit.safetensors", vae, t5), {"DiT", "/nonexistent/dit.safetensors"}},
      {"missing tokenizer", parts(dit_a, vae, t5) + " --tokenizer /nonexistent/spiece.model",
       {"tokenizer", "/nonexistent/spiece.model"}},
      {"truncated DiT", parts(truncated, vae, t5), {"DiT", truncated, "outside the data section"}},
      {"tensor of the wrong shape", "-m " + (dir / "wrong_shape").string(),
       {"patch_embedding.weight", "[64, 16, 1, 2, 2]", "needs [132, 16, 1, 2, 2]"}},
      {"DiT and text encoder do not fit", parts(dit_b, vae, t5), {"text encoder's width 32", "text_dim 48"}},
      {"a DiT given as the VAE", parts(dit_a, dit_a, t5), {"VAE", "not a Wan2.1 VAE"}},
      {"a VAE given as the text encoder", parts(dit_a, vae, vae), {"text encoder", "token_embedding.weight"}},
  };
  for (const BadModel& c : cases) {
    SCOPED_TRACE(c.what);
    const auto r = run_command(frugal_binary() + " video " + c.model_flags +
                               " --prompt-ids 5,6,1 --negative-ids 7,1 --steps 1 --frames 5 --size 32x32 -q -o " +
                               (dir / "x.mp4").string() + " 2>&1");
    EXPECT_NE(r.exit_code, 0) << r.output;
    EXPECT_LT(r.exit_code, 128) << "crashed: " << r.output;
    EXPECT_NE(r.output.find("error"), std::string::npos) << r.output;
    for (const std::string& needle : c.needles) EXPECT_NE(r.output.find(needle), std::string::npos) << needle << "\n" << r.output;
    EXPECT_FALSE(fs::exists(dir / "x.mp4")) << "no output file from a refused run";
  }
  // `inspect` says the same about the truncated file.
  const auto r = run_command(frugal_binary() + " inspect " + truncated + " 2>&1");
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_LT(r.exit_code, 128) << r.output;
  EXPECT_NE(r.output.find("outside the data section"), std::string::npos) << r.output;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace frugal
