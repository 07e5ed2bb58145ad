// Standard Webhooks signatures (webhooks layer; https://www.standardwebhooks.com): the sender signs
// "{webhook-id}.{webhook-timestamp}.{body}" with HMAC-SHA256 under the endpoint's secret and sends
// `webhook-signature: v1,<base64 of the MAC>`. A secret is "whsec_" + the base64 of its key bytes,
// as every Standard Webhooks library (and OpenAI's `client.webhooks.unwrap`) decodes it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/expected.h"

namespace frugal::webhooks {

// RFC 4648 base64 with padding.
std::string base64_encode(std::string_view bytes);
// kInvalidArgument on a character outside the alphabet or bad padding.
Expected<std::string> base64_decode(std::string_view text);

// The key bytes of "whsec_<base64>"; kInvalidArgument (without echoing the secret) when the prefix is
// missing, the base64 is bad, or the key is shorter than 16 bytes.
Expected<std::string> decode_webhook_secret(const std::string& secret);

// "v1," + base64(HMAC-SHA256(key, id + "." + timestamp + "." + body)).
std::string sign_webhook(const std::string& key, const std::string& webhook_id, int64_t timestamp,
                         std::string_view body);

}  // namespace frugal::webhooks
