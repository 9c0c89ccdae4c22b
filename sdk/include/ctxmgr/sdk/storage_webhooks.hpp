#pragma once
// Since ABI 1.12. The webhook capability of a storage (docs/events.md: Webhooks): the webhooks
// agents registered, where each one's deliveries have reached (its cursor, an audit seq), who is
// delivering it now (a lease, so that one server delivers each webhook whichever server the
// event was committed on), and the log of delivery attempts. A second base class beside Storage
// (CTXMGR_CAP_STORAGE_WEBHOOKS).
//
// Thread-safety: as Storage. Errors: as Transaction's; a second webhook with an existing id is
// `conflict`.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ctxmgr/sdk/abi.h"
#include "ctxmgr/sdk/error.hpp"
#include "ctxmgr/sdk/storage.hpp"

namespace ctxmgr::sdk {

struct WebhookRow {
  std::string id;     // a UUID the kernel makes
  std::string owner;  // the agent that registered it: deliveries show what it may read
  std::string url;
  std::string secret;      // the HMAC key, as given (never shown again by the API)
  std::string agent_id;    // filter: this owner's contexts only (empty: any)
  std::string context_id;  // filter: this context only (empty: any)
  std::string actions;     // filter: comma-separated feed actions (empty: all)
  std::int64_t created_at_us = 0;
  std::int64_t cursor = 0;   // every event up to this seq is delivered (or not for this webhook)
  std::string lease_holder;  // the server delivering it, empty when none
  std::int64_t lease_until_us = 0;
};

// One attempt to deliver one event.
struct WebhookDelivery {
  std::string webhook_id;
  std::int64_t seq = 0;      // the event's
  std::int64_t attempt = 1;  // 1 for the first try
  std::int64_t at_us = 0;
  int status = 0;     // the receiver's HTTP status, 0 when there was none (refused, timed out)
  std::string error;  // why it failed, empty when it succeeded
  std::int64_t duration_ms = 0;
};

class CTXMGR_SDK_VISIBLE StorageWebhooks {
 public:
  virtual ~StorageWebhooks();
  StorageWebhooks() = default;
  StorageWebhooks(const StorageWebhooks&) = delete;
  StorageWebhooks& operator=(const StorageWebhooks&) = delete;

  // Within `tx` (a transaction this storage began, which also carries the change's audit event).
  virtual Status insert_webhook(Transaction& tx, const WebhookRow& row) = 0;
  // Removes it and its delivery log; false: no such webhook.
  virtual Result<bool> delete_webhook(Transaction& tx, std::string_view id) = 0;

  virtual Result<std::optional<WebhookRow>> webhook(std::string_view id) = 0;
  // In id order; `owner` empty: every agent's.
  virtual Result<std::vector<WebhookRow>> webhooks(std::string_view owner) = 0;

  // Gives the delivery of webhook `id` to `holder` until `until_us` when nobody holds it at
  // `now_us` (no holder, or the lease ran out) or `holder` already does; true when `holder` holds
  // it now. Atomic across processes.
  virtual Result<bool> lease_webhook(std::string_view id, std::string_view holder,
                                     std::int64_t now_us, std::int64_t until_us) = 0;
  // Moves the cursor forward to `cursor` while `holder` holds the lease; false when it does not
  // (the lease was lost: another server delivers now) or the webhook is gone.
  virtual Result<bool> advance_webhook(std::string_view id, std::string_view holder,
                                       std::int64_t cursor) = 0;

  virtual Status log_delivery(const WebhookDelivery& delivery) = 0;
  // Newest first: those of events below `before_seq` when it is > 0, at most `limit`.
  virtual Result<std::vector<WebhookDelivery>> deliveries(std::string_view id,
                                                          std::int64_t before_seq,
                                                          std::int64_t limit) = 0;
};

}  // namespace ctxmgr::sdk
