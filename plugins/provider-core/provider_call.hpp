#pragma once
// One provider call with the retry policy (retry_policy.hpp) and the error mapping every
// provider plugin shares: a timeout is provider_timeout (504); 401/403 provider_error "rejected
// the credentials"; 429 after the last retry rate_limited with `retry_after`; other non-2xx
// provider_error with the provider's own message; no connection provider_error. Never the key.

#include <functional>
#include <string>
#include <string_view>

#include "ctxmgr/sdk/error.hpp"
#include "ctxmgr/sdk/host.hpp"
#include "http_post.hpp"

namespace ctxmgr::provider {

// Extracts the provider's message from an error body ("" when there is none).
using MessageOf = std::function<std::string(const std::string& body)>;

// The 2xx body, or the mapped error. `provider` names the provider in messages and logs. With
// request.on_data set, a 2xx body went there and the result is empty; a stream cut by the
// provider is provider_error (a timeout provider_timeout), one stopped by on_data is no error.
// Counts into `host`'s metrics, labelled with the instance name: ctxmgr_provider_requests_total
// {provider,outcome} (outcome: ok or the error code), ctxmgr_provider_retries_total{provider},
// ctxmgr_provider_request_duration_seconds{provider} (the whole call, retries included).
// `family` names the metrics: "provider" as above, "embedder" for ctxmgr_embedder_requests_total
// {embedder,outcome} and its retries and durations.
sdk::Result<std::string> call_with_retries(const HttpRequest& request, std::string_view provider,
                                           int max_retries, sdk::Host& host,
                                           const MessageOf& message_of,
                                           std::string_view family = "provider");

}  // namespace ctxmgr::provider
