#pragma once
// What transports call: the kernel's context service. Every operation of API.md goes through
// here, so access rules, validation, versioning and audit are the same for REST, MCP and the CLI.
// Requests and answers are JSON text: the answer's `json` is the exact response body of API.md.
//
// Thread-safety: every method may be called concurrently from any thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ctxmgr/sdk/abi.h"
#include "ctxmgr/sdk/error.hpp"
#include "ctxmgr/sdk/event_stream.hpp"
#include "ctxmgr/sdk/storage_read_routing.hpp"
#include "ctxmgr/sdk/types.hpp"

namespace ctxmgr::sdk {

// Who is asking and through what. Headers are passed raw; the kernel authenticates.
struct Caller {
  std::string_view agent_header;   // X-Agent-Id (trust mode), may be empty
  std::string_view authorization;  // Authorization header, may be empty
  std::string_view transport;      // "http", "mcp"
  std::string_view request_id;
};

struct ApiResponse {
  std::string json;       // the response body; empty for 204
  int status = 200;       // 200, 201 or 204
  std::int64_t etag = 0;  // the version for an ETag header, 0 for none
  std::string location;   // a Location header for 201, else empty
};

// Query parameters of list endpoints, as the client wrote them (the kernel validates them).
struct PageParams {
  std::optional<std::string> limit;
  std::optional<std::string> cursor;
  std::optional<std::string> tag;
  std::optional<std::string> include_deleted;
};

// Since ABI 1.6. List parameters as values, for the typed calls (a transport without HTTP query
// text: MCP). The kernel checks them as it checks PageParams (limit 1–1000, the cursor's form).
struct TypedPage {
  std::optional<std::int64_t> limit;
  std::optional<std::string> cursor;
  std::optional<std::string> tag;
  bool include_deleted = false;
};

// Since ABI 1.6. A page of an agent's contexts as rows, for a transport that renders them itself.
struct ContextPage {
  std::vector<ContextRow> items;
  std::optional<std::string> next_cursor;  // pass it back for the next page
};

// Filters of GET /api/audit, as the client wrote them.
struct AuditParams {
  std::optional<std::string> context_id;
  std::optional<std::string> agent_id;
  std::optional<std::string> action;
  std::optional<std::string> since;  // RFC 3339
  std::optional<std::string> until;  // RFC 3339
  std::optional<std::string> limit;
  std::optional<std::string> cursor;
};

// Since ABI 1.16. The outcome of a submitted call (ContextApi::submit_create_context): what the
// synchronous call would have returned, and the agent the request authenticated as (what
// authenticated_agent would say; empty when it did not authenticate).
struct Submitted {
  Result<ApiResponse> result = ApiResponse{};
  std::string agent;
};
using SubmittedDone = std::function<void(Submitted)>;

// Where a streamed processing answer goes (the transport implements it; HTTP as SSE).
class CTXMGR_SDK_VISIBLE ProcessStream {
 public:
  virtual ~ProcessStream();
  // The stream starts: the transport sends its head (HTTP: 200, text/event-stream).
  // false: the client is gone; the kernel stops.
  virtual bool begin() = 0;
  // One event: `name` delta | done | error, `data` a JSON object text. false: the client is gone.
  virtual bool event(std::string_view name, std::string_view data) = 0;
};

class CTXMGR_SDK_VISIBLE ContextApi {
 public:
  virtual ~ContextApi();

  virtual Result<ApiResponse> create_context(const Caller& caller, std::string_view body) = 0;
  // `version`: the ?version= parameter as written, if any.
  virtual Result<ApiResponse> get_context(const Caller& caller, std::string_view id,
                                          std::optional<std::string_view> version) = 0;
  // `if_match`: the If-Match header as written, if any.
  virtual Result<ApiResponse> patch_context(const Caller& caller, std::string_view id,
                                            std::string_view body,
                                            std::optional<std::string_view> if_match) = 0;
  virtual Result<ApiResponse> delete_context(const Caller& caller, std::string_view id,
                                             std::optional<std::string_view> purge) = 0;
  virtual Result<ApiResponse> history(const Caller& caller, std::string_view id,
                                      const PageParams& page) = 0;
  virtual Result<ApiResponse> revert_context(const Caller& caller, std::string_view id,
                                             std::string_view body) = 0;
  virtual Result<ApiResponse> list_contexts(const Caller& caller, std::string_view agent_id,
                                            const PageParams& page) = 0;

  // The agent registry and the caller's identity (API.md: Agents).
  virtual Result<ApiResponse> create_agent(const Caller& caller, std::string_view body) = 0;
  virtual Result<ApiResponse> list_agents(const Caller& caller, const PageParams& page) = 0;
  virtual Result<ApiResponse> get_agent(const Caller& caller, std::string_view agent_id) = 0;
  virtual Result<ApiResponse> rotate_token(const Caller& caller, std::string_view agent_id) = 0;
  virtual Result<ApiResponse> disable_agent(const Caller& caller, std::string_view agent_id) = 0;
  virtual Result<ApiResponse> me(const Caller& caller) = 0;

  // Sharing (API.md: Grants): `scope_id` is the context id or the owner's agent id.
  virtual Result<ApiResponse> put_grant(const Caller& caller, GrantScope scope,
                                        std::string_view scope_id, std::string_view body) = 0;
  virtual Result<ApiResponse> list_grants(const Caller& caller, GrantScope scope,
                                          std::string_view scope_id) = 0;
  virtual Result<ApiResponse> delete_grant(const Caller& caller, GrantScope scope,
                                           std::string_view scope_id,
                                           std::string_view agent_id) = 0;

  // The audit log: events newest first (admins see all, an agent the events on contexts it
  // owns), and the verification of its hash chain (admins).
  virtual Result<ApiResponse> audit_events(const Caller& caller, const AuditParams& params) = 0;
  virtual Result<ApiResponse> audit_verify(const Caller& caller) = 0;

  // The seed's monitoring: contexts per agent, the latest accesses, totals (admins).
  virtual Result<ApiResponse> stats(const Caller& caller) = 0;

  // Readiness: the storage answers.
  virtual Status ready() = 0;
  // The Prometheus text of GET /metrics.
  virtual std::string metrics_text() = 0;

  // Since ABI 1.1. The kernel implements ContextApi and plugins only call it, so methods are
  // appended here (a 1.0 plugin never reaches them; a 1.1 plugin is refused by a 1.0 kernel).
  //
  // Selection for `agent_id`'s view (POST /api/agent/{id}/select; body as API.md).
  virtual Result<ApiResponse> select_contexts(const Caller& caller, std::string_view agent_id,
                                              std::string_view body) = 0;
  // The algorithm engine's record of one selection, and one agent's records newest first
  // (`cursor` is the last id of the previous page).
  virtual Result<ApiResponse> get_selection(const Caller& caller, std::string_view id) = 0;
  virtual Result<ApiResponse> list_selections(const Caller& caller, std::string_view agent_id,
                                              const PageParams& page) = 0;
  // Selects context for `agent_id` and calls a provider with it (POST /api/agent/{id}/process;
  // body as API.md). Without `"stream": true` the answer is returned as usual. With it, once the
  // request is valid, the kernel calls stream.begin() and then sends events through it (`delta`
  // {"text"}, then `done` with the answer or `error` with the error body); the returned value is
  // then only the outcome for the transport's own records. Errors found before begin() are
  // returned as usual.
  virtual Result<ApiResponse> process(const Caller& caller, std::string_view agent_id,
                                      std::string_view body, ProcessStream& stream) = 0;

  // Since ABI 1.2. create_context with an Idempotency-Key: the first request with a key creates
  // the context; a repeat of the same request with the same key (a client's retry after a lost
  // answer) creates nothing and gets the first answer again; the same key with another request
  // is `conflict`. Keys are per caller, 1–255 visible ASCII characters, and do not expire.
  virtual Result<ApiResponse> create_context_once(const Caller& caller, std::string_view body,
                                                  std::string_view idempotency_key) = 0;

  // Since ABI 1.3. Whether callers are named by a header (trust mode: X-Agent-Id, and a request
  // without it is the admin). Any web page the operator opens can then make the browser call the
  // API (DNS rebinding, cross-site requests), so a transport must answer only requests whose Host
  // and Origin are loopback ones or ones the operator allowed (docs/security.md).
  virtual bool identity_from_headers() const = 0;
  // The agent that request `request_id` (Caller::request_id) authenticated as, for access logs;
  // empty when the latest call made on this thread was for another request or did not
  // authenticate. Thread-safety: per thread; ask on the thread that made the call, after it
  // returned.
  virtual std::string authenticated_agent(std::string_view request_id) const = 0;

  // Since ABI 1.6. Typed calls, for transports that have no HTTP text to pass on (MCP): versions
  // and limits are numbers, no header syntax (If-Match's quotes) is involved, and the rows of a
  // list come back as structures. Same rules, audit, metrics and answers as the calls above.
  // The agent the caller authenticates as (the "me" operation, without its JSON).
  virtual Result<std::string> whoami(const Caller& caller) = 0;
  // As get_context; `version` nullopt: the current one.
  virtual Result<ApiResponse> read_context(const Caller& caller, std::string_view id,
                                           std::optional<std::int64_t> version) = 0;
  // As patch_context; `expected_version` is what If-Match would name.
  virtual Result<ApiResponse> update_context(const Caller& caller, std::string_view id,
                                             std::string_view body,
                                             std::optional<std::int64_t> expected_version) = 0;
  // As history and list_contexts.
  virtual Result<ApiResponse> context_history(const Caller& caller, std::string_view id,
                                              const TypedPage& page) = 0;
  virtual Result<ApiResponse> agent_contexts(const Caller& caller, std::string_view agent_id,
                                             const TypedPage& page) = 0;
  // As agent_contexts, the page as rows.
  virtual Result<ContextPage> agent_context_rows(const Caller& caller, std::string_view agent_id,
                                                 const TypedPage& page) = 0;

  // Since ABI 1.7. A request the transport could not turn into a call because a parameter or
  // header it parses (request_text.hpp) is malformed: the kernel authenticates the caller first,
  // so an unknown caller is told 401 before the 400, then answers `error`, counted and logged as
  // `operation` (a name of docs/operations.md: read, update, history, list; another name is
  // counted as "refused").
  virtual Result<ApiResponse> refuse(const Caller& caller, std::string_view operation,
                                     Error error) = 0;

  // Since ABI 1.10. Claude's memory tool on an agent's memory files (docs/memory-tool.md).
  // POST /api/agent/{id}/memory: `body` is exactly the tool's `input` object ({"command": "view",
  // "path": "/memories"}, ...). The answer is 200 {"content", "is_error"}: the model's mistakes
  // (no such file, old_str absent, a path outside /memories) are is_error true with a message the
  // model can act on; the caller's (bad JSON, no right) are errors as everywhere.
  virtual Result<ApiResponse> memory_command(const Caller& caller, std::string_view agent_id,
                                             std::string_view body) = 0;
  // GET /api/agent/{id}/contexts?path_prefix=/memories/x: the owner's live memory files whose path
  // starts with `path_prefix`, in path order (page.limit and page.cursor as list_contexts; tag and
  // include_deleted are refused with it).
  virtual Result<ApiResponse> list_memory_files(const Caller& caller, std::string_view agent_id,
                                                std::string_view path_prefix,
                                                const PageParams& page) = 0;
  // POST /api/context/{id}/versions/{version}/redact (the owner or an admin): the version's data
  // and metadata are erased in place, its number, time and actor kept, with a SHA-256 of what
  // was there (docs/memory-tool.md: Redaction). `version` as written.
  virtual Result<ApiResponse> redact_version(const Caller& caller, std::string_view id,
                                             std::string_view version) = 0;
  // DELETE /api/agents/{id}?erase=true (admin): every context, version, vector, grant, selection
  // record and token of the agent removed, its audit events kept; answers the report.
  virtual Result<ApiResponse> erase_agent(const Caller& caller, std::string_view agent_id) = 0;

  // Since ABI 1.11. GET /api/events: a subscription to the change feed for the caller, filtered
  // and resumed as `params` say (docs/events.md). Errors as everywhere (401, 400 for a bad
  // filter, 429 past the stream limits, 503 when the feed is off).
  virtual Result<std::unique_ptr<EventStream>> open_events(const Caller& caller,
                                                           const EventParams& params) = 0;

  // Since ABI 1.12. Webhooks: the change feed POSTed, signed, to a URL (docs/events.md:
  // Webhooks). POST /api/webhooks registers one for the caller (the filtered agent itself or an
  // admin); the secret is never shown again. GET lists the caller's (an admin's: all), GET and
  // DELETE /api/webhooks/{id} (its owner or an admin; 404 for anyone else), and
  // GET /api/webhooks/{id}/deliveries its delivery attempts, newest first (`page.cursor`: a seq
  // to read below).
  virtual Result<ApiResponse> create_webhook(const Caller& caller, std::string_view body) = 0;
  virtual Result<ApiResponse> list_webhooks(const Caller& caller) = 0;
  virtual Result<ApiResponse> get_webhook(const Caller& caller, std::string_view id) = 0;
  virtual Result<ApiResponse> delete_webhook(const Caller& caller, std::string_view id) = 0;
  virtual Result<ApiResponse> webhook_deliveries(const Caller& caller, std::string_view id,
                                                 const PageParams& page) = 0;

  // Since ABI 1.13. GET /api/agent/{id}/received-grants (the agent itself or an admin): what has
  // been shared with the agent, owner grants first then context grants of live contexts, paged
  // (page.limit, page.cursor; tag and include_deleted are not read). 503 when the storage cannot
  // list them.
  virtual Result<ApiResponse> list_received_grants(const Caller& caller, std::string_view agent_id,
                                                   const PageParams& page) = 0;

  // Since ABI 1.14. Read-your-writes across requests (docs/scaling.md), on a storage that reads
  // from replicas. Before every call, a transport passes the token its client brought (HTTP's
  // X-Ctxmgr-Consistency header; empty when none) on the thread that will make the call: that
  // call's reads are then served where the write it names is visible. invalid_request when the
  // token is not one this server gives; ignored when the storage reads no replica. After the
  // call, consistency() on the same thread is the token of what it wrote, to give back to the
  // client (empty: it wrote nothing, or there is nothing to wait for).
  virtual Status set_consistency(std::string_view token) = 0;
  virtual std::string consistency() = 0;
  // The storage's replicas and whether each is in rotation, for readiness (empty when it reads
  // no replica). With every replica out the server is still ready: the primary serves the reads.
  virtual std::vector<ReplicaState> read_replicas() = 0;

  // Since ABI 1.15. When the request reached the transport, said before the call on the thread
  // that will make it (as set_consistency): a steady-clock time taken after some of the
  // request's bytes were received — never before, or a read may miss a change acknowledged just
  // before the client sent it. A read of a cached context may then rely on a check for changes
  // that began after that moment instead of asking the store once more (docs/storage-postgres.md:
  // The context cache), so requests that arrived together share one check. The default
  // time_point{} means unknown: the call's own start counts. The kernel forgets it when the call
  // ends.
  virtual void set_received_at(std::chrono::steady_clock::time_point at) = 0;

  // Since ABI 1.16. create_context without a thread waiting on the commit: the request is checked
  // on the calling thread, its change joins the writes that commit together, and `done` gets the
  // answer exactly once — on the kernel thread that committed the batch, or on this thread before
  // this returns when the request was refused. `done` must not block (hand the answer to the
  // transport's own thread) and should not throw. `caller` and `body` are read before this
  // returns. false, and `done` is never called: this server cannot (its writes do not commit
  // together, or it reads from replicas, whose consistency token belongs to the calling thread):
  // make the synchronous call instead, on a thread that may block. No Idempotency-Key here: a
  // keyed create may read the store before it writes.
  virtual bool submit_create_context(const Caller& caller, std::string_view body,
                                     SubmittedDone done) {
    (void)caller;
    (void)body;
    (void)done;
    return false;
  }
};

}  // namespace ctxmgr::sdk
