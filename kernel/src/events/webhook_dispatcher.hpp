#pragma once
// Webhook delivery (docs/events.md: Webhooks): every registered webhook's feed events POSTed to
// its URL, signed, in seq order, one at a time.
//
// One server delivers each webhook: the dispatcher leases the webhooks it can (a row-level lease
// in the storage, renewed every third of its length), so with several servers on one database
// each webhook has one deliverer, and another server takes over when the holder stops renewing.
// For a leased webhook the dispatcher follows the change feed (an EventHub stream as the
// webhook's owner, with the webhook's filters, from the webhook's cursor: only what the owner may
// read is sent). An event is retried with exponential backoff (retry_min to retry_max) until
// the receiver answers 2xx; only then does the cursor move past it, so a receiver that is down
// for an hour gets every event after it comes back, in order, and a server that dies mid-way
// leaves the event to the next holder (which may send it again: receivers drop repeats by
// X-Ctxmgr-Event-Seq). Every attempt is in the delivery log.
//
// Threads: one that leases and schedules, and `workers` that POST (a slow receiver holds one
// worker for at most `timeout`). Thread-safety: wake() from any thread; start and stop once.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/access_cache.hpp"
#include "ctxmgr/sdk/host.hpp"
#include "ctxmgr/sdk/storage_webhooks.hpp"
#include "events/event_hub.hpp"
#include "events/outbound_policy.hpp"
#include "events/webhook_post.hpp"
#include "metrics/metrics_registry.hpp"

namespace ctxmgr::kernel {

struct WebhookSettings {
  OutboundPolicy policy;
  std::chrono::milliseconds timeout{10000};     // one POST, connection included
  std::chrono::milliseconds retry_min{1000};    // after the first failure
  std::chrono::milliseconds retry_max{300000};  // backoff doubles up to this
  std::chrono::milliseconds lease{30000};       // how long a server holds a webhook unrenewed
  std::size_t workers = 4;
};

// The filter of a stored webhook, as the feed takes it.
EventFilter webhook_filter(const sdk::WebhookRow& row);

class WebhookDispatcher {
 public:
  WebhookDispatcher(sdk::StorageWebhooks& store, EventHub& hub, AccessCache& access,
                    MetricsRegistry& metrics, const sdk::Clock& clock, WebhookSettings settings);
  ~WebhookDispatcher();
  WebhookDispatcher(const WebhookDispatcher&) = delete;
  WebhookDispatcher& operator=(const WebhookDispatcher&) = delete;

  void start();
  // Stops leasing and posting; a POST under way finishes (at most `timeout`) and is logged; the
  // leases are given back so that another server goes on at once.
  void stop();
  // Look at the webhooks now (one was registered or removed on this server), not at the next
  // lease pass.
  void rescan();

  const OutboundPolicy& policy() const { return settings_.policy; }
  // Who this server is in the leases (a random id per process).
  const std::string& holder() const { return holder_; }

  struct Active;  // webhook_dispatcher.cpp

 private:
  struct Job {
    std::shared_ptr<Active> hook;
    WebhookPost post;
  };
  struct Done {
    std::shared_ptr<Active> hook;
    std::int64_t seq = 0;
    PostOutcome outcome;
  };
  void run();
  void work();
  void start_workers();  // the scheduler thread's
  void lease_pass();
  // Takes the stream's events, posts the first when it is due; the time of the next retry.
  void schedule(const std::shared_ptr<Active>& hook, std::chrono::steady_clock::time_point now,
                std::chrono::steady_clock::time_point& next);
  void finish(Done& done);
  void drop(const std::string& id);
  void wake();

  sdk::StorageWebhooks& store_;
  EventHub& hub_;
  AccessCache& access_;
  MetricsRegistry& metrics_;
  const sdk::Clock& clock_;
  const WebhookSettings settings_;
  const std::string holder_;

  std::mutex mu_;                    // guards jobs_, done_, woken_, rescan_, stopping_
  std::condition_variable cv_;       // the scheduler waits here
  std::condition_variable jobs_cv_;  // workers wait here
  std::deque<Job> jobs_;
  std::vector<Done> done_;
  bool woken_ = false;
  bool rescan_ = true;
  bool stopping_ = false;
  std::thread scheduler_;
  std::vector<std::thread> workers_;  // started by the scheduler; joined by stop() after it

  // The scheduler thread's own.
  std::map<std::string, std::shared_ptr<Active>> active_;  // the webhooks this server holds
  // Dropped while a POST of theirs was under way: not taken up again until it ends, so that a
  // webhook never has two deliveries in flight.
  std::map<std::string, std::shared_ptr<Active>> draining_;
  std::chrono::steady_clock::time_point next_lease_{};
};

}  // namespace ctxmgr::kernel
