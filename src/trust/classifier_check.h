// ClassifierCommandCheck: the hook for an operator's own classifier (trust layer). frugal writes the
// sampled frames as PNG files (frame_<index>.png) into a fresh temporary folder and runs
//   /bin/sh -c '<command> "$@"' sh <folder>
// with FRUGAL_JOB_ID and FRUGAL_PROMPT in its environment, stdin from /dev/null.
//   exit 0           → pass;
//   exit 1           → flagged: the job is held; the first 4 KiB of stdout is the reviewer's detail;
//   anything else, a signal, or no exit within the timeout (the process group is killed)
//                    → the check failed to run, which holds the job too.
// The folder is deleted afterwards. Any language works: a Python script around an NSFW model, a
// call to a cloud moderation API, a shell one-liner in tests.
#pragma once

#include <chrono>
#include <string>

#include "trust/post_check.h"

namespace frugal::trust {

class ClassifierCommandCheck final : public PostCheck {
 public:
  ClassifierCommandCheck(std::string command, std::chrono::milliseconds timeout)
      : command_(std::move(command)), timeout_(timeout) {}
  std::string name() const override { return "classifier"; }
  Expected<CheckOutcome> run(const PostCheckInput& input) const override;

 private:
  std::string command_;
  std::chrono::milliseconds timeout_;
};

}  // namespace frugal::trust
