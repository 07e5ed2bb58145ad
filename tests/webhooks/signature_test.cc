// Standard Webhooks signatures: the specification's published test vector, base64 against
// OpenSSL's encoder, and the secrets that are refused.
#include "webhooks/signature.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <string>

namespace frugal::webhooks {
namespace {

TEST(WebhookSignature, ReproducesTheStandardWebhooksTestVector) {
  // The vector every Standard Webhooks (and Svix) library tests against.
  auto key = decode_webhook_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  ASSERT_TRUE(key) << key.error().to_string();
  EXPECT_EQ(sign_webhook(*key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, R"({"test": 2432232314})"),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST(WebhookSignature, Base64MatchesOpenSslAndRoundTrips) {
  std::string bytes;
  for (int length = 0; length < 70; ++length) {
    std::string expected(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(expected.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
    expected.resize(static_cast<size_t>(n));
    EXPECT_EQ(base64_encode(bytes), expected) << "length " << length;
    auto decoded = base64_decode(expected);
    ASSERT_TRUE(decoded) << expected;
    EXPECT_EQ(*decoded, bytes);
    bytes += static_cast<char>((length * 37 + 11) & 0xff);
  }
  for (const char* bad : {"abc", "a=bc", "ab=c", "@@@@", "ab==cd==", "====", "a==="}) {
    EXPECT_FALSE(base64_decode(bad)) << bad;
  }
}

TEST(WebhookSignature, SecretsWithoutThePrefixOrWithShortKeysAreRefused) {
  EXPECT_FALSE(decode_webhook_secret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));   // no whsec_
  EXPECT_FALSE(decode_webhook_secret("whsec_not base64!"));
  EXPECT_FALSE(decode_webhook_secret("whsec_c2hvcnQ="));                      // "short": 5 bytes
  auto error = decode_webhook_secret("whsec_c2VjcmV0LXRoYXQtbXVzdC1ub3QtbGVhaw=");  // bad padding
  ASSERT_FALSE(error);
  EXPECT_EQ(error.error().message().find("c2VjcmV0"), std::string::npos) << "the secret is never echoed";
}

}  // namespace
}  // namespace frugal::webhooks
