#pragma once
// One change to the store, as the versioning and audit rules want it: a storage transaction in
// which `change` reads (with row locks) and writes, its audit event appended in the same
// transaction, then the commit. If anything fails, nothing is written. Served changes go through
// a Writer, which shares the transaction and its commit with the changes that arrive together
// (group_commit.hpp) when the storage can; the CLI runs them alone.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "ctxmgr/sdk/context_api.hpp"
#include "ctxmgr/sdk/storage.hpp"
#include "service/group_commit.hpp"

namespace ctxmgr::kernel {

// Who made a change and through what, for its audit event.
struct Actor {
  std::string agent_id;
  std::string_view transport;
  std::string_view request_id;
};

// `change(tx, event)` fills event.context_id and event.details as it needs and returns the
// answer, or an error that rolls everything back.
inline sdk::AuditEvent change_event(std::int64_t now_us, const Actor& actor,
                                    std::string_view action) {
  sdk::AuditEvent event;
  event.at_us = now_us;
  event.agent_id = actor.agent_id;
  event.action = action;
  event.transport = actor.transport;
  event.request_id = actor.request_id;
  event.details = "{}";
  return event;
}

template <class Fn>
sdk::Result<sdk::ApiResponse> run_change(sdk::Storage& storage, std::int64_t now_us,
                                         const Actor& actor, std::string_view action, Fn&& change) {
  auto tx = storage.begin();
  if (!tx) return tx.error();
  sdk::AuditEvent event = change_event(now_us, actor, action);
  sdk::Result<sdk::ApiResponse> response = change(**tx, event);
  if (!response) return response;  // the transaction rolls back as it goes out of scope
  if (auto seq = (*tx)->append_audit(event); !seq) return seq.error();
  if (auto st = (*tx)->commit(); !st) return st.error();
  return response;
}

// The write path of the served API: each change batched with others when `batches` is set
// (the storage has the capability and it is not turned off), else alone. `committed` (may be
// empty) is called after each change that committed: the change feed looks at once.
class Writer {
 public:
  Writer(sdk::Storage& storage, GroupCommit* batches, std::function<void()> committed = {})
      : storage_(storage), batches_(batches), committed_(std::move(committed)) {}
  template <class Fn>
  sdk::Result<sdk::ApiResponse> run(std::int64_t now_us, const Actor& actor,
                                    std::string_view action, Fn&& change) {
    auto result = batches_ == nullptr ? run_change(storage_, now_us, actor, action, change)
                                      : batches_->run(change_event(now_us, actor, action),
                                                      GroupCommit::Change(std::ref(change)));
    if (result && committed_) committed_();
    return result;
  }
  // Whether submit() may be called: changes are batched.
  bool can_submit() const { return batches_ != nullptr; }
  // As run(), without waiting: `then` gets the outcome on the thread that led its batch
  // (group_commit.hpp: submit), after `committed`.
  void submit(std::int64_t now_us, const Actor& actor, std::string_view action,
              GroupCommit::Change change, GroupCommit::Then then) {
    batches_->submit(change_event(now_us, actor, action), std::move(change),
                     [this, then = std::move(then)](sdk::Result<sdk::ApiResponse> result) {
                       if (result && committed_) committed_();
                       then(std::move(result));
                     });
  }

 private:
  sdk::Storage& storage_;
  GroupCommit* batches_;
  std::function<void()> committed_;
};

}  // namespace ctxmgr::kernel
