#include "trust/classifier_check.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <thread>
#include <vector>

#include "media/png_writer.h"

extern char** environ;

namespace frugal::trust {
namespace {

constexpr size_t kMaxOutputBytes = 4096;

// A temporary folder that deletes itself.
class TempDir {
 public:
  static Expected<TempDir> make() {
    std::string pattern = (std::filesystem::temp_directory_path() / "frugal-classify-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) return unavailable("cannot make a temporary folder for the classifier");
    TempDir dir;
    dir.path_ = pattern;
    return dir;
  }
  TempDir() = default;
  TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  TempDir& operator=(TempDir&&) = delete;
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct ProcessResult {
  bool timed_out = false;
  int wait_status = 0;
  std::string output;  // stdout, at most kMaxOutputBytes
};

// Runs the command with `dir` as its argument; every string is built before fork (the child only
// calls async-signal-safe functions).
Expected<ProcessResult> run_command(const std::string& command, const std::string& dir, const PostCheckInput& input,
                                    std::chrono::milliseconds timeout) {
  const std::string script = command + " \"$@\"";
  std::vector<std::string> env_strings = {"FRUGAL_JOB_ID=" + input.job_id, "FRUGAL_PROMPT=" + input.prompt};
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    if (entry.rfind("FRUGAL_JOB_ID=", 0) != 0 && entry.rfind("FRUGAL_PROMPT=", 0) != 0) env_strings.push_back(entry);
  }
  std::vector<char*> envp;
  for (std::string& entry : env_strings) envp.push_back(entry.data());
  envp.push_back(nullptr);
  const char* argv[] = {"sh", "-c", script.c_str(), "sh", dir.c_str(), nullptr};
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return unavailable("cannot make a pipe for the classifier");
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(out[0]);
    ::close(out[1]);
    return unavailable("cannot start the classifier (fork failed)");
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    const int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    ::dup2(out[1], STDOUT_FILENO);
    ::execve("/bin/sh", const_cast<char* const*>(argv), envp.data());
    ::_exit(127);
  }
  ::setpgid(pid, pid);
  ::close(out[1]);
  ProcessResult result;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool open = true;
  while (open) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      break;
    }
    pollfd fd{out[0], POLLIN, 0};
    if (::poll(&fd, 1, static_cast<int>(std::min<int64_t>(left.count(), 100))) <= 0) continue;
    char buffer[1024];
    const ssize_t n = ::read(out[0], buffer, sizeof buffer);
    if (n <= 0) {
      open = false;
    } else if (result.output.size() < kMaxOutputBytes) {
      result.output.append(buffer, std::min<size_t>(static_cast<size_t>(n), kMaxOutputBytes - result.output.size()));
    }
  }
  ::close(out[0]);
  // The pipe closed: the command is exiting; give it until the deadline to be reaped.
  while (!result.timed_out) {
    const pid_t done = ::waitpid(pid, &result.wait_status, WNOHANG);
    if (done == pid) return result;
    if (std::chrono::steady_clock::now() >= deadline) {
      result.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(-pid, SIGKILL);
  ::waitpid(pid, &result.wait_status, 0);
  return result;
}

std::string trim(const std::string& s) {
  const size_t begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(" \t\r\n") - begin + 1);
}

}  // namespace

Expected<CheckOutcome> ClassifierCommandCheck::run(const PostCheckInput& input) const {
  auto dir = TempDir::make();
  if (!dir) return dir.error();
  for (const SampledFrame& frame : input.frames) {
    const std::string path = dir->path() + "/frame_" + std::to_string(frame.index) + ".png";
    const media::RgbImage& image = frame.image;
    if (Status s = media::write_png(path, image.pixels, image.width, image.height); !s) return s;
  }
  auto result = run_command(command_, dir->path(), input, timeout_);
  if (!result) return result.error();
  if (result->timed_out) {
    return unavailable("the classifier did not finish within " + std::to_string(timeout_.count()) + " ms");
  }
  const std::string output = trim(result->output);
  if (WIFEXITED(result->wait_status)) {
    const int code = WEXITSTATUS(result->wait_status);
    if (code == 0) return CheckOutcome{name(), false, output.empty() ? "passed" : output};
    if (code == 1) return CheckOutcome{name(), true, output.empty() ? "flagged" : output};
    return unavailable("the classifier exited with status " + std::to_string(code) +
                       (output.empty() ? std::string() : ": " + output));
  }
  return unavailable("the classifier was killed by signal " + std::to_string(WTERMSIG(result->wait_status)));
}

}  // namespace frugal::trust
