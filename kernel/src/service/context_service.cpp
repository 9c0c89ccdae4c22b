#include "service/context_service.hpp"

#include <algorithm>
#include <charconv>

#include "core/access.hpp"
#include "core/context_render.hpp"
#include "core/ids.hpp"
#include "core/page.hpp"
#include "core/request_parsing.hpp"
#include "json/json_text.hpp"
#include "json/merge_patch.hpp"
#include "log/logging.hpp"
#include "service/context_answers.hpp"

namespace ctxmgr::kernel {

using sdk::ApiResponse;
using sdk::Errc;
using sdk::Error;
namespace json = boost::json;

namespace {

// Stored documents were written by the kernel; read them back with room to spare even if the
// configured request depth was lowered since.
constexpr std::size_t kStoredDepth = 4096;

}  // namespace

ContextService::ContextService(AccessCache& access, MetricsRegistry& metrics,
                               const sdk::Clock& clock, ServiceSettings settings)
    : access_(access),
      storage_(access.storage()),
      metrics_(metrics),
      clock_(clock),
      settings_(settings),
      contexts_(storage_, settings.context_changes, settings.context_cache),
      consistency_(settings.read_routing),
      writer_(storage_, settings.group_commit,
              [this, events = settings.events] {
                consistency_.wrote();
                if (events != nullptr) events->wake();
              }),
      auth_(settings.auth, access),
      agents_(storage_, clock, settings.max_json_depth),
      grants_(access, writer_, clock, settings.auth, settings.max_json_depth,
              settings.received_grants),
      auth_failures_(settings.auth_failure_window),
      // With replicas, the read-your-writes token is made on the calling thread after the commit
      // (read_consistency.hpp): such a server answers creates synchronously. Replicas are
      // configured, not discovered: the list does not change while the server runs.
      submit_open_(writer_.can_submit() && (settings.read_routing == nullptr ||
                                            settings.read_routing->replicas().empty())) {}

void ContextService::count(std::string_view op, const Error* error) {
  std::string labels = "op=\"" + std::string(op) + "\",outcome=\"" +
                       std::string(error == nullptr ? "ok" : sdk::code_name(error->code())) + "\"";
  metrics_.counter_add("ctxmgr_context_operations_total", labels, 1);
}

void ContextService::counted(std::string_view op, std::chrono::steady_clock::time_point started,
                             const Error* error) {
  count(op, error);
  metrics_.observe(
      "ctxmgr_context_operation_duration_seconds", "op=\"" + std::string(op) + "\"",
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
}

void ContextService::after_change(const std::string& changed, bool ok) {
  if (changed.empty()) return;
  contexts_.invalidate(changed);
  // A new version to embed (or a purge the index will drop): the worker need not wait its turn.
  if (ok && settings_.embedding != nullptr) settings_.embedding->nudge();
}

sdk::Error ContextService::escaped(std::string_view op, const sdk::Caller& caller,
                                   std::string_view what) const {
  kernel_log().error("{} (request {}): unexpected exception: {}", op, caller.request_id, what);
  return Error(Errc::internal,
               "internal error (request " + std::string(caller.request_id) + "); see the log");
}

namespace {
// Who the latest call on this thread authenticated as, and for which request
// (ContextApi::authenticated_agent): calls are synchronous, so the transport asks on the same
// thread right after.
struct LastIdentity {
  std::string request_id;
  std::string agent_id;
};
thread_local LastIdentity last_identity;
}  // namespace

std::string ContextService::authenticated_agent(std::string_view request_id) const {
  return last_identity.request_id == request_id ? last_identity.agent_id : std::string();
}

sdk::Result<Identity> ContextService::identify(const sdk::Caller& caller) {
  auto who = auth_.resolve(caller);
  last_identity.request_id = caller.request_id;
  last_identity.agent_id = who ? who->agent_id : std::string();
  if (!who && who.error().code() == Errc::unauthenticated &&
      auth_failures_.first(caller.transport, who.error().message(), clock_.steady_ns())) {
    // Never the token itself: only why it was refused. The rest of the window are folded.
    (void)record(caller, "anonymous", "auth.failed", "",
                 "{\"reason\":" + json_quote(who.error().message()) + "}");
  }
  if (who && settings_.rate_limiter != nullptr) {
    if (const auto wait = settings_.rate_limiter->take(who->agent_id, clock_.steady_ns());
        wait > 0) {
      metrics_.counter_add("ctxmgr_rate_limited_total", "", 1);
      return std::move(Error(Errc::rate_limited, "agent " + who->agent_id +
                                                     " is over its request rate; retry in " +
                                                     std::to_string(wait) + " s")
                           .with_field("retry_after", wait));
    }
  }
  return who;
}

void ContextService::flush_auth_failures(bool all) {
  for (const auto& f : auth_failures_.take(clock_.steady_ns(), all)) {
    const sdk::Caller caller{{}, {}, f.transport, {}};
    (void)record(caller, "anonymous", "auth.failed", "",
                 "{\"reason\":" + json_quote(f.reason) + ",\"count\":" + std::to_string(f.count) +
                     ",\"folded\":true}");
  }
}

sdk::Status ContextService::record(const sdk::Caller& caller, std::string agent_id,
                                   std::string_view action, std::string_view context_id,
                                   std::string details) {
  sdk::AuditEvent ev;
  ev.at_us = clock_.now_us();
  ev.agent_id = std::move(agent_id);
  ev.action = action;
  ev.context_id = context_id;
  ev.transport = caller.transport;
  ev.request_id = caller.request_id;
  ev.details = std::move(details);
  if (settings_.read_audit == ReadAudit::batch && settings_.batcher != nullptr) {
    return settings_.batcher->add(std::move(ev));
  }
  auto tx = storage_.begin();
  if (!tx) return tx.error();
  if (auto seq = (*tx)->append_audit(ev); !seq) return seq.error();
  return (*tx)->commit();
}

sdk::Status ContextService::audit_read(const sdk::Caller& caller, const Identity& who,
                                       std::string_view action, std::string_view context_id,
                                       std::string details) {
  if (settings_.read_audit == ReadAudit::off) return {};
  return record(caller, who.agent_id, action, context_id, std::move(details));
}

sdk::Result<ApiResponse> ContextService::create_context(const sdk::Caller& caller,
                                                        std::string_view body) {
  return create(caller, body, std::nullopt);
}

sdk::Result<ApiResponse> ContextService::create_context_once(const sdk::Caller& caller,
                                                             std::string_view body,
                                                             std::string_view idempotency_key) {
  return create(caller, body, idempotency_key);
}

sdk::Result<std::optional<ApiResponse>> ContextService::replay(const sdk::ContextRow& wanted) {
  using R = sdk::Result<std::optional<ApiResponse>>;
  auto existing = storage_.get(wanted.id);
  if (!existing) return existing.error();
  if (!*existing) return R(std::nullopt);
  // Version 1 never changes: it is what the first request wrote.
  auto first = storage_.get_version(wanted.id, 1);
  if (!first) return first.error();
  if (!*first || (*first)->agent_id != wanted.created_by ||
      (*existing)->agent_id != wanted.agent_id || (*first)->context_data != wanted.context_data ||
      (*first)->metadata != wanted.metadata) {
    return Error(Errc::conflict,
                 "Idempotency-Key was already used for a different request; use a new key");
  }
  sdk::ContextRow then = **existing;
  then.context_data = (*first)->context_data;
  then.metadata = (*first)->metadata;
  then.version = 1;
  then.updated_at_us = then.created_at_us;
  then.updated_by = then.created_by;
  then.deleted = false;
  ApiResponse r = context_response(then, 201);
  r.location = "/api/context/" + then.id;
  return R(std::move(r));
}

sdk::Result<ApiResponse> ContextService::create(const sdk::Caller& caller, std::string_view body,
                                                std::optional<std::string_view> idempotency_key) {
  return as_caller("create", caller, [&](const Identity& who) -> sdk::Result<ApiResponse> {
    return create_as(caller, who, body, idempotency_key);
  });
}

sdk::Result<ApiResponse> ContextService::create_as(
    const sdk::Caller& caller, const Identity& who, std::string_view body,
    std::optional<std::string_view> idempotency_key) {
  auto row = create_row(who, body, idempotency_key);
  if (!row) return row.error();
  if (idempotency_key) {
    auto again = replay(*row);
    if (!again) return again.error();
    if (*again) return std::move(**again);
  }
  auto created = write(caller, who, "create", create_change(*row));
  if (!created && created.error().code() == Errc::conflict && idempotency_key) {
    // A concurrent repeat inserted it first: answer as that one did.
    auto again = replay(*row);
    if (!again) return again.error();
    if (*again) return std::move(**again);
  }
  return created;
}

bool ContextService::submit_create_context(const sdk::Caller& caller, std::string_view body,
                                           sdk::SubmittedDone done) {
  if (!submit_open_) return false;
  const auto started = std::chrono::steady_clock::now();
  // What as_caller does after an operation, once its outcome is known.
  auto finish = [this, started, done = std::move(done)](sdk::Result<ApiResponse> result,
                                                        std::string agent) {
    counted("create", started, result ? nullptr : &result.error());
    done(sdk::Submitted{std::move(result), std::move(agent)});
  };
  std::optional<Identity> who;
  sdk::Result<sdk::ContextRow> row = Error(Errc::internal, "not checked");
  try {
    auto identity = identify(caller);
    if (!identity) {
      // As the access log of a synchronous call would name it (a rate-limited caller did
      // authenticate).
      finish(identity.error(), authenticated_agent(caller.request_id));
      return true;
    }
    who = std::move(*identity);
    row = create_row(*who, body, std::nullopt);
  } catch (const std::exception& e) {
    row = escaped("create", caller, e.what());
  } catch (...) {
    row = escaped("create", caller, "an exception that is not a std::exception");
  }
  if (!row) {
    finish(row.error(), who ? who->agent_id : std::string());
    return true;
  }
  const std::int64_t now = row->created_at_us;
  std::string id = row->id;
  writer_.submit(now, Actor{who->agent_id, caller.transport, caller.request_id}, "create",
                 create_change(std::move(*row)),
                 [this, id = std::move(id), agent = who->agent_id,
                  finish = std::move(finish)](sdk::Result<ApiResponse> result) {
                   after_change(id, result.ok());
                   finish(std::move(result), agent);
                 });
  return true;
}

sdk::Result<sdk::ContextRow> ContextService::create_row(
    const Identity& who, std::string_view body, std::optional<std::string_view> idempotency_key) {
  if (idempotency_key) {
    const auto k = *idempotency_key;
    const bool visible =
        std::all_of(k.begin(), k.end(), [](char c) { return c > 0x20 && c < 0x7f; });
    if (k.empty() || k.size() > 255 || !visible) {
      return Error(Errc::invalid_request,
                   "Idempotency-Key must be 1 to 255 visible ASCII characters");
    }
  }
  auto obj =
      parse_body_object(body, settings_.max_json_depth, {"agent_id", "context_data", "metadata"});
  if (!obj) return obj.error();
  const auto* agent = obj->if_contains("agent_id");
  if (agent == nullptr) return Error(Errc::invalid_request, "agent_id is required");
  if (!agent->is_string()) return Error(Errc::invalid_request, "agent_id must be a string");
  auto agent_id = parse_agent_id(std::string_view(agent->get_string()), "agent_id");
  if (!agent_id) return agent_id.error();
  if (*agent_id != who.agent_id && !who.admin) {
    return Error(Errc::forbidden, "agent_id must be the caller's own (" + who.agent_id +
                                      ") unless the caller is an admin");
  }
  const auto* data = obj->if_contains("context_data");
  if (data == nullptr) return Error(Errc::invalid_request, "context_data is required");
  if (!data->is_object()) return Error(Errc::invalid_request, "context_data must be a JSON object");
  json::value metadata = json::object();
  if (const auto* m = obj->if_contains("metadata"); m != nullptr && !m->is_null()) {
    if (auto st = validate_metadata(*m); !st) return st.error();
    metadata = *m;
  }
  sdk::ContextRow row;
  const std::int64_t now = clock_.now_us();
  // With a key the id is derived from the caller and the key, so a repeat finds the first.
  row.id =
      idempotency_key
          ? uuid_v8_from("idempotency-key\n" + who.agent_id + "\n" + std::string(*idempotency_key))
          : new_uuid_v7(now / 1000);
  row.agent_id = *agent_id;
  row.context_data = to_json(*data);
  row.metadata = to_json(metadata);
  row.version = 1;
  row.created_at_us = row.updated_at_us = now;
  row.created_by = row.updated_by = who.agent_id;
  return row;
}

GroupCommit::Change ContextService::create_change(sdk::ContextRow row) {
  return [row = std::move(row)](sdk::Transaction& tx,
                                sdk::AuditEvent& ev) -> sdk::Result<ApiResponse> {
    ev.context_id = row.id;
    ev.details = R"({"version":1})";
    if (auto st = tx.insert_context(row); !st) return st.error();
    if (auto st = tx.append_history({row.id, 1, "create", row.created_by, row.created_at_us,
                                     row.context_data, row.metadata});
        !st) {
      return st.error();
    }
    ApiResponse r = context_response(row, 201);
    r.location = "/api/context/" + row.id;
    return r;
  };
}

sdk::Result<ApiResponse> ContextService::patch_context(const sdk::Caller& caller,
                                                       std::string_view id_text,
                                                       std::string_view body,
                                                       std::optional<std::string_view> if_match) {
  return as_caller("update", caller, [&](const Identity& who) -> sdk::Result<ApiResponse> {
    std::optional<std::int64_t> expected;
    if (if_match) {
      auto v = parse_if_match(*if_match);
      if (!v) return v.error();
      expected = *v;
    }
    return update_as(caller, who, id_text, body, expected);
  });
}

sdk::Result<ApiResponse> ContextService::update_context(const sdk::Caller& caller,
                                                        std::string_view id_text,
                                                        std::string_view body,
                                                        std::optional<std::int64_t> expected) {
  return as_caller("update", caller, [&](const Identity& who) -> sdk::Result<ApiResponse> {
    if (auto st = check_positive(expected, "the expected version"); !st) return st.error();
    return update_as(caller, who, id_text, body, expected);
  });
}

sdk::Result<ApiResponse> ContextService::update_as(const sdk::Caller& caller, const Identity& who,
                                                   std::string_view id_text, std::string_view body,
                                                   std::optional<std::int64_t> expected) {
  auto id = parse_context_id(id_text);
  if (!id) return id.error();
  auto obj = parse_body_object(body, settings_.max_json_depth, {"context_data", "metadata"});
  if (!obj) return obj.error();
  const auto* data_patch = obj->if_contains("context_data");
  const auto* meta_patch = obj->if_contains("metadata");
  if (data_patch == nullptr && meta_patch == nullptr) {
    return Error(Errc::invalid_request, "body must have context_data and/or metadata");
  }
  if (data_patch != nullptr && !data_patch->is_object()) {
    return Error(Errc::invalid_request, "context_data must be a JSON object (a merge patch)");
  }
  if (meta_patch != nullptr && !meta_patch->is_object()) {
    return Error(Errc::invalid_request, "metadata must be a JSON object (a merge patch)");
  }
  return update_with(caller, who, *id, expected, [&](sdk::ContextRow& row) -> sdk::Status {
    if (data_patch != nullptr) {
      auto doc = parse_json(row.context_data, kStoredDepth);
      if (!doc) return Error(Errc::internal, "stored context_data is unreadable");
      merge_patch(*doc, *data_patch);
      row.context_data = to_json(*doc);
    }
    if (meta_patch != nullptr) {
      auto doc = parse_json(row.metadata, kStoredDepth);
      if (!doc) return Error(Errc::internal, "stored metadata is unreadable");
      merge_patch(*doc, *meta_patch);
      if (auto st = validate_metadata(*doc); !st) return st.error();
      row.metadata = to_json(*doc);
    }
    return {};
  });
}

sdk::Result<ApiResponse> ContextService::update_with(const sdk::Caller& caller, const Identity& who,
                                                     const std::string& id,
                                                     std::optional<std::int64_t> expected,
                                                     const RowChange& modify) {
  return write(caller, who, "update", [&](sdk::Transaction& tx, sdk::AuditEvent& ev) {
    using R = sdk::Result<ApiResponse>;
    ev.context_id = id;
    auto cur = tx.get_for_update(id);
    if (!cur) return R(cur.error());
    if (!cur->has_value() || (*cur)->deleted) return R(not_found(id));
    sdk::ContextRow row = std::move(**cur);
    auto access = access_of(access_, who, row);
    if (!access) return R(access.error());
    if (auto st = require(*access, Access::write, id, "change"); !st) return R(st.error());
    if (expected && *expected != row.version) {
      return R(Error(Errc::precondition_failed,
                     "If-Match names version " + std::to_string(*expected) +
                         " but the current version is " + std::to_string(row.version))
                   .with_field("current_version", row.version));
    }
    if (auto st = modify(row); !st) return R(st.error());
    row.version += 1;
    row.updated_at_us = ev.at_us;
    row.updated_by = who.agent_id;
    ev.details = "{\"version\":" + std::to_string(row.version) + "}";
    if (auto st = tx.update_context(row); !st) return R(st.error());
    if (auto st = tx.append_history({row.id, row.version, "update", who.agent_id, ev.at_us,
                                     row.context_data, row.metadata});
        !st) {
      return R(st.error());
    }
    return R(context_response(row));
  });
}

sdk::Result<ApiResponse> ContextService::delete_context(
    const sdk::Caller& caller, std::string_view id_text,
    std::optional<std::string_view> purge_text) {
  const bool purging = purge_text && *purge_text == "true";
  return as_caller(
      purging ? "purge" : "delete", caller, [&](const Identity& who) -> sdk::Result<ApiResponse> {
        auto id = parse_context_id(id_text);
        if (!id) return id.error();
        auto purge = parse_bool(purge_text ? std::optional<std::string>(*purge_text) : std::nullopt,
                                "purge", false);
        if (!purge) return purge.error();
        return delete_as(caller, who, *id, *purge);
      });
}

sdk::Result<ApiResponse> ContextService::delete_as(const sdk::Caller& caller, const Identity& who,
                                                   const std::string& id, bool purge) {
  return write(caller, who, purge ? "purge" : "delete",
               [&](sdk::Transaction& tx, sdk::AuditEvent& ev) {
                 using R = sdk::Result<ApiResponse>;
                 ev.context_id = id;
                 auto cur = tx.get_for_update(id);
                 if (!cur) return R(cur.error());
                 if (!cur->has_value() || (!purge && (*cur)->deleted)) return R(not_found(id));
                 sdk::ContextRow row = std::move(**cur);
                 auto access = access_of(access_, who, row);
                 if (!access) return R(access.error());
                 if (auto st = require(*access, Access::owner, id, "delete"); !st) {
                   return R(st.error());
                 }
                 if (purge && !who.admin) {
                   return R(Error(Errc::forbidden, "only an admin may purge a context"));
                 }
                 ApiResponse none;
                 none.status = 204;
                 if (purge) {
                   // The owner too: once purged, nothing else says whose it was (the feed).
                   ev.details = "{\"versions\":" + std::to_string(row.version) +
                                ",\"owner\":" + json_quote(row.agent_id) + "}";
                   if (auto st = tx.purge_context(id); !st) return R(st.error());
                   return R(none);
                 }
                 // A delete is a version that carries the data it deleted.
                 row.version += 1;
                 row.deleted = true;
                 row.updated_at_us = ev.at_us;
                 row.updated_by = who.agent_id;
                 ev.details = "{\"version\":" + std::to_string(row.version) + "}";
                 if (auto st = tx.update_context(row); !st) return R(st.error());
                 if (auto st = tx.append_history({row.id, row.version, "delete", who.agent_id,
                                                  ev.at_us, row.context_data, row.metadata});
                     !st) {
                   return R(st.error());
                 }
                 return R(none);
               });
}

sdk::Result<ApiResponse> ContextService::revert_context(const sdk::Caller& caller,
                                                        std::string_view id_text,
                                                        std::string_view body) {
  return as_caller("revert", caller, [&](const Identity& who) -> sdk::Result<ApiResponse> {
    auto id = parse_context_id(id_text);
    if (!id) return id.error();
    auto obj = parse_body_object(body, settings_.max_json_depth, {"version"});
    if (!obj) return obj.error();
    const auto* v = obj->if_contains("version");
    if (v == nullptr || !v->is_int64() || v->get_int64() < 1) {
      return Error(Errc::invalid_request, "version is required: a positive integer");
    }
    const std::int64_t target = v->get_int64();
    return write(caller, who, "revert", [&](sdk::Transaction& tx, sdk::AuditEvent& ev) {
      using R = sdk::Result<ApiResponse>;
      ev.context_id = *id;
      auto cur = tx.get_for_update(*id);
      if (!cur) return R(cur.error());
      if (!cur->has_value()) return R(not_found(*id));
      auto access = access_of(access_, who, **cur);
      if (!access) return R(access.error());
      // Undoing a delete is the owner's (and admins') call, as the delete was: a write grant
      // reverts only a live context.
      const bool undelete = (*cur)->deleted;
      if (auto st = require(*access, undelete ? Access::owner : Access::write, *id,
                            undelete ? "revert a deleted context (undelete)" : "revert");
          !st) {
        return R(st.error());
      }
      // Versions never change once written, and the row lock keeps a purge out meanwhile.
      auto old = storage_.get_version(*id, target);
      if (!old) return R(old.error());
      if (!old->has_value()) {
        return R(
            Error(Errc::not_found, "context " + *id + " has no version " + std::to_string(target)));
      }
      sdk::ContextRow row = std::move(**cur);
      row.version += 1;
      row.deleted = false;  // reverting undeletes
      row.context_data = (*old)->context_data;
      row.metadata = (*old)->metadata;
      row.updated_at_us = ev.at_us;
      row.updated_by = who.agent_id;
      ev.details = "{\"version\":" + std::to_string(row.version) +
                   ",\"from_version\":" + std::to_string(target) + "}";
      if (auto st = tx.update_context(row); !st) return R(st.error());
      if (auto st = tx.append_history({row.id, row.version, "revert", who.agent_id, ev.at_us,
                                       row.context_data, row.metadata});
          !st) {
        return R(st.error());
      }
      return R(context_response(row));
    });
  });
}

namespace {

// A storage call made outside as_caller (readiness has no caller): its own boundary. What escapes
// is logged as "`what` threw", and `fallback` answers.
template <class T, class Fn>
T guarded(std::string_view what, T fallback, Fn&& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    kernel_log().error("{} threw: {}", what, e.what());
  } catch (...) {
    kernel_log().error("{} threw something that is not a std::exception", what);
  }
  return fallback;
}

}  // namespace

sdk::Status ContextService::ready() {
  return guarded<sdk::Status>(
      "the readiness check's ping",
      Error(Errc::unavailable, "the storage failed its readiness check (see the log)"),
      [&] { return storage_.ping(); });
}

std::vector<sdk::ReplicaState> ContextService::read_replicas() {
  if (settings_.read_routing == nullptr) return {};
  return guarded<std::vector<sdk::ReplicaState>>(
      "listing the storage's replicas", {}, [&] { return settings_.read_routing->replicas(); });
}

std::string ContextService::metrics_text() {
  access_.publish(metrics_);
  contexts_.publish(metrics_);
  if (settings_.group_commit != nullptr) settings_.group_commit->publish(metrics_);
  return metrics_.render();
}

}  // namespace ctxmgr::kernel
