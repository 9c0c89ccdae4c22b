#pragma once
// One webhook delivery on the wire (docs/events.md: Webhooks): the signed JSON body and the POST.
//
// Body: {"webhook_id", "timestamp" (Unix seconds at sending), "event": the feed event}. Headers:
// X-Ctxmgr-Signature: sha256=<hex HMAC-SHA256 of the body under the webhook's secret>,
// X-Ctxmgr-Timestamp (the body's timestamp: the signature covers it, so a receiver that refuses
// old timestamps refuses replays), X-Ctxmgr-Webhook-Id and X-Ctxmgr-Event-Seq (the receiver's key
// to drop a repeat: a delivery whose answer was lost is sent again).
//
// Thread-safety: post_webhook may run on several threads at once.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "events/outbound_policy.hpp"

namespace ctxmgr::kernel {

std::string webhook_body(std::string_view webhook_id, std::int64_t unix_seconds,
                         std::string_view event_json);
// "sha256=" and the hex HMAC-SHA256 of `body` under `secret`.
std::string webhook_signature(std::string_view secret, std::string_view body);

struct WebhookPost {
  std::string url;
  std::string webhook_id;
  std::string secret;
  std::int64_t seq = 0;
  std::string event_json;
  std::chrono::milliseconds timeout{10000};
};

struct PostOutcome {
  int status = 0;     // the receiver's HTTP status; 0 when it gave none
  std::string error;  // empty on a 2xx
  std::int64_t duration_ms = 0;
  bool delivered() const { return status >= 200 && status < 300; }
};

// Checks the URL and its addresses against `policy`, then POSTs to exactly those addresses.
// Never throws; a refusal by the policy is an outcome like any other failure (status 0).
PostOutcome post_webhook(const OutboundPolicy& policy, const WebhookPost& post,
                         std::int64_t unix_seconds);

}  // namespace ctxmgr::kernel
