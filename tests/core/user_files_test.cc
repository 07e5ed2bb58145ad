// Tests core/user_files.h: the atomic write (parents made, contents replaced whole, no temporary
// left behind, an unwritable place is an error) and the cache-file rule's order of precedence.
#include "core/user_files.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <vector>

namespace frugal {
namespace {

namespace fs = std::filesystem;

std::string read_all(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(UserFiles, WriteMakesParentsReplacesWholeAndLeavesNoTemporary) {
  const fs::path dir = fs::temp_directory_path() / ("frugal_user_files_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const fs::path file = dir / "a" / "b" / "record.json";
  ASSERT_TRUE(write_file_atomically(file.string(), "first, longer contents")) << "parents are created";
  EXPECT_EQ(read_all(file), "first, longer contents");
  ASSERT_TRUE(write_file_atomically(file.string(), "second"));
  EXPECT_EQ(read_all(file), "second") << "replaced whole, not overwritten in place";
  int entries = 0;
  for (const auto& entry : fs::directory_iterator(file.parent_path())) entries += entry.is_regular_file() ? 1 : 0;
  EXPECT_EQ(entries, 1) << "no temporary left beside the file";
  // A parent that is a regular file cannot be created: an error, not a crash.
  const Status bad = write_file_atomically((file / "under-a-file.json").string(), "x");
  EXPECT_FALSE(bad);
  EXPECT_NE(bad.message().find("cannot"), std::string::npos) << bad.message();
  fs::remove_all(dir);
}

// Sets environment variables for one test and puts the old values back.
class SavedEnv {
 public:
  explicit SavedEnv(std::initializer_list<const char*> names) {
    for (const char* name : names) {
      const char* value = std::getenv(name);
      saved_.push_back({name, value != nullptr, value != nullptr ? value : ""});
    }
  }
  ~SavedEnv() {
    for (const auto& s : saved_) {
      if (s.set) ::setenv(s.name, s.value.c_str(), 1);
      else ::unsetenv(s.name);
    }
  }

 private:
  struct Saved {
    const char* name;
    bool set;
    std::string value;
  };
  std::vector<Saved> saved_;
};

TEST(UserFiles, CacheFileRuleExplicitThenVariableThenXdgThenHome) {
  const SavedEnv saved({"FRUGAL_TEST_CACHE_FILE", "XDG_CACHE_HOME", "HOME"});
  ::setenv("FRUGAL_TEST_CACHE_FILE", "/from/env.json", 1);
  ::setenv("XDG_CACHE_HOME", "/xdg", 1);
  ::setenv("HOME", "/home/u", 1);
  EXPECT_EQ(user_cache_file("/given.json", "FRUGAL_TEST_CACHE_FILE", "c.json"), "/given.json");
  EXPECT_EQ(user_cache_file("", "FRUGAL_TEST_CACHE_FILE", "c.json"), "/from/env.json");
  ::setenv("FRUGAL_TEST_CACHE_FILE", "", 1);  // empty counts as unset
  EXPECT_EQ(user_cache_file("", "FRUGAL_TEST_CACHE_FILE", "c.json"), "/xdg/frugal/c.json");
  ::unsetenv("XDG_CACHE_HOME");
  EXPECT_EQ(user_cache_file("", "FRUGAL_TEST_CACHE_FILE", "c.json"), "/home/u/.cache/frugal/c.json");
}

}  // namespace
}  // namespace frugal
