// The object store URL (s3://BUCKET/PREFIX?options): defaults, each option, credentials from the
// environment or a shared-credentials file, and a clear kInvalidArgument for every bad input; the
// XML reader of S3's answers on good, hostile and truncated input.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <vector>

#include "storage/s3_config.h"
#include "storage/s3_xml.h"

namespace frugal::storage {
namespace {

class S3ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secretenv", 1);
    unsetenv("AWS_SESSION_TOKEN");
  }
  void TearDown() override {
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
  }
  static std::string error_of(const std::string& url) {
    auto parsed = parse_s3_url(url);
    EXPECT_FALSE(parsed) << url;
    if (parsed) return "";
    EXPECT_EQ(parsed.error().code(), StatusCode::kInvalidArgument) << url;
    return parsed.error().message();
  }
};

TEST_F(S3ConfigTest, CustomEndpointIsPathStyleWithItsPortAndThePrefix) {
  auto config = parse_s3_url("s3://videos/prod/v1/?endpoint=http://127.0.0.1:4568&region=eu-west-3&part_size_mib=5");
  ASSERT_TRUE(config) << config.error().to_string();
  EXPECT_EQ(config->bucket, "videos");
  EXPECT_EQ(config->prefix, "prod/v1");
  EXPECT_EQ(config->scheme, "http");
  EXPECT_EQ(config->endpoint_host, "127.0.0.1:4568");
  EXPECT_EQ(config->region, "eu-west-3");
  EXPECT_FALSE(config->virtual_hosted);
  EXPECT_EQ(config->part_size_bytes, 5 << 20);
  EXPECT_EQ(config->credentials.access_key_id, "AKIDENV");
  EXPECT_EQ(config->credentials.secret_access_key, "secretenv");
}

TEST_F(S3ConfigTest, AwsDefaultEndpointIsVirtualHostedHttps) {
  auto config = parse_s3_url("s3://my-bucket");
  ASSERT_TRUE(config) << config.error().to_string();
  EXPECT_EQ(config->prefix, "");
  EXPECT_EQ(config->scheme, "https");
  EXPECT_EQ(config->endpoint_host, "s3.us-east-1.amazonaws.com");
  EXPECT_TRUE(config->virtual_hosted);
  EXPECT_EQ(config->part_size_bytes, 8 << 20);
  auto forced = parse_s3_url("s3://my-bucket?addressing=path&endpoint=https%3A%2F%2Fminio.local");
  ASSERT_TRUE(forced) << forced.error().to_string();
  EXPECT_FALSE(forced->virtual_hosted);
  EXPECT_EQ(forced->endpoint_host, "minio.local");
}

TEST_F(S3ConfigTest, CredentialsFileProfileWinsOverTheEnvironment) {
  const std::string path = ::testing::TempDir() + "frugal_s3_credentials_" + std::to_string(getpid());
  std::ofstream(path) << "# comment\n[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key=s1\n\n"
                         "[worker]\naws_access_key_id=AKIDWORKER\naws_secret_access_key = s2\naws_session_token = tok\n";
  auto config = parse_s3_url("s3://bkt?credentials_file=" + path + "&profile=worker");
  ASSERT_TRUE(config) << config.error().to_string();
  EXPECT_EQ(config->credentials.access_key_id, "AKIDWORKER");
  EXPECT_EQ(config->credentials.secret_access_key, "s2");
  EXPECT_EQ(config->credentials.session_token, "tok");
  auto by_default = parse_s3_url("s3://bkt?credentials_file=" + path);
  ASSERT_TRUE(by_default);
  EXPECT_EQ(by_default->credentials.access_key_id, "AKIDDEFAULT");
  EXPECT_NE(error_of("s3://bkt?credentials_file=" + path + "&profile=nope").find("no [nope] profile"), std::string::npos);
  EXPECT_NE(error_of("s3://bkt?credentials_file=/nonexistent/creds").find("cannot read credentials_file"), std::string::npos);
  std::remove(path.c_str());
}

TEST_F(S3ConfigTest, BadInputIsAClearError) {
  EXPECT_NE(error_of("/var/videos").find("must start with s3://"), std::string::npos);
  EXPECT_NE(error_of("s3://Bad_Bucket").find("not a valid S3 bucket name"), std::string::npos);
  EXPECT_NE(error_of("s3://ab").find("not a valid S3 bucket name"), std::string::npos);
  EXPECT_NE(error_of("s3://bkt/../x").find("prefix"), std::string::npos);
  EXPECT_NE(error_of("s3://bkt?endpoint=127.0.0.1:9000").find("http://HOST"), std::string::npos);
  EXPECT_NE(error_of("s3://bkt?endpoint=ftp://h").find("http or https"), std::string::npos);
  EXPECT_NE(error_of("s3://bkt?endpoint=http://h/path").find("no path"), std::string::npos);
  EXPECT_NE(error_of("s3://bkt?part_size_mib=4").find("part_size_mib=4"), std::string::npos);
  EXPECT_NE(error_of("s3://bkt?part_size_mib=8x").find("whole number"), std::string::npos);
  EXPECT_NE(error_of("s3://bkt?addressing=dns").find("path or virtual"), std::string::npos);
  EXPECT_NE(error_of("s3://bkt?colour=blue").find("unknown option \"colour\""), std::string::npos);
  EXPECT_NE(error_of("s3://bkt?region").find("needs a value"), std::string::npos);
  EXPECT_NE(error_of("s3://my.bucket").find("addressing=path"), std::string::npos);
  unsetenv("AWS_SECRET_ACCESS_KEY");
  EXPECT_NE(error_of("s3://bkt").find("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"), std::string::npos);
}

TEST(S3Xml, ReadsS3AnswersAndSurvivesMalformedOnes) {
  const std::string list =
      "<?xml version=\"1.0\"?><ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<KeyCount>2</KeyCount><IsTruncated>false</IsTruncated>"
      "<Contents><Key>a/1.mp4</Key><ETag>&quot;e1&quot;</ETag></Contents>"
      "<Contents><Key>a/&amp;2</Key><ETag>&#34;e2&#x22;</ETag></Contents></ListBucketResult>";
  const auto contents = s3xml::elements(list, "Contents");
  ASSERT_EQ(contents.size(), 2u);
  EXPECT_EQ(s3xml::first_text(contents[0], "Key"), "a/1.mp4");
  EXPECT_EQ(s3xml::first_text(contents[1], "Key"), "a/&2");
  EXPECT_EQ(s3xml::first_text(contents[1], "ETag"), "\"e2\"");
  EXPECT_EQ(s3xml::first_text(list, "Key"), "a/1.mp4") << "<KeyCount> is not <Key>";
  EXPECT_EQ(s3xml::first_text("<Error><Code>AccessDenied</Code></Error>", "Code"), "AccessDenied");
  for (const std::string& bad : std::vector<std::string>{"", "<", "<Code", "<Code>", "<Code>x", "<Code/>", "<Code>&#99999999999;</Code>",
                                "<Contents><Key>k</Ke", "&&&;<<>>", std::string(3, '\0')}) {
    EXPECT_EQ(s3xml::first_text(bad, "Key"), "") << bad;
    EXPECT_TRUE(s3xml::elements(bad, "Contents").empty()) << bad;
    (void)s3xml::first_text(bad, "Code");  // must not crash
  }
  EXPECT_EQ(s3xml::escape("<a&\"b>"), "&lt;a&amp;&quot;b&gt;");
}

}  // namespace
}  // namespace frugal::storage
