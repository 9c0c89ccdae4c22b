#pragma once
// The change feed's engine (docs/events.md): one thread reads what the audit log gained since it
// last looked, keeps the newest changes in memory, and fills each subscriber's outbox with the
// events that subscriber may see — its filters, and its access checked now, at delivery, so an
// agent that lost a grant stops seeing the context's events. Transports take outboxes as text
// (sdk::EventStream).
//
// Gap-free order: on PostgreSQL an event numbered 12 can commit before 11. The hub delivers only
// a run of consecutive numbers after the last one it passed; at a hole it waits for the hole to
// fill, and after `hole_wait` asks the storage's audit horizon (below it every event is committed,
// so a hole there is a rolled-back transaction's and is skipped). Nothing is delivered past a
// hole that may still fill.
//
// Waking: a change committed by this process nudges the hub; changes committed by other servers
// are found every `poll` (and at once when the storage wakes the hub: wake()). With no subscriber
// (no stream, no webhook) the hub reads nothing; the first one to come brings it to the log's end
// again (the audit horizon), and gets what it asks for from before that out of the log.
//
// Bounds: a subscriber's outbox holds at most `buffer_bytes`; the hub fills it as it drains, from
// memory or, for a subscriber further behind than memory reaches (a resume), from the audit log.
// When the client has not taken anything for `stall` while its outbox is full, the stream ends
// with a final `overflow` event naming the seq to resume after. Writers never wait on any of it.
//
// Thread-safety: every public method may be called from any thread.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/access_cache.hpp"
#include "core/auth.hpp"
#include "ctxmgr/sdk/event_stream.hpp"
#include "ctxmgr/sdk/storage.hpp"
#include "events/feed_event.hpp"
#include "metrics/metrics_registry.hpp"

namespace ctxmgr::kernel {

struct EventHubSettings {
  std::size_t max_streams = 1000;          // open streams in all
  std::size_t max_streams_per_agent = 16;  // open streams of one agent
  std::size_t buffer_bytes = 1 << 20;      // per stream
  std::chrono::milliseconds stall{30000};  // a full outbox not taken from for this long ends it
  std::chrono::milliseconds poll{250};     // how often other servers' changes are looked for
  std::chrono::milliseconds hole_wait{500};
  std::size_t memory_events = 10000;  // newest feed events kept in memory
};

// What a subscriber asked for (checked).
struct EventFilter {
  std::string owner;                 // empty: any
  std::string context_id;            // empty: any
  std::vector<std::string> actions;  // empty: all
  bool matches(const FeedEvent& e) const;
};

struct HubLink;  // event_hub.cpp

class EventHub {
 public:
  EventHub(sdk::Storage& storage, AccessCache& access, MetricsRegistry& metrics,
           EventHubSettings settings);
  ~EventHub();
  EventHub(const EventHub&) = delete;
  EventHub& operator=(const EventHub&) = delete;

  // Reads where the log ends, and starts the thread (which tries again while the store cannot
  // say: streams are refused until then).
  void start();
  // Ends every stream (each gets its outbox and the end) and stops the thread.
  void stop();
  // A change committed: look now.
  void wake();
  // A stream for `who`; `after`: resume after this seq (nullopt: from now). Errors: rate_limited
  // past the stream limits, which a stream of the server's own (a webhook's: `limited` false)
  // does not count against.
  sdk::Result<std::unique_ptr<sdk::EventStream>> subscribe(const Identity& who, EventFilter filter,
                                                           std::optional<std::int64_t> after,
                                                           bool limited = true);
  // The newest committed seq: where a subscription "from now" starts.
  sdk::Result<std::int64_t> newest_seq();

  struct Subscriber;  // event_hub.cpp

 private:
  void run();
  bool find_head();
  // Reads the log past head_ into recent_; false when it could not (the store is down).
  bool advance();
  void take_in(const std::vector<sdk::AuditEvent>& rows);
  // The owner of the event's context, read once per context.
  void resolve_owner(FeedEvent& e);
  bool visible(const Subscriber& s, const FeedEvent& e);
  // Fills one subscriber's outbox; true when it is not yet at head_ (more to do when it drains).
  bool fill(Subscriber& s);
  // Appends `last` to the stream's outbox and ends it (the transport writes it, then closes).
  void end_stream(Subscriber& s, const std::string& last);
  void publish_metrics();

  sdk::Storage& storage_;
  AccessCache& access_;
  MetricsRegistry& metrics_;
  const EventHubSettings settings_;

  std::mutex mu_;  // guards subscribers_, per_agent_, woken_, stopping_
  std::condition_variable cv_;
  std::vector<std::shared_ptr<Subscriber>> subscribers_;
  std::unordered_map<std::string, std::size_t> per_agent_;
  bool woken_ = false;
  bool stopping_ = false;
  std::int64_t refused_ = 0;  // streams refused since the last publish
  std::shared_ptr<HubLink> link_;
  std::thread thread_;

  // The hub thread's own (and head_ read by subscribe under mu_).
  // Every event up to here is read (or a hole for good); -1 until known.
  std::atomic<std::int64_t> head_{-1};
  std::int64_t floor_ = 0;  // recent_ holds every feed event in (floor_, head_]
  bool idle_ = false;       // no subscriber at the last pass: the log was not read
  // Kept with its SSE text, rendered once for every stream.
  struct Recent {
    FeedEvent event;
    std::string sse;
  };
  std::deque<Recent> recent_;
  std::unordered_map<std::string, std::string> owners_;  // context id -> owner
  std::optional<std::chrono::steady_clock::time_point> hole_since_;
  std::int64_t delivered_ = 0;  // events put in outboxes since the last publish
  std::int64_t overflows_ = 0;
};

}  // namespace ctxmgr::kernel
