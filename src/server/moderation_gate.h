// Prompt moderation at the API's door (server layer): which texts of a request are checked, and the
// OpenAI-style error a refused request gets. The decision itself is trust::Moderator's.
//
// NOTE (what each action does, by route; docs/design/trust-moderation.md):
//   block - HTTP 400 {"error": {"type": "invalid_request_error", "code": "content_policy_violation",
//           "param": <the field>, "category": <the policy category>, "message": ...}} on every route;
//           nothing is queued, tokenized for a model, or forwarded to the overflow endpoint.
//   hold  - video: the job is created with hold_reason set (jobs::JobRecord::hold_reason), for the
//           human-review queue; the LLM routes answer synchronously and have no queue to wait in, so
//           a hold is refused like a block but with code "content_policy_review_required" — as it
//           is on the video routes of a server without reviewer keys (nobody could release it).
//   allow - served (a matched allow category is only counted).
// The message names the category, never the matched term (that is logged), so the error does not
// teach a client which spelling to change.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/error_mapping.h"
#include "server/openai_schema.h"
#include "tokenizer/tokenizer.h"
#include "trust/moderator.h"

namespace frugal {

inline constexpr const char* kContentPolicyViolation = "content_policy_violation";
inline constexpr const char* kContentPolicyReviewRequired = "content_policy_review_required";

// Every text a request carries: completions prompts (token prompts decoded with `tokenizer` when it
// is given; without one they are not checked), or every chat message's content and tool-call
// arguments, whatever the role.
std::vector<std::string> moderation_texts(const ApiRequest& request, const Tokenizer* tokenizer);

// The 400 for a blocked verdict, or (hold_refused) a held one on a route that cannot hold;
// `param` names the request field ("prompt", "messages", "input").
ApiError content_policy_error(const trust::ModerationVerdict& verdict, std::string param, bool held);

// The LLM routes' check: nullopt to serve the request, else the error to answer with. `route` labels
// the decision counter. Logs every non-allow verdict with its matched term.
std::optional<ApiError> moderate_llm_request(const trust::Moderator& moderator, const ApiRequest& request,
                                             const Tokenizer* tokenizer, std::string_view route);

}  // namespace frugal
