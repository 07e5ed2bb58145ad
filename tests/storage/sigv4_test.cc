// SigV4: the AWS documentation's published S3 examples (Authorization header: GET Object, PUT Object,
// GET Bucket Lifecycle, GET Bucket (list); query string: the presigned GET of test.txt) and cases of
// the general AWS SigV4 test suite (get-vanilla, get-vanilla-query-order-key-case, post-vanilla,
// get-utf8), reproduced exactly: canonical-request hashes, string to sign, signing key, signature.
#include "storage/sigv4.h"

#include <gtest/gtest.h>

namespace frugal::storage::sigv4 {
namespace {

// The S3 examples' credentials and time (Signature Calculations for the Authorization Header,
// and Authenticating Requests: Using Query Parameters, in the Amazon S3 API reference).
const Credentials kS3Example{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
const Scope kS3Scope{"20130524", "us-east-1", "s3"};
const std::string kS3Date = "20130524T000000Z";
const std::string kS3Host = "examplebucket.s3.amazonaws.com";

// The general SigV4 test suite's credentials and time.
const Credentials kSuite{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
const Scope kSuiteScope{"20150830", "us-east-1", "service"};
const std::string kSuiteDate = "20150830T123600Z";

std::string s3_prefix(const std::string& signed_headers) {
  return "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=" +
         signed_headers + ",Signature=";
}

TEST(SigV4, HashesAndTimeFormat) {
  EXPECT_EQ(sha256_hex(""), kEmptyPayloadHash);
  EXPECT_EQ(sha256_hex("Welcome to Amazon S3."), "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  EXPECT_EQ(amz_date(1369353600), kS3Date);  // 2013-05-24 00:00:00 UTC
  EXPECT_EQ(amz_date(1440938160), kSuiteDate);
  EXPECT_EQ(uri_encode("a b/c~d$e", true), "a%20b/c~d%24e");
  EXPECT_EQ(uri_encode("a/b", false), "a%2Fb");
  EXPECT_EQ(uri_encode("\xe1\x88\xb4", true), "%E1%88%B4");
}

TEST(SigV4, S3GetObjectHeaderExample) {
  const Request request{"GET",
                        "/test.txt",
                        {},
                        {{"Host", kS3Host},
                         {"Range", "bytes=0-9"},
                         {"x-amz-content-sha256", kEmptyPayloadHash},
                         {"x-amz-date", kS3Date}},
                        kEmptyPayloadHash};
  std::string signed_headers;
  const std::string canonical = canonical_request(request, &signed_headers);
  EXPECT_EQ(canonical,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(string_to_sign(kS3Date, kS3Scope, canonical),
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(authorization_header(request, kS3Example, kS3Scope, kS3Date),
            s3_prefix("host;range;x-amz-content-sha256;x-amz-date") +
                "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, S3PutObjectHeaderExample) {
  const std::string payload_hash = sha256_hex("Welcome to Amazon S3.");
  const Request request{"PUT",
                        "/test$file.text",
                        {},
                        {{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                         {"Host", kS3Host},
                         {"x-amz-date", kS3Date},
                         {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                         {"x-amz-content-sha256", payload_hash}},
                        payload_hash};
  const std::string canonical = canonical_request(request, nullptr);
  EXPECT_NE(canonical.find("\n/test%24file.text\n"), std::string::npos) << canonical;
  EXPECT_EQ(sha256_hex(canonical), "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
  EXPECT_EQ(authorization_header(request, kS3Example, kS3Scope, kS3Date),
            s3_prefix("date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class") +
                "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4, S3BucketLifecycleAndListExamples) {
  const Params headers = {{"Host", kS3Host}, {"x-amz-content-sha256", kEmptyPayloadHash}, {"x-amz-date", kS3Date}};
  const Request lifecycle{"GET", "/", {{"lifecycle", ""}}, headers, kEmptyPayloadHash};
  EXPECT_EQ(sha256_hex(canonical_request(lifecycle, nullptr)),
            "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca");
  EXPECT_EQ(signature(lifecycle, kS3Example, kS3Scope, kS3Date),
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
  const Request list{"GET", "/", {{"prefix", "J"}, {"max-keys", "2"}}, headers, kEmptyPayloadHash};
  EXPECT_EQ(canonical_query(list.query), "max-keys=2&prefix=J");
  EXPECT_EQ(sha256_hex(canonical_request(list, nullptr)),
            "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7");
  EXPECT_EQ(signature(list, kS3Example, kS3Scope, kS3Date),
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4, S3PresignedUrlExample) {
  const Request request{"GET", "/test.txt", {}, {{"Host", kS3Host}}, ""};
  const std::string query = presigned_query(request, kS3Example, kS3Scope, kS3Date, 86400);
  EXPECT_EQ(query,
            "X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
            "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST(SigV4, PresignedQueryChangesWithEveryInput) {
  const Request request{"GET", "/test.txt", {}, {{"Host", kS3Host}}, ""};
  const std::string base = presigned_query(request, kS3Example, kS3Scope, kS3Date, 86400);
  EXPECT_NE(presigned_query(request, kS3Example, kS3Scope, kS3Date, 3600), base);
  Request other_key = request;
  other_key.path = "/test2.txt";
  EXPECT_NE(presigned_query(other_key, kS3Example, kS3Scope, kS3Date, 86400), base);
  Credentials with_token = kS3Example;
  with_token.session_token = "tok/en";
  const std::string tokened = presigned_query(request, with_token, kS3Scope, kS3Date, 86400);
  EXPECT_NE(tokened.find("X-Amz-Security-Token=tok%2Fen&"), std::string::npos) << tokened;
}

TEST(SigV4, GeneralTestSuiteCases) {
  EXPECT_EQ(hex_encode(signing_key(kSuite.secret_access_key, kSuiteScope)),
            "938127b5336810ddb6a5d6af445fcac9e371f9ed418ed386b022aed82901be75");
  const Params headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", kSuiteDate}};
  const Request vanilla{"GET", "/", {}, headers, kEmptyPayloadHash};
  EXPECT_EQ(sha256_hex(canonical_request(vanilla, nullptr)),
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_EQ(authorization_header(vanilla, kSuite, kSuiteScope, kSuiteDate),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request,"
            "SignedHeaders=host;x-amz-date,Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  const Request query_order{"GET", "/", {{"Param2", "value2"}, {"Param1", "value1"}}, headers, kEmptyPayloadHash};
  EXPECT_EQ(signature(query_order, kSuite, kSuiteScope, kSuiteDate),
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
  const Request post{"POST", "/", {}, headers, kEmptyPayloadHash};
  EXPECT_EQ(signature(post, kSuite, kSuiteScope, kSuiteDate),
            "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
  const Request utf8{"GET", "/\xe1\x88\xb4", {}, headers, kEmptyPayloadHash};
  EXPECT_EQ(signature(utf8, kSuite, kSuiteScope, kSuiteDate),
            "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85");
}

TEST(SigV4, HeaderValuesAreTrimmedAndRepeatedNamesJoined) {
  const Request request{"GET", "/", {}, {{"My-Header1", "  a   b   c  "}, {"my-header1", "d"}, {"Host", "h"}}, "x"};
  std::string names;
  const std::string canonical = canonical_request(request, &names);
  EXPECT_EQ(names, "host;my-header1");
  EXPECT_NE(canonical.find("\nmy-header1:a b c,d\n"), std::string::npos) << canonical;
}

}  // namespace
}  // namespace frugal::storage::sigv4
