// A temporary folder holding a `frugal mkmodel --preset wan-tiny` model and a state folder of its
// own (FRUGAL_STATE_DIR: the watermark key and C2PA development signer land there): where the tests
// that run `frugal video` on the tiny model start. The folder is removed with the object.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

#include "common/subprocess.h"

namespace frugal::testing {

class WanTinyWorkspace {
 public:
  explicit WanTinyWorkspace(const std::string& name)
      : dir_((std::filesystem::temp_directory_path() / ("frugal_" + name + "_" + std::to_string(::getpid()))).string()) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    made_ = run_command(frugal_binary() + " mkmodel --preset wan-tiny -o " + dir_ + "/wan-tiny 2>&1");
  }
  ~WanTinyWorkspace() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  WanTinyWorkspace(const WanTinyWorkspace&) = delete;
  WanTinyWorkspace& operator=(const WanTinyWorkspace&) = delete;

  // Whether mkmodel succeeded; its output otherwise.
  bool ready() const { return made_.exit_code == 0; }
  const std::string& mkmodel_output() const { return made_.output; }
  const std::string& dir() const { return dir_; }
  std::string state_dir() const { return dir_ + "/state"; }
  // `frugal video` on the tiny model (2 steps, 5 frames, quiet) at `size` ("WxH") with this
  // workspace's state folder; append flags and `-o FILE`.
  std::string video_command(const std::string& size) const {
    return "FRUGAL_STATE_DIR=" + state_dir() + " " + frugal_binary() + " video -m " + dir_ +
           "/wan-tiny -p 'a red circle' --size " + size + " --frames 5 --steps 2 -q";
  }

 private:
  std::string dir_;
  CommandResult made_;
};

}  // namespace frugal::testing
