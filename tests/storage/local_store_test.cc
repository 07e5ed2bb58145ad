// LocalDirectoryStore: put/get round trip, replace, expiry (get and sweep), prefix removal, and
// keys that could escape the folder refused.
#include "storage/local_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace frugal::storage {
namespace {

namespace fs = std::filesystem;

class LocalStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = ::testing::TempDir() + "frugal_store_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(root_);
    auto store = LocalDirectoryStore::open(root_);
    ASSERT_TRUE(store) << store.error().to_string();
    store_ = std::move(*store);
  }
  void TearDown() override { fs::remove_all(root_); }
  std::string stage(const std::string& name, const std::string& bytes) {
    const std::string path = store_->staging_dir() + "/" + name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  std::string root_;
  std::unique_ptr<LocalDirectoryStore> store_;
};

TEST_F(LocalStoreTest, PutThenGetGivesTheBytesAndMovesTheStagedFile) {
  const std::string staged = stage("a.bin", std::string("abc\0def", 7));
  ASSERT_TRUE(store_->put_file("video_1/video.mp4", staged, 0).is_ok());
  EXPECT_FALSE(fs::exists(staged));
  auto bytes = store_->get("video_1/video.mp4", 100);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(*bytes, std::string("abc\0def", 7));
  EXPECT_TRUE(store_->exists("video_1/video.mp4", 100));
}

TEST_F(LocalStoreTest, PutReplacesAnExistingObject) {
  ASSERT_TRUE(store_->put_file("k/x", stage("1", "old"), 0).is_ok());
  ASSERT_TRUE(store_->put_file("k/x", stage("2", "new"), 0).is_ok());
  EXPECT_EQ(*store_->get("k/x", 0), "new");
}

TEST_F(LocalStoreTest, ExpiredObjectsAreNotServedAndAreSwept) {
  ASSERT_TRUE(store_->put_file("j/a", stage("a", "A"), /*expires_at=*/1000).is_ok());
  ASSERT_TRUE(store_->put_file("j/b", stage("b", "B"), /*expires_at=*/0).is_ok());
  EXPECT_TRUE(store_->get("j/a", 999));
  auto expired = store_->get("j/a", 1000);
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->sweep_expired(999), 0);
  EXPECT_EQ(store_->sweep_expired(1000), 1);
  EXPECT_FALSE(fs::exists(root_ + "/objects/j/a"));
  EXPECT_TRUE(store_->get("j/b", 1 << 30)) << "no expiry: kept";
}

TEST_F(LocalStoreTest, RemovePrefixDeletesEveryObjectOfAJob) {
  ASSERT_TRUE(store_->put_file("video_9/video.mp4", stage("v", "V"), 50).is_ok());
  ASSERT_TRUE(store_->put_file("video_9/thumbnail.png", stage("t", "T"), 50).is_ok());
  ASSERT_TRUE(store_->put_file("video_10/video.mp4", stage("w", "W"), 50).is_ok());
  ASSERT_TRUE(store_->remove_prefix("video_9").is_ok());
  EXPECT_FALSE(store_->exists("video_9/video.mp4", 0));
  EXPECT_FALSE(store_->exists("video_9/thumbnail.png", 0));
  EXPECT_TRUE(store_->exists("video_10/video.mp4", 0));
  EXPECT_TRUE(store_->remove_prefix("video_9").is_ok()) << "absent is not an error";
}

TEST(ObjectKey, OnlyPlainRelativeKeysAreValid) {
  EXPECT_TRUE(is_valid_object_key("video_ab/video.mp4"));
  for (const char* bad : {"", "/abs", "a//b", "../x", "a/../b", "a/./b", "a b", "a\\b", "a/", "x\n"}) {
    EXPECT_FALSE(is_valid_object_key(bad)) << bad;
  }
}

TEST_F(LocalStoreTest, InvalidKeysAreRefusedNotWritten) {
  const Status s = store_->put_file("../escape", stage("e", "E"), 0);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(root_ + "/escape"));
  EXPECT_FALSE(store_->get("../escape", 0));
}

}  // namespace
}  // namespace frugal::storage
