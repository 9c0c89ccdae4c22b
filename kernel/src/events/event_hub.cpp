#include "events/event_hub.hpp"

#include <algorithm>
#include <functional>
#include <limits>
#include <utility>

#include "core/access.hpp"
#include "json/json_text.hpp"
#include "log/logging.hpp"

namespace ctxmgr::kernel {

using sdk::Errc;
using sdk::Error;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::int64_t kPage = 1000;        // audit rows read at a time
constexpr std::size_t kMaxOwners = 100000;  // contexts whose owner is remembered
constexpr auto kHoleRetry = std::chrono::milliseconds(20);
constexpr auto kCoalesce = std::chrono::milliseconds(5);

}  // namespace

bool EventFilter::matches(const FeedEvent& e) const {
  if (!owner.empty() && e.owner != owner) return false;
  if (!context_id.empty() && e.context_id != context_id) return false;
  return actions.empty() || std::find(actions.begin(), actions.end(), e.action) != actions.end();
}

// One stream's state. `cursor` is the hub thread's; the rest is guarded by `mu`.
struct EventHub::Subscriber {
  Identity who;
  EventFilter filter;
  bool limited = true;  // counted against the stream limits
  std::int64_t cursor = 0;  // every event up to here is in the outbox or not for this stream
  std::mutex mu;
  std::string outbox;
  bool closed = false;  // nothing more will be added
  bool gone = false;    // the transport dropped the stream
  bool behind = false;  // the hub stopped filling for lack of room
  std::function<void()> wake;
  Clock::time_point taken_at = Clock::now();
};

// Who to tell that a stream went or drained; outlives the hub when a transport keeps a stream
// past the hub's end (the stream then only records its end).
struct HubLink {
  std::mutex mu;
  EventHub* hub = nullptr;
  void wake() {
    std::lock_guard lock(mu);
    if (hub != nullptr) hub->wake();
  }
};

namespace {

class Stream final : public sdk::EventStream {
 public:
  Stream(std::shared_ptr<EventHub::Subscriber> s, std::shared_ptr<HubLink> link)
      : s_(std::move(s)), link_(std::move(link)) {}
  ~Stream() override {
    {
      std::lock_guard lock(s_->mu);
      s_->gone = true;
      s_->wake = nullptr;
    }
    link_->wake();
  }
  void on_ready(std::function<void()> wake) override {
    bool ready = false;
    {
      std::lock_guard lock(s_->mu);
      s_->wake = wake;
      ready = !s_->outbox.empty() || s_->closed;
    }
    if (ready && wake) wake();
  }
  sdk::EventBatch take() override {
    sdk::EventBatch batch;
    bool refill = false;
    {
      std::lock_guard lock(s_->mu);
      batch.text.swap(s_->outbox);
      batch.closed = s_->closed;
      s_->taken_at = Clock::now();
      refill = s_->behind && !batch.text.empty();
      s_->behind = false;
    }
    if (refill) link_->wake();
    return batch;
  }

 private:
  std::shared_ptr<EventHub::Subscriber> s_;
  std::shared_ptr<HubLink> link_;
};

std::string overflow_text(std::int64_t resume_after, std::string_view reason) {
  return "event: overflow\ndata: {\"resume_after\":" + std::to_string(resume_after) +
         ",\"reason\":" + json_quote(reason) + "}\n\n";
}

}  // namespace

EventHub::EventHub(sdk::Storage& storage, AccessCache& access, MetricsRegistry& metrics,
                   EventHubSettings settings)
    : storage_(storage),
      access_(access),
      metrics_(metrics),
      settings_(settings),
      link_(std::make_shared<HubLink>()) {
  link_->hub = this;
}

EventHub::~EventHub() {
  stop();
  std::lock_guard lock(link_->mu);
  link_->hub = nullptr;
}

void EventHub::start() {
  find_head();  // at once when the store answers: streams opened right after start are served
  publish_metrics();
  thread_ = std::thread([this] { run(); });
}

// Where the log ends now: streams that ask for no resume start there. Until it is known (the
// store is down, or throws), streams are refused.
bool EventHub::find_head() {
  try {
    auto horizon = storage_.audit_horizon();
    if (!horizon) {
      kernel_log().warn("event feed: cannot read the audit log: {}", horizon.error().message());
      return false;
    }
    floor_ = *horizon;
    head_ = *horizon;
    return true;
  } catch (const std::exception& e) {
    kernel_log().error("event feed: {}", e.what());
    return false;
  }
}

void EventHub::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  // Every stream ends with what it holds.
  std::vector<std::shared_ptr<Subscriber>> subs;
  {
    std::lock_guard lock(mu_);
    subs = subscribers_;
  }
  for (auto& s : subs) {
    std::function<void()> wake;
    {
      std::lock_guard lock(s->mu);
      s->closed = true;
      wake = s->wake;
    }
    if (wake) wake();
  }
}

void EventHub::wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_one();
}

// "From now": after the newest event committed before this call, which the feed's thread may not
// have read yet (one read of the log's newest row).
sdk::Result<std::int64_t> EventHub::newest_seq() {
  sdk::AuditQuery newest;
  newest.limit = 1;
  auto rows = storage_.audit(newest);
  if (!rows) return rows.error();
  return rows->empty() ? 0 : rows->front().seq;
}

sdk::Result<std::unique_ptr<sdk::EventStream>> EventHub::subscribe(
    const Identity& who, EventFilter filter, std::optional<std::int64_t> after, bool limited) {
  if (!after) {
    auto newest = newest_seq();
    if (!newest) return newest.error();
    after = *newest;
  }
  auto s = std::make_shared<Subscriber>();
  s->who = who;
  s->filter = std::move(filter);
  s->limited = limited;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return Error(Errc::unavailable, "the server is shutting down");
    if (limited && static_cast<std::size_t>(std::count_if(
                       subscribers_.begin(), subscribers_.end(),
                       [](const auto& other) { return other->limited; })) >=
                       settings_.max_streams) {
      ++refused_;
      return Error(Errc::rate_limited, "too many event streams are open (" +
                                           std::to_string(settings_.max_streams) + "); retry later")
          .with_field("retry_after", 5);
    }
    if (head_ < 0) {
      return Error(Errc::unavailable, "the change feed cannot read the audit log yet; retry")
          .with_field("retry_after", 1);
    }
    if (limited && per_agent_[who.agent_id] >= settings_.max_streams_per_agent) {
      const std::size_t mine = per_agent_[who.agent_id];
      ++refused_;
      return Error(Errc::rate_limited, "agent " + who.agent_id + " has " + std::to_string(mine) +
                                           " event streams open, the most allowed; close one")
          .with_field("retry_after", 5);
    }
    if (limited) ++per_agent_[who.agent_id];
    s->cursor = *after;
    subscribers_.push_back(s);
    woken_ = true;
  }
  cv_.notify_one();
  return std::unique_ptr<sdk::EventStream>(std::make_unique<Stream>(std::move(s), link_));
}

void EventHub::run() {
  auto wait = settings_.poll;
  auto last_pass = Clock::now() - kCoalesce;
  while (true) {
    std::vector<std::shared_ptr<Subscriber>> subs;
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, wait, [&] { return woken_ || stopping_; });
      // Under a stream of commits, one pass per kCoalesce at most: each stream then gets its
      // events in fewer, larger writes (the latency this adds is at most kCoalesce).
      cv_.wait_until(lock, last_pass + kCoalesce, [&] { return stopping_; });
      if (stopping_) return;
      woken_ = false;
      subs = subscribers_;
    }
    last_pass = Clock::now();
    bool more = false;
    if (subs.empty()) {
      // Nobody follows the feed here (no stream, no webhook held): reading the log — every
      // audited read's row too — would be work for no one. Memory is dropped; the next
      // subscriber brings the hub back to the log's end, and what it asks for from further back
      // is read from the log (fill).
      if (!idle_) {
        idle_ = true;
        recent_.clear();
        hole_since_.reset();
      }
      publish_metrics();
      wait = settings_.poll;
      continue;
    }
    if ((head_ < 0 || idle_) && !find_head()) {
      wait = settings_.poll;
      continue;
    }
    idle_ = false;
    try {
      const bool read = advance();
      for (auto& s : subs) more = fill(*s) || more;
      if (!read) wait = settings_.poll;
    } catch (const std::exception& e) {
      kernel_log().error("event feed: {}", e.what());
    }
    // Streams the transports dropped.
    {
      std::lock_guard lock(mu_);
      std::erase_if(subscribers_, [&](const std::shared_ptr<Subscriber>& s) {
        std::lock_guard slock(s->mu);
        if (!s->gone) return false;
        if (!s->limited) return true;
        if (auto it = per_agent_.find(s->who.agent_id);
            it != per_agent_.end() && --it->second == 0) {
          per_agent_.erase(it);
        }
        return true;
      });
    }
    publish_metrics();
    wait = more ? std::chrono::milliseconds(0) : hole_since_ ? kHoleRetry : settings_.poll;
  }
}

bool EventHub::advance() {
  const std::int64_t max = std::numeric_limits<std::int64_t>::max();
  while (true) {
    auto rows = storage_.audit_range(head_, max, kPage);
    if (!rows) {
      kernel_log().warn("event feed: cannot read the audit log: {}", rows.error().message());
      return false;
    }
    std::size_t run = 0;
    while (run < rows->size() && (*rows)[run].seq == head_ + 1) {
      take_in({(*rows)[run]});
      head_ = (*rows)[run].seq;
      ++run;
    }
    if (run == rows->size()) {
      hole_since_.reset();
      if (rows->size() < static_cast<std::size_t>(kPage)) return true;
      continue;
    }
    // A hole before (*rows)[run]: a transaction still in flight, or one rolled back.
    const auto now = Clock::now();
    if (!hole_since_) hole_since_ = now;
    if (now - *hole_since_ < settings_.hole_wait) return true;
    auto horizon = storage_.audit_horizon();
    if (!horizon) return false;
    if (*horizon <= head_) {
      hole_since_ = now;  // still in flight: look again later
      return true;
    }
    // Everything up to the horizon is final: holes below it are for good.
    while (head_ < *horizon) {
      auto final_rows = storage_.audit_range(head_, *horizon, kPage);
      if (!final_rows) return false;
      take_in(*final_rows);
      head_ =
          final_rows->size() < static_cast<std::size_t>(kPage) ? *horizon : final_rows->back().seq;
    }
    hole_since_.reset();
  }
}

void EventHub::take_in(const std::vector<sdk::AuditEvent>& rows) {
  for (const auto& row : rows) {
    auto e = to_feed_event(row);
    if (!e) continue;
    resolve_owner(*e);
    std::string sse = sse_text(*e);
    recent_.push_back({std::move(*e), std::move(sse)});
  }
  while (recent_.size() > settings_.memory_events) {
    floor_ = recent_.front().event.seq;
    recent_.pop_front();
  }
}

void EventHub::resolve_owner(FeedEvent& e) {
  if (e.context_id.empty()) return;
  if (!e.owner.empty()) {
    if (owners_.size() >= kMaxOwners) owners_.clear();
    owners_[e.context_id] = e.owner;
    return;
  }
  if (auto it = owners_.find(e.context_id); it != owners_.end()) {
    e.owner = it->second;
    return;
  }
  auto row = storage_.get(e.context_id);
  if (!row || !row->has_value()) return;  // purged since: admins only see it
  e.owner = (*row)->agent_id;
  if (owners_.size() >= kMaxOwners) owners_.clear();
  owners_[e.context_id] = e.owner;
}

bool EventHub::visible(const Subscriber& s, const FeedEvent& e) {
  if (!s.filter.matches(e)) return false;
  if (s.who.admin) return true;
  if (e.owner.empty()) return false;
  if (e.owner == s.who.agent_id) return true;
  if ((e.action == "grant" || e.action == "revoke") && e.grantee == s.who.agent_id) return true;
  if (e.context_id.empty()) return false;  // a grant on all of an owner's contexts
  sdk::ContextRow row;
  row.id = e.context_id;
  row.agent_id = e.owner;
  auto have = access_of(access_, s.who, row);
  return have && *have >= Access::read;
}

void EventHub::end_stream(Subscriber& s, const std::string& last) {
  std::function<void()> wake;
  {
    std::lock_guard lock(s.mu);
    s.outbox += last;
    s.closed = true;
    wake = s.wake;
  }
  if (wake) wake();
}

bool EventHub::fill(Subscriber& s) {
  std::size_t room = 0;
  bool stalled = false;
  {
    std::lock_guard lock(s.mu);
    if (s.gone || s.closed) return false;
    if (s.outbox.size() >= settings_.buffer_bytes) {
      s.behind = true;
      stalled = Clock::now() - s.taken_at >= settings_.stall;
    } else {
      room = settings_.buffer_bytes - s.outbox.size();
    }
  }
  if (stalled) {
    // The client stopped reading: end the stream, saying where to pick up.
    ++overflows_;
    end_stream(s, overflow_text(s.cursor, "the client did not read its events in time"));
  }
  if (room == 0) return false;
  // A stream lives no longer than its agent: disabling (or erasing) the agent ends it.
  if (!s.who.admin) {
    auto agent = access_.agent(s.who.agent_id);
    if (agent && agent->has_value() && (*agent)->disabled) {
      end_stream(s, "event: end\ndata: {\"reason\":" +
                        json_quote("agent " + s.who.agent_id + " is disabled") + "}\n\n");
      return false;
    }
  }
  std::string text;
  std::int64_t cursor = s.cursor;
  std::int64_t added = 0;
  const std::int64_t head = head_;
  // `sse`: the event's text when already rendered.
  auto offer = [&](const FeedEvent& e, const std::string* sse) {
    cursor = e.seq;
    if (!visible(s, e)) return;
    if (sse != nullptr) {
      text += *sse;
    } else {
      text += sse_text(e);
    }
    ++added;
  };
  while (cursor < head && text.size() < room) {
    if (cursor < floor_) {
      // Further back than memory reaches: from the log, a page at a time.
      auto rows = storage_.audit_range(cursor, floor_, 200);
      if (!rows) break;
      if (rows->empty()) {
        cursor = floor_;
        continue;
      }
      for (const auto& row : *rows) {
        cursor = row.seq;
        if (auto e = to_feed_event(row)) {
          resolve_owner(*e);
          offer(*e, nullptr);
        }
        if (text.size() >= room) break;
      }
      if (rows->size() < 200 && text.size() < room) cursor = floor_;
      continue;
    }
    auto it = std::upper_bound(recent_.begin(), recent_.end(), cursor,
                               [](std::int64_t seq, const Recent& r) { return seq < r.event.seq; });
    for (; it != recent_.end() && text.size() < room; ++it) offer(it->event, &it->sse);
    if (it == recent_.end()) cursor = head;
  }
  s.cursor = cursor;
  delivered_ += added;
  if (text.empty()) return false;
  std::function<void()> wake;
  {
    std::lock_guard lock(s.mu);
    s.outbox += text;
    wake = s.wake;
  }
  if (wake) wake();
  return cursor < head && text.size() < room;
}

void EventHub::publish_metrics() {
  std::size_t open = 0;
  std::int64_t refused = 0;
  {
    std::lock_guard lock(mu_);
    open = subscribers_.size();
    refused = std::exchange(refused_, 0);
  }
  metrics_.gauge_set("ctxmgr_event_streams", "", static_cast<double>(open));
  metrics_.gauge_set("ctxmgr_event_streams_max", "", static_cast<double>(settings_.max_streams));
  metrics_.gauge_set("ctxmgr_event_streams_per_agent_max", "",
                     static_cast<double>(settings_.max_streams_per_agent));
  metrics_.gauge_set("ctxmgr_event_feed_seq", "", static_cast<double>(head_.load()));
  metrics_.counter_add("ctxmgr_events_delivered_total", "",
                       static_cast<double>(std::exchange(delivered_, 0)));
  metrics_.counter_add("ctxmgr_event_streams_overflowed_total", "",
                       static_cast<double>(std::exchange(overflows_, 0)));
  metrics_.counter_add("ctxmgr_event_streams_refused_total", "", static_cast<double>(refused));
}

}  // namespace ctxmgr::kernel
