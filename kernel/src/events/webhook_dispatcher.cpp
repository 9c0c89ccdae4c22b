#include "events/webhook_dispatcher.hpp"

#include <algorithm>
#include <random>
#include <set>
#include <utility>

#include "core/ids.hpp"
#include "core/sha256.hpp"
#include "log/logging.hpp"

namespace ctxmgr::kernel {

using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kResubscribe = std::chrono::seconds(5);  // after a stream the feed ended
constexpr auto kIdle = std::chrono::seconds(1);         // the scheduler looks at least this often

// The feed events in a stream's text ("id: N\ndata: JSON\n\n"); other blocks (the feed's final
// `overflow` or `end`) carry no event: the stream is then closed and taken up again later.
void parse_events(std::string_view text, std::deque<std::pair<std::int64_t, std::string>>& out) {
  while (!text.empty()) {
    const auto end = text.find("\n\n");
    const std::string_view block = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 2);
    if (!block.starts_with("id: ")) continue;
    const auto nl = block.find('\n');
    const auto data = block.find("\ndata: ");
    if (nl == std::string_view::npos || data == std::string_view::npos) continue;
    std::int64_t seq = 0;
    for (char c : block.substr(4, nl - 4)) {
      if (c < '0' || c > '9') break;
      seq = seq * 10 + (c - '0');
    }
    out.emplace_back(seq, std::string(block.substr(data + 7)));
  }
}

}  // namespace

EventFilter webhook_filter(const sdk::WebhookRow& row) {
  EventFilter f;
  f.owner = row.agent_id;
  f.context_id = row.context_id;
  std::string_view rest = row.actions;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    f.actions.emplace_back(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  return f;
}

struct WebhookDispatcher::Active {
  sdk::WebhookRow row;  // row.cursor: delivered up to here
  std::unique_ptr<sdk::EventStream> stream;
  std::deque<std::pair<std::int64_t, std::string>> queue;  // taken from the stream, in order
  bool in_flight = false;
  bool dropped = false;       // no longer held: a POST under way is only logged
  std::int64_t failures = 0;  // of queue.front()
  // Attempts already logged (by an earlier holder) for the event numbered resume_seq.
  std::int64_t resume_seq = 0;
  std::int64_t resume_attempts = 0;
  Clock::time_point next_try{};
  Clock::time_point subscribe_at{};
};

WebhookDispatcher::WebhookDispatcher(sdk::StorageWebhooks& store, EventHub& hub,
                                     AccessCache& access, MetricsRegistry& metrics,
                                     const sdk::Clock& clock, WebhookSettings settings)
    : store_(store),
      hub_(hub),
      access_(access),
      metrics_(metrics),
      clock_(clock),
      settings_(std::move(settings)),
      holder_(new_uuid_v7(clock.now_us() / 1000)) {}

WebhookDispatcher::~WebhookDispatcher() {
  try {
    stop();
  } catch (...) {
    // Leases not given back run out by themselves (lease_ms).
  }
}

void WebhookDispatcher::start() {
  scheduler_ = std::thread([this] { run(); });
}

// The workers start with the first delivery: a server without webhooks runs no idle threads for
// them. (Four idle workers made ASan server shutdowns crash far more often in LeakSanitizer's scan
// of dynamic TLS: a sanitizer runtime bug, turned off in scripts/sanitize.sh.)
void WebhookDispatcher::start_workers() {
  if (!workers_.empty()) return;
  for (std::size_t i = 0; i < settings_.workers; ++i) workers_.emplace_back([this] { work(); });
}

void WebhookDispatcher::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  jobs_cv_.notify_all();
  if (scheduler_.joinable()) scheduler_.join();
  for (auto& w : workers_) {
    if (w.joinable()) w.join();
  }
  // What finished while stopping is logged; the rest is sent again by the next holder.
  std::vector<Done> done;
  {
    std::lock_guard lock(mu_);
    done.swap(done_);
    jobs_.clear();
  }
  for (auto& d : done) finish(d);
  draining_.clear();
  // Give the leases back: another server takes the webhooks at once, not when they run out.
  const std::int64_t now_us = clock_.now_us();
  for (const auto& [id, hook] : active_) {
    if (auto st = store_.lease_webhook(id, holder_, now_us, now_us); !st) {
      kernel_log().warn("webhooks: cannot give back the lease of {}: {}", id, st.error().message());
    }
  }
  active_.clear();
}

void WebhookDispatcher::wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_one();
}

void WebhookDispatcher::rescan() {
  {
    std::lock_guard lock(mu_);
    rescan_ = true;
    woken_ = true;
  }
  cv_.notify_one();
}

void WebhookDispatcher::run() {
  auto next = Clock::now();
  while (true) {
    std::vector<Done> done;
    bool rescan = false;
    {
      std::unique_lock lock(mu_);
      cv_.wait_until(lock, next, [&] { return woken_ || stopping_; });
      if (stopping_) return;
      woken_ = false;
      done.swap(done_);
      rescan = std::exchange(rescan_, false);
    }
    try {
      for (auto& d : done) finish(d);
      auto now = Clock::now();
      if (rescan || now >= next_lease_) {
        lease_pass();
        next_lease_ = now + settings_.lease / 3;
      }
      next = std::min(next_lease_, now + kIdle);
      for (auto& [id, hook] : active_) schedule(hook, now, next);
    } catch (const std::exception& e) {
      kernel_log().error("webhooks: {}", e.what());
      next = Clock::now() + kIdle;
    }
    metrics_.gauge_set("ctxmgr_webhooks_held", "", static_cast<double>(active_.size()));
  }
}

void WebhookDispatcher::lease_pass() {
  auto rows = store_.webhooks("");
  if (!rows) {
    kernel_log().warn("webhooks: cannot list them: {}", rows.error().message());
    return;
  }
  const std::int64_t now_us = clock_.now_us();
  const std::int64_t until_us =
      now_us + std::chrono::duration_cast<std::chrono::microseconds>(settings_.lease).count();
  std::set<std::string> listed;
  for (const auto& row : *rows) {
    listed.insert(row.id);
    auto held = store_.lease_webhook(row.id, holder_, now_us, until_us);
    if (!held || !*held) {
      if (!held) kernel_log().warn("webhooks: cannot lease {}: {}", row.id, held.error().message());
      drop(row.id);
      continue;
    }
    if (active_.contains(row.id) || draining_.contains(row.id)) continue;
    // Read again now that it is ours: the previous holder may have moved the cursor since.
    auto fresh = store_.webhook(row.id);
    if (!fresh || !fresh->has_value()) continue;
    auto hook = std::make_shared<Active>();
    hook->row = std::move(**fresh);
    if (auto last = store_.deliveries(row.id, 0, 1); last && !last->empty()) {
      hook->resume_seq = last->front().seq;
      hook->resume_attempts = last->front().attempt;
    }
    kernel_log().info("webhooks: delivering {} from seq {}", hook->row.id, hook->row.cursor);
    active_.emplace(row.id, std::move(hook));
  }
  std::vector<std::string> gone;
  for (const auto& [id, hook] : active_) {
    if (!listed.contains(id)) gone.push_back(id);
  }
  for (const auto& id : gone) drop(id);
}

void WebhookDispatcher::drop(const std::string& id) {
  const auto it = active_.find(id);
  if (it == active_.end()) return;
  it->second->dropped = true;
  it->second->stream.reset();
  if (it->second->in_flight) draining_.emplace(id, it->second);
  active_.erase(it);
  kernel_log().info("webhooks: no longer delivering {} from this server", id);
}

void WebhookDispatcher::schedule(const std::shared_ptr<Active>& hook, Clock::time_point now,
                                 Clock::time_point& next) {
  if (hook->in_flight) return;
  if (hook->queue.empty()) {
    if (!hook->stream) {
      if (now < hook->subscribe_at) {
        next = std::min(next, hook->subscribe_at);
        return;
      }
      // The owner's view: what the owner may read now is what is sent.
      Identity who{hook->row.owner, hook->row.owner == kAdminId};
      if (auto agent = access_.agent(hook->row.owner); agent && agent->has_value()) {
        who.admin = who.admin || (*agent)->role == "admin";
      }
      auto stream = hub_.subscribe(who, webhook_filter(hook->row), hook->row.cursor, false);
      if (!stream) {
        hook->subscribe_at = now + kResubscribe;
        next = std::min(next, hook->subscribe_at);
        return;
      }
      hook->stream = std::move(*stream);
      hook->stream->on_ready([this] { wake(); });
    }
    auto batch = hook->stream->take();
    parse_events(batch.text, hook->queue);
    if (batch.closed) {
      hook->stream.reset();
      hook->subscribe_at = hook->queue.empty() ? now + kResubscribe : now;
    }
    if (hook->queue.empty()) return;
  }
  if (now < hook->next_try) {
    next = std::min(next, hook->next_try);
    return;
  }
  const auto& [seq, json] = hook->queue.front();
  Job job{hook,
          WebhookPost{hook->row.url, hook->row.id, hook->row.secret, seq, json, settings_.timeout}};
  hook->in_flight = true;
  start_workers();
  {
    std::lock_guard lock(mu_);
    jobs_.push_back(std::move(job));
  }
  jobs_cv_.notify_one();
}

void WebhookDispatcher::work() {
  while (true) {
    Job job;
    {
      std::unique_lock lock(mu_);
      jobs_cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    Done done{job.hook, job.post.seq,
              post_webhook(settings_.policy, job.post, clock_.now_us() / 1000000)};
    {
      std::lock_guard lock(mu_);
      done_.push_back(std::move(done));
      woken_ = true;
    }
    cv_.notify_one();
  }
}

void WebhookDispatcher::finish(Done& done) {
  auto& hook = *done.hook;
  sdk::WebhookDelivery entry;
  entry.webhook_id = hook.row.id;
  entry.seq = done.seq;
  entry.attempt = hook.failures + 1 + (done.seq == hook.resume_seq ? hook.resume_attempts : 0);
  entry.at_us = clock_.now_us();
  entry.status = done.outcome.status;
  entry.error = done.outcome.error;
  entry.duration_ms = done.outcome.duration_ms;
  if (auto st = store_.log_delivery(entry); !st && !hook.dropped) {
    kernel_log().warn("webhooks: cannot log a delivery of {}: {}", hook.row.id,
                      st.error().message());
  }
  const bool delivered = done.outcome.delivered();
  metrics_.counter_add("ctxmgr_webhook_deliveries_total",
                       delivered ? "outcome=\"delivered\"" : "outcome=\"failed\"", 1);
  metrics_.observe("ctxmgr_webhook_delivery_seconds", "",
                   static_cast<double>(done.outcome.duration_ms) / 1000.0);
  hook.in_flight = false;
  if (hook.dropped) {
    draining_.erase(hook.row.id);
    return;
  }
  if (!delivered) {
    ++hook.failures;
    // Doubling from retry_min, at most retry_max, less up to a tenth at random so that many
    // webhooks of one receiver do not come back all at once.
    auto wait = settings_.retry_min;
    for (std::int64_t i = 1; i < hook.failures && wait < settings_.retry_max; ++i) wait *= 2;
    wait = std::min(wait, settings_.retry_max);
    thread_local std::minstd_rand jitter{std::random_device{}()};
    wait -= std::chrono::milliseconds(jitter() % (wait.count() / 10 + 1));
    hook.next_try = Clock::now() + wait;
    kernel_log().info("webhooks: {} event {} attempt {} failed ({}); next try in {} ms",
                      hook.row.id, done.seq, entry.attempt, done.outcome.error, wait.count());
    return;
  }
  hook.failures = 0;
  hook.next_try = {};
  if (!hook.queue.empty() && hook.queue.front().first == done.seq) hook.queue.pop_front();
  hook.row.cursor = done.seq;
  auto moved = store_.advance_webhook(hook.row.id, holder_, done.seq);
  if (!moved) {
    kernel_log().warn("webhooks: cannot record the delivery of {} event {}: {}", hook.row.id,
                      done.seq, moved.error().message());
  } else if (!*moved) {
    drop(hook.row.id);  // the lease was lost (or the webhook removed): another holder goes on
  }
}

}  // namespace ctxmgr::kernel
