#pragma once
// The context service: every operation of API.md on contexts, once, for every transport.
// Versioning rules: each change (create, update, delete, revert) runs in one storage transaction
// that writes the row, its history entry and its audit event together; versions grow by exactly
// one; concurrent changes serialise on the row (Transaction::get_for_update), so none is lost;
// an If-Match that does not name the current version writes nothing (412).

#include <chrono>
#include <cstddef>
#include <functional>
#include <type_traits>

#include <boost/json/object.hpp>

#include "audit/audit_batcher.hpp"
#include "audit/audit_trust.hpp"
#include "audit/auth_failures.hpp"
#include "core/auth.hpp"
#include "core/context_cache.hpp"
#include "ctxmgr/sdk/context_api.hpp"
#include "ctxmgr/sdk/host.hpp"
#include "ctxmgr/sdk/storage.hpp"
#include "ctxmgr/sdk/storage_erasure.hpp"
#include "ctxmgr/sdk/storage_memory_files.hpp"
#include "ctxmgr/sdk/storage_received_grants.hpp"
#include "ctxmgr/sdk/storage_webhooks.hpp"
#include "embedding/embedding_worker.hpp"
#include "events/event_hub.hpp"
#include "events/webhook_dispatcher.hpp"
#include "metrics/metrics_registry.hpp"
#include "processing/process_engine.hpp"
#include "selection/selection_engine.hpp"
#include "service/agent_service.hpp"
#include "service/change.hpp"
#include "service/grant_service.hpp"
#include "service/rate_limiter.hpp"
#include "service/read_consistency.hpp"

namespace ctxmgr::kernel {

// Whether reads (read, history, list) are written to the audit log: `sync` in their own
// transaction before the answer, `batch` through the AuditBatcher, or `off`.
enum class ReadAudit { off, sync, batch };

struct ServiceSettings {
  std::size_t max_json_depth = 64;
  AuthMode auth = AuthMode::trust;
  ReadAudit read_audit = ReadAudit::off;
  AuditBatcher* batcher = nullptr;          // required for ReadAudit::batch; outlives the service
  SelectionEngine* selection = nullptr;     // null: selection answers 503; outlives the service
  ProcessEngine* processing = nullptr;      // null: processing answers 503; outlives the service
  RateLimiter* rate_limiter = nullptr;      // null: no per-agent limit; outlives the service
  const AuditTrust* audit_trust = nullptr;  // keys and checkpoint; null: unkeyed; outlives it
  GroupCommit* group_commit = nullptr;      // null: every change alone; outlives the service
  // What the storage reports changed (null: contexts are read from the store each time), and
  // how much of it the context cache may hold.
  sdk::StorageContextChanges* context_changes = nullptr;
  ContextCache::Settings context_cache;
  std::chrono::milliseconds auth_failure_window{10000};  // see AuthFailureFolder
  EmbeddingWorker* embedding = nullptr;  // nudged after each change; null: none; outlives it
  // The storage's memory files (path-addressed contexts); null: the memory tool answers 503.
  sdk::StorageMemoryFiles* memory_files = nullptr;
  // The storage's redaction in place; null: redaction answers 503.
  sdk::StorageErasure* erasure = nullptr;
  // The grants each agent received; null: GET /api/agent/{id}/received-grants answers 503.
  sdk::StorageReceivedGrants* received_grants = nullptr;
  // Reads from replicas with read-your-writes (docs/scaling.md); null: the storage has none.
  sdk::StorageReadRouting* read_routing = nullptr;
  // The change feed; null: GET /api/events answers 503. Woken after each committed change.
  EventHub* events = nullptr;
  // Webhooks: the storage's and the dispatcher (told of each registration and removal); either
  // null: the webhook endpoints answer 503. Need `events`.
  sdk::StorageWebhooks* webhooks = nullptr;
  WebhookDispatcher* webhook_dispatcher = nullptr;
  std::size_t webhooks_per_agent = 20;
};

class ContextService final : public sdk::ContextApi {
 public:
  // `access` reads through to the same storage; it outlives the service.
  ContextService(AccessCache& access, MetricsRegistry& metrics, const sdk::Clock& clock,
                 ServiceSettings settings);

  sdk::Result<sdk::ApiResponse> create_context(const sdk::Caller& caller,
                                               std::string_view body) override;
  sdk::Result<sdk::ApiResponse> get_context(const sdk::Caller& caller, std::string_view id,
                                            std::optional<std::string_view> version) override;
  sdk::Result<sdk::ApiResponse> patch_context(const sdk::Caller& caller, std::string_view id,
                                              std::string_view body,
                                              std::optional<std::string_view> if_match) override;
  sdk::Result<sdk::ApiResponse> delete_context(const sdk::Caller& caller, std::string_view id,
                                               std::optional<std::string_view> purge) override;
  sdk::Result<sdk::ApiResponse> history(const sdk::Caller& caller, std::string_view id,
                                        const sdk::PageParams& page) override;
  sdk::Result<sdk::ApiResponse> revert_context(const sdk::Caller& caller, std::string_view id,
                                               std::string_view body) override;
  sdk::Result<sdk::ApiResponse> list_contexts(const sdk::Caller& caller, std::string_view agent_id,
                                              const sdk::PageParams& page) override;
  sdk::Result<sdk::ApiResponse> create_agent(const sdk::Caller& caller,
                                             std::string_view body) override;
  sdk::Result<sdk::ApiResponse> list_agents(const sdk::Caller& caller,
                                            const sdk::PageParams& page) override;
  sdk::Result<sdk::ApiResponse> get_agent(const sdk::Caller& caller,
                                          std::string_view agent_id) override;
  sdk::Result<sdk::ApiResponse> rotate_token(const sdk::Caller& caller,
                                             std::string_view agent_id) override;
  sdk::Result<sdk::ApiResponse> disable_agent(const sdk::Caller& caller,
                                              std::string_view agent_id) override;
  sdk::Result<sdk::ApiResponse> me(const sdk::Caller& caller) override;
  sdk::Result<sdk::ApiResponse> put_grant(const sdk::Caller& caller, sdk::GrantScope scope,
                                          std::string_view scope_id,
                                          std::string_view body) override;
  sdk::Result<sdk::ApiResponse> list_grants(const sdk::Caller& caller, sdk::GrantScope scope,
                                            std::string_view scope_id) override;
  sdk::Result<sdk::ApiResponse> delete_grant(const sdk::Caller& caller, sdk::GrantScope scope,
                                             std::string_view scope_id,
                                             std::string_view agent_id) override;
  sdk::Result<sdk::ApiResponse> audit_events(const sdk::Caller& caller,
                                             const sdk::AuditParams& params) override;
  sdk::Result<sdk::ApiResponse> audit_verify(const sdk::Caller& caller) override;
  sdk::Result<sdk::ApiResponse> stats(const sdk::Caller& caller) override;
  sdk::Status ready() override;
  std::string metrics_text() override;
  // selection_api.cpp
  sdk::Result<sdk::ApiResponse> select_contexts(const sdk::Caller& caller,
                                                std::string_view agent_id,
                                                std::string_view body) override;
  sdk::Result<sdk::ApiResponse> get_selection(const sdk::Caller& caller,
                                              std::string_view id) override;
  sdk::Result<sdk::ApiResponse> list_selections(const sdk::Caller& caller,
                                                std::string_view agent_id,
                                                const sdk::PageParams& page) override;
  // process_api.cpp
  sdk::Result<sdk::ApiResponse> process(const sdk::Caller& caller, std::string_view agent_id,
                                        std::string_view body, sdk::ProcessStream& stream) override;
  sdk::Result<sdk::ApiResponse> create_context_once(const sdk::Caller& caller,
                                                    std::string_view body,
                                                    std::string_view idempotency_key) override;
  bool submit_create_context(const sdk::Caller& caller, std::string_view body,
                             sdk::SubmittedDone done) override;
  bool identity_from_headers() const override { return settings_.auth == AuthMode::trust; }
  std::string authenticated_agent(std::string_view request_id) const override;
  // The typed calls (ABI 1.6): the same operations without HTTP text.
  sdk::Result<std::string> whoami(const sdk::Caller& caller) override;
  sdk::Result<sdk::ApiResponse> read_context(const sdk::Caller& caller, std::string_view id,
                                             std::optional<std::int64_t> version) override;
  sdk::Result<sdk::ApiResponse> update_context(const sdk::Caller& caller, std::string_view id,
                                               std::string_view body,
                                               std::optional<std::int64_t> expected) override;
  sdk::Result<sdk::ApiResponse> context_history(const sdk::Caller& caller, std::string_view id,
                                                const sdk::TypedPage& page) override;
  sdk::Result<sdk::ApiResponse> agent_contexts(const sdk::Caller& caller, std::string_view agent_id,
                                               const sdk::TypedPage& page) override;
  sdk::Result<sdk::ContextPage> agent_context_rows(const sdk::Caller& caller,
                                                   std::string_view agent_id,
                                                   const sdk::TypedPage& page) override;
  // ABI 1.7: a request a transport found malformed, answered after authentication.
  sdk::Result<sdk::ApiResponse> refuse(const sdk::Caller& caller, std::string_view operation,
                                       sdk::Error error) override;
  // ABI 1.10: Claude's memory tool (memory_api.cpp).
  sdk::Result<sdk::ApiResponse> memory_command(const sdk::Caller& caller, std::string_view agent_id,
                                               std::string_view body) override;
  sdk::Result<sdk::ApiResponse> list_memory_files(const sdk::Caller& caller,
                                                  std::string_view agent_id,
                                                  std::string_view path_prefix,
                                                  const sdk::PageParams& page) override;
  sdk::Result<sdk::ApiResponse> redact_version(const sdk::Caller& caller, std::string_view id,
                                               std::string_view version) override;
  sdk::Result<sdk::ApiResponse> erase_agent(const sdk::Caller& caller,
                                            std::string_view agent_id) override;
  // ABI 1.11: the change feed (events_api.cpp).
  sdk::Result<std::unique_ptr<sdk::EventStream>> open_events(
      const sdk::Caller& caller, const sdk::EventParams& params) override;
  // ABI 1.12: webhooks (webhook_api.cpp).
  sdk::Result<sdk::ApiResponse> create_webhook(const sdk::Caller& caller,
                                               std::string_view body) override;
  sdk::Result<sdk::ApiResponse> list_webhooks(const sdk::Caller& caller) override;
  sdk::Result<sdk::ApiResponse> get_webhook(const sdk::Caller& caller,
                                            std::string_view id) override;
  sdk::Result<sdk::ApiResponse> delete_webhook(const sdk::Caller& caller,
                                               std::string_view id) override;
  sdk::Result<sdk::ApiResponse> webhook_deliveries(const sdk::Caller& caller, std::string_view id,
                                                   const sdk::PageParams& page) override;
  sdk::Result<sdk::ApiResponse> list_received_grants(const sdk::Caller& caller,
                                                     std::string_view agent_id,
                                                     const sdk::PageParams& page) override;
  sdk::Status set_consistency(std::string_view token) override {
    return consistency_.set_incoming(token);
  }
  std::string consistency() override { return consistency_.outgoing(); }
  std::vector<sdk::ReplicaState> read_replicas() override;
  void set_received_at(std::chrono::steady_clock::time_point at) override {
    consistency_.set_received_at(at);
  }

  // Audits the failed authentications folded into windows that have ended (all of them when
  // `all`, at shutdown): one auth.failed event each, with the count. Called periodically.
  void flush_auth_failures(bool all);

 private:
  // The operations once their HTTP text is parsed (or given typed): what the text and the typed
  // calls share.
  sdk::Result<sdk::ApiResponse> read_as(const sdk::Caller& caller, const Identity& who,
                                        std::string_view id, std::optional<std::int64_t> version);
  sdk::Result<sdk::ApiResponse> update_as(const sdk::Caller& caller, const Identity& who,
                                          std::string_view id, std::string_view body,
                                          std::optional<std::int64_t> expected);
  sdk::Result<sdk::ApiResponse> history_as(const sdk::Caller& caller, const Identity& who,
                                           std::string_view id, std::int64_t limit,
                                           const std::optional<std::string>& cursor);
  // One new version of context `id` (checked), made from its current row under the row's lock:
  // `modify` changes the row's context_data and metadata, or fails, which changes nothing. The
  // caller needs write access; `expected` is what If-Match named. The one update path.
  using RowChange = std::function<sdk::Status(sdk::ContextRow&)>;
  sdk::Result<sdk::ApiResponse> update_with(const sdk::Caller& caller, const Identity& who,
                                            const std::string& id,
                                            std::optional<std::int64_t> expected,
                                            const RowChange& modify);
  // One page of an owner's contexts the caller may read, and one row more when there is a next
  // page (page.limit is set and checked).
  sdk::Result<std::vector<sdk::ContextRow>> list_as(const sdk::Caller& caller, const Identity& who,
                                                    std::string_view agent_id,
                                                    const sdk::TypedPage& page);
  // list_as's page as the JSON body of API.md.
  sdk::Result<sdk::ApiResponse> list_page_as(const sdk::Caller& caller, const Identity& who,
                                             std::string_view agent_id, const sdk::TypedPage& page);
  // create_context, with an idempotency key when one is given.
  sdk::Result<sdk::ApiResponse> create(const sdk::Caller& caller, std::string_view body,
                                       std::optional<std::string_view> idempotency_key);
  sdk::Result<sdk::ApiResponse> create_as(const sdk::Caller& caller, const Identity& who,
                                          std::string_view body,
                                          std::optional<std::string_view> idempotency_key);
  // The new context a create request asks for, checked: everything of a create before its change.
  sdk::Result<sdk::ContextRow> create_row(const Identity& who, std::string_view body,
                                          std::optional<std::string_view> idempotency_key);
  // The change that writes `row` and its first version.
  static GroupCommit::Change create_change(sdk::ContextRow row);
  // A soft delete (a version that carries the data) or, for an admin, a purge; `id` is checked.
  sdk::Result<sdk::ApiResponse> delete_as(const sdk::Caller& caller, const Identity& who,
                                          const std::string& id, bool purge);

  // The memory tool's pieces (memory_api.cpp): one command of `who` on `agent`'s memory files.
  struct MemoryCall {
    const sdk::Caller& caller;
    const Identity& who;
    const std::string& agent;
  };
  // The live memory files of `agent` under `prefix` that `who` may read, in path order.
  sdk::Result<std::vector<sdk::ContextRow>> memory_rows(const Identity& who,
                                                        const std::string& agent,
                                                        const std::string& prefix,
                                                        std::int64_t limit);
  sdk::Result<std::optional<sdk::ContextRow>> memory_file(const Identity& who,
                                                          const std::string& agent,
                                                          const std::string& path);
  sdk::Result<std::optional<std::string>> memory_file_above(const MemoryCall& call,
                                                            const std::string& path);
  sdk::Result<sdk::ApiResponse> memory_view(const MemoryCall& call,
                                            const boost::json::object& input);
  sdk::Result<sdk::ApiResponse> memory_create(const MemoryCall& call, const std::string& path,
                                              const std::string& text);
  template <class EditFn>
  sdk::Result<sdk::ApiResponse> memory_edit(const MemoryCall& call, const std::string& path,
                                            EditFn&& edit);
  sdk::Result<sdk::ApiResponse> memory_delete(const MemoryCall& call, const std::string& path);
  sdk::Result<sdk::ApiResponse> memory_rename(const MemoryCall& call, const std::string& from,
                                              const std::string& to);
  // The answer to a repeated idempotent create: the first one's, or `conflict` when the key was
  // used for another request. nullopt when no context has that id (the first request).
  sdk::Result<std::optional<sdk::ApiResponse>> replay(const sdk::ContextRow& wanted);
  // Runs one change (see change.hpp) as `who`, through the caller's transport.
  template <class Fn>
  sdk::Result<sdk::ApiResponse> write(const sdk::Caller& caller, const Identity& who,
                                      std::string_view action, Fn&& change);
  // Resolves the caller, then runs `op(identity)`, counting the outcome and its duration under
  // `name`. Every operation goes through it.
  template <class Fn>
  auto as_caller(std::string_view name, const sdk::Caller& caller, Fn&& op)
      -> std::invoke_result_t<Fn&, const Identity&>;
  void count(std::string_view op, const sdk::Error* error);
  // count(), and the operation's duration since `started`: what as_caller records of each call.
  void counted(std::string_view op, std::chrono::steady_clock::time_point started,
               const sdk::Error* error);
  // After a change to context `changed` (may be empty), whatever its outcome (a failed commit may
  // still have landed): this server reads its own writes, and a new version is embedded soon.
  void after_change(const std::string& changed, bool ok);
  // Logs an exception that reached as_caller (with the operation and the request id) and gives
  // the caller an `internal` error naming the request id.
  sdk::Error escaped(std::string_view op, const sdk::Caller& caller, std::string_view what) const;
  // After a change to agents, tokens or grants (whatever its outcome: a failed commit may still
  // have landed), drops what the access cache holds so this server sees it at once.
  sdk::Result<sdk::ApiResponse> access_changed(sdk::Result<sdk::ApiResponse> result) {
    access_.invalidate();
    return result;
  }
  sdk::Result<SelectionEngine*> selection_engine() const;
  sdk::Result<sdk::StorageWebhooks*> webhook_store() const;
  sdk::Result<sdk::WebhookRow> webhook_of(const Identity& who, std::string_view id);
  // Resolves the caller; an authentication failure is itself audited (auth.failed).
  sdk::Result<Identity> identify(const sdk::Caller& caller);
  // Records an event outside a change: in its own transaction, or queued in batch mode.
  sdk::Status record(const sdk::Caller& caller, std::string agent_id, std::string_view action,
                     std::string_view context_id, std::string details);
  // Records a read (when reads are audited); a failure to record fails the read.
  sdk::Status audit_read(const sdk::Caller& caller, const Identity& who, std::string_view action,
                         std::string_view context_id, std::string details);

  AccessCache& access_;
  sdk::Storage& storage_;
  MetricsRegistry& metrics_;
  const sdk::Clock& clock_;
  ServiceSettings settings_;
  ContextCache contexts_;        // reads by id; the write path drops what it changes
  ReadConsistency consistency_;  // before writer_, whose commits it hears of
  Writer writer_;
  Authenticator auth_;
  AgentService agents_;
  GrantService grants_;
  AuthFailureFolder auth_failures_;
  bool submit_open_;  // submit_create_context takes creates
};

template <class Fn>
auto ContextService::as_caller(std::string_view name, const sdk::Caller& caller, Fn&& op)
    -> std::invoke_result_t<Fn&, const Identity&> {
  using R = std::invoke_result_t<Fn&, const Identity&>;  // an sdk::Result of some answer
  const auto started = std::chrono::steady_clock::now();
  // The one boundary between the kernel (and the plugins it calls) and a transport's thread: an
  // exception that escaped them becomes a logged `internal` error, never an unwinding transport.
  const ReadConsistency::Scope reads(consistency_);
  R result = [&]() -> R {
    try {
      auto who = identify(caller);
      return who ? op(*who) : R(who.error());
    } catch (const std::exception& e) {
      return escaped(name, caller, e.what());
    } catch (...) {
      return escaped(name, caller, "an exception that is not a std::exception");
    }
  }();
  counted(name, started, result ? nullptr : &result.error());
  return result;
}

template <class Fn>
sdk::Result<sdk::ApiResponse> ContextService::write(const sdk::Caller& caller, const Identity& who,
                                                    std::string_view action, Fn&& change) {
  std::string changed;  // the context the change touched, to drop from the cache
  auto result =
      writer_.run(clock_.now_us(), Actor{who.agent_id, caller.transport, caller.request_id}, action,
                  [&](sdk::Transaction& tx, sdk::AuditEvent& event) {
                    auto answer = change(tx, event);
                    changed = event.context_id;
                    return answer;
                  });
  after_change(changed, result.ok());  // before the answer goes out
  return result;
}

}  // namespace ctxmgr::kernel
