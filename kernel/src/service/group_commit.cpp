#include "service/group_commit.hpp"

#include <algorithm>
#include <exception>
#include <memory>

#include "service/change.hpp"

namespace ctxmgr::kernel {

using sdk::Errc;
using sdk::Error;

namespace {

// The errors a storage statement gives (as opposed to the kernel's own answers: 404, 412, 400).
bool from_storage(const Error& e) {
  return e.code() == Errc::internal || e.code() == Errc::unavailable || e.code() == Errc::conflict;
}

// A change that throws is an internal error of its own, not the batch's.
sdk::Result<sdk::ApiResponse> guarded(const GroupCommit::Change& change, sdk::Transaction& tx,
                                      sdk::AuditEvent& event) {
  try {
    return change(tx, event);
  } catch (const std::exception& e) {
    return Error(Errc::internal, std::string("a change failed: ") + e.what());
  }
}

}  // namespace

GroupCommit::GroupCommit(sdk::Storage& storage, sdk::StorageBatch& batch, Settings settings)
    : storage_(storage), batch_(batch), settings_(settings) {
  settings_.max_batch = std::max<std::size_t>(settings_.max_batch, 1);
  settings_.lanes = std::max<std::size_t>(settings_.lanes, 1);
  for (std::size_t i = 0; i < settings_.lanes; ++i) {
    std::condition_variable& wake = lane_wakes_.emplace_back();
    lanes_.emplace_back([this, &wake] { serve_submitted(wake); });
  }
}

GroupCommit::~GroupCommit() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    if (filling_ != nullptr) filling_->notify_one();  // leads what it has now
  }
  idle_.notify_all();
  for (auto& t : lanes_) t.join();
}

sdk::Result<sdk::ApiResponse> GroupCommit::run(const sdk::AuditEvent& event, const Change& change) {
  Slot slot;
  slot.event = &event;
  slot.change = &change;
  std::unique_lock lock(mu_);
  queue_.push_back(&slot);
  if (filling_ != nullptr && queue_.size() >= settings_.max_batch) filling_->notify_one();
  while (!slot.done) {
    // Lead only while this change still waits in the queue: once taken, its leader answers it.
    // Each waiter sleeps on its own condition: a batch's end wakes its own callers and the
    // next leader, not every thread that waits (a herd of wake-ups costs more than a commit).
    if (slot.taken || leading_ >= settings_.lanes) {
      slot.wake.wait(lock);
      continue;
    }
    lead_one(lock, slot.wake);
  }
  lock.unlock();
  if (slot.retry_alone) return run_alone(event, change);
  return std::move(*slot.result);
}

void GroupCommit::submit(sdk::AuditEvent event, Change change, Then then) {
  auto* slot = new Slot;
  slot->own_event = std::move(event);
  slot->own_change = std::move(change);
  slot->event = &slot->own_event;
  slot->change = &slot->own_change;
  slot->then = std::move(then);
  bool wake_a_lane = false;
  {
    std::lock_guard lock(mu_);
    queue_.push_back(slot);
    if (filling_ != nullptr && queue_.size() >= settings_.max_batch) filling_->notify_one();
    // Under load every lane is busy and whoever ends a batch takes this one: no wake-up.
    wake_a_lane = leading_ < settings_.lanes;
  }
  if (wake_a_lane) idle_.notify_one();
}

void GroupCommit::serve_submitted(std::condition_variable& wake) {
  std::unique_lock lock(mu_);
  while (true) {
    // A submitted change first in the queue is this thread's to lead; a run() caller leads its
    // own. While stopping, whatever is left is led here, so no submitted change is dropped.
    const bool mine = !queue_.empty() && (queue_.front()->then || stopping_);
    if (mine && leading_ < settings_.lanes) {
      lead_one(lock, wake);
      continue;
    }
    if (stopping_ && queue_.empty()) return;
    idle_.wait(lock);
  }
}

void GroupCommit::lead_one(std::unique_lock<std::mutex>& lock, std::condition_variable& wake) {
  ++leading_;
  if (settings_.max_wait.count() > 0 && queue_.size() < settings_.max_batch &&
      filling_ == nullptr) {
    filling_ = &wake;  // woken by the change that fills the batch
    wake.wait_for(lock, settings_.max_wait,
                  [&] { return stopping_ || queue_.size() >= settings_.max_batch; });
    filling_ = nullptr;
  }
  std::vector<Slot*> batch;
  const std::size_t n = std::min(queue_.size(), settings_.max_batch);
  batch.assign(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
  queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
  for (Slot* s : batch) s->taken = true;
  // Whoever waits first now may lead the next batch while this one runs (another lane).
  wake_next_leader();
  lock.unlock();
  if (!batch.empty()) lead_guarded(batch);
  std::vector<Slot*> submitted;
  lock.lock();
  --leading_;
  ++batches_;
  changes_ += batch.size();
  for (Slot* s : batch) {
    if (s->then) {
      submitted.push_back(s);
    } else {
      s->done = true;
      s->wake.notify_one();
    }
  }
  wake_next_leader();
  if (submitted.empty()) return;
  lock.unlock();
  for (Slot* s : submitted) answer(s);
  lock.lock();
}

void GroupCommit::wake_next_leader() {
  if (queue_.empty() || leading_ >= settings_.lanes) return;
  if (queue_.front()->then) {
    idle_.notify_one();
  } else {
    queue_.front()->wake.notify_one();
  }
}

sdk::Result<sdk::ApiResponse> GroupCommit::run_alone(const sdk::AuditEvent& event,
                                                     const Change& change) {
  {
    std::lock_guard count(mu_);
    ++retried_alone_;
  }
  sdk::AuditEvent ev = event;
  Actor actor{ev.agent_id, ev.transport, ev.request_id};
  return run_change(
      storage_, ev.at_us, actor, ev.action,
      [&](sdk::Transaction& tx, sdk::AuditEvent& e) { return guarded(change, tx, e); });
}

void GroupCommit::answer(Slot* slot) noexcept {
  const std::unique_ptr<Slot> owned(slot);
  try {
    if (slot->retry_alone) slot->result = run_alone(*slot->event, *slot->change);
  } catch (const std::exception& e) {
    slot->result = Error(Errc::internal, std::string("the storage failed: ") + e.what());
  } catch (...) {
    slot->result = Error(Errc::internal, "the storage failed");
  }
  try {
    slot->then(std::move(*slot->result));
  } catch (...) {  // NOLINT(bugprone-empty-catch): Then's contract; the change is answered
  }
}

void GroupCommit::lead_guarded(std::vector<Slot*>& batch) noexcept {
  // What the storage throws (begin, mark, commit...) fails the batch's changes like an error
  // would, and each is answered: none of them may wait for ever on a leader that unwound.
  const char* what = nullptr;
  std::string text;
  try {
    lead(batch);
    return;
  } catch (const std::exception& e) {
    text = e.what();
    what = text.c_str();
  } catch (...) {
    what = "an exception that is not a std::exception";
  }
  const Error failed(Errc::internal, std::string("the storage failed: ") + what);
  for (Slot* s : batch) {
    s->result = failed;
    s->retry_alone = false;
  }
}

void GroupCommit::lead(std::vector<Slot*>& batch) {
  // A failure that ends the batch. Changes that failed with an answer of their own keep it. Before
  // the commit was sent nothing of the batch landed: the others run once more alone — unless the
  // database is unreachable (they would only wait to fail again). After it, they may have landed:
  // each gets the error.
  auto fail_all = [&](const Error& e, bool before_commit) {
    const bool retry = before_commit && batch.size() > 1 && e.code() != Errc::unavailable;
    for (Slot* s : batch) {
      const bool own_answer = s->result && !*s->result && !s->retry_alone;
      if (own_answer) continue;
      s->result = e;
      s->retry_alone = retry;
    }
  };
  auto tx = batch_.begin_batch();
  if (!tx) return fail_all(tx.error(), false);
  std::vector<sdk::AuditEvent> events;  // of the changes that succeeded, appended together
  events.reserve(batch.size());
  for (Slot* s : batch) {
    if (auto st = (*tx)->mark(); !st) return fail_all(st.error(), true);
    sdk::AuditEvent event = *s->event;
    sdk::Result<sdk::ApiResponse> r = guarded(*s->change, **tx, event);
    const bool failed = !r;
    if (failed) s->retry_alone = batch.size() > 1 && from_storage(r.error());
    s->result = std::move(r);
    if (failed) {
      // A change that may have written something is undone to its mark; the others stay.
      if (auto st = (*tx)->undo_to_mark(); !st) return fail_all(st.error(), true);
    } else {
      events.push_back(std::move(event));
    }
  }
  if (events.empty()) return;  // nothing to commit; the transaction rolls back as it goes
  // One statement for the batch's audit events, sent with the rows the storage still holds.
  if (auto seqs = (*tx)->append_audits(events); !seqs) return fail_all(seqs.error(), true);
  if (auto st = (*tx)->commit(); !st) fail_all(st.error(), false);
}

void GroupCommit::publish(sdk::Metrics& metrics) {
  std::uint64_t batches = 0, changes = 0, retried = 0;
  {
    std::lock_guard lock(mu_);
    std::swap(batches, batches_);
    std::swap(changes, changes_);
    std::swap(retried, retried_alone_);
  }
  metrics.counter_add("ctxmgr_group_commit_batches_total", "", static_cast<double>(batches));
  metrics.counter_add("ctxmgr_group_commit_changes_total", "", static_cast<double>(changes));
  metrics.counter_add("ctxmgr_group_commit_retried_alone_total", "", static_cast<double>(retried));
}

}  // namespace ctxmgr::kernel
