// ContextService's reads: a context (current or an old version), its history, and an owner's
// contexts — from HTTP text (API.md's parameters) or typed (ABI 1.6), sharing one body each.

#include <algorithm>
#include <iterator>

#include "core/access.hpp"
#include "core/context_render.hpp"
#include "core/page.hpp"
#include "core/request_parsing.hpp"
#include "json/json_text.hpp"
#include "service/context_answers.hpp"
#include "service/context_service.hpp"

namespace ctxmgr::kernel {

using sdk::ApiResponse;
using sdk::Errc;
using sdk::Error;

sdk::Result<ApiResponse> ContextService::get_context(const sdk::Caller& caller,
                                                     std::string_view id_text,
                                                     std::optional<std::string_view> version) {
  return as_caller("read", caller, [&](const Identity& who) -> sdk::Result<ApiResponse> {
    std::optional<std::int64_t> wanted;
    if (version) {
      auto v = parse_positive(*version, "version");
      if (!v) return v.error();
      wanted = *v;
    }
    return read_as(caller, who, id_text, wanted);
  });
}

sdk::Result<ApiResponse> ContextService::read_context(const sdk::Caller& caller,
                                                      std::string_view id_text,
                                                      std::optional<std::int64_t> version) {
  return as_caller("read", caller, [&](const Identity& who) -> sdk::Result<ApiResponse> {
    if (auto st = check_positive(version, "version"); !st) return st.error();
    return read_as(caller, who, id_text, version);
  });
}

sdk::Result<ApiResponse> ContextService::read_as(const sdk::Caller& caller, const Identity& who,
                                                 std::string_view id_text,
                                                 std::optional<std::int64_t> wanted) {
  auto id = parse_context_id(id_text);
  if (!id) return id.error();
  auto row = contexts_.get(*id, ReadConsistency::received_at());
  if (!row) return row.error();
  if (*row == nullptr || (*row)->deleted) return not_found(*id);
  auto access = access_of(access_, who, **row);
  if (!access) return access.error();
  if (auto st = require(*access, Access::read, *id, "read"); !st) return st.error();
  if (auto st =
          audit_read(caller, who, "read", *id,
                     "{\"version\":" + std::to_string(wanted.value_or((*row)->version)) + "}");
      !st) {
    return st.error();
  }
  if (!wanted || *wanted == (*row)->version) return context_response(**row);
  auto old = storage_.get_version(*id, *wanted);
  if (!old) return old.error();
  if (!old->has_value()) {
    return Error(Errc::not_found, "context " + *id + " has no version " + std::to_string(*wanted) +
                                      " (current: " + std::to_string((*row)->version) + ")");
  }
  ApiResponse r;
  r.json = render_context_version(**row, **old);
  r.etag = *wanted;
  return r;
}

sdk::Result<ApiResponse> ContextService::history(const sdk::Caller& caller,
                                                 std::string_view id_text,
                                                 const sdk::PageParams& page) {
  return as_caller("history", caller, [&](const Identity& who) -> sdk::Result<ApiResponse> {
    auto limit = parse_limit(page.limit, kDefaultPageLimit);
    if (!limit) return limit.error();
    return history_as(caller, who, id_text, *limit, page.cursor);
  });
}

sdk::Result<ApiResponse> ContextService::context_history(const sdk::Caller& caller,
                                                         std::string_view id_text,
                                                         const sdk::TypedPage& page) {
  return as_caller("history", caller, [&](const Identity& who) -> sdk::Result<ApiResponse> {
    auto limit = check_limit(page.limit, kDefaultPageLimit);
    if (!limit) return limit.error();
    return history_as(caller, who, id_text, *limit, page.cursor);
  });
}

sdk::Result<ApiResponse> ContextService::history_as(const sdk::Caller& caller, const Identity& who,
                                                    std::string_view id_text, std::int64_t limit,
                                                    const std::optional<std::string>& cursor) {
  auto id = parse_context_id(id_text);
  if (!id) return id.error();
  std::int64_t before = 0;
  if (cursor) {
    auto v = parse_positive(*cursor, "cursor");
    if (!v) return Error(Errc::invalid_request, "cursor is not one this server gave out");
    before = *v;
  }
  auto row = storage_.get(*id);
  if (!row) return row.error();
  if (!row->has_value()) return not_found(*id);  // a deleted context keeps its history
  auto access = access_of(access_, who, **row);
  if (!access) return access.error();
  if (auto st = require(*access, Access::read, *id, "read"); !st) return st.error();
  if (auto st = audit_read(caller, who, "history", *id, "{}"); !st) return st.error();
  auto items = storage_.history(*id, before, limit + 1);
  if (!items) return items.error();
  ApiResponse r;
  r.json = render_page(*items, limit, render_history_item,
                       [](const sdk::HistoryRow& h) { return std::to_string(h.version); });
  return r;
}

sdk::Result<ApiResponse> ContextService::list_contexts(const sdk::Caller& caller,
                                                       std::string_view agent_text,
                                                       const sdk::PageParams& page) {
  return as_caller("list", caller, [&](const Identity& who) -> sdk::Result<ApiResponse> {
    auto limit = parse_limit(page.limit, kDefaultPageLimit);
    if (!limit) return limit.error();
    auto include_deleted = parse_bool(page.include_deleted, "include_deleted", false);
    if (!include_deleted) return include_deleted.error();
    return list_page_as(caller, who, agent_text,
                        sdk::TypedPage{*limit, page.cursor, page.tag, *include_deleted});
  });
}

sdk::Result<ApiResponse> ContextService::agent_contexts(const sdk::Caller& caller,
                                                        std::string_view agent_text,
                                                        const sdk::TypedPage& page) {
  return as_caller("list", caller, [&](const Identity& who) -> sdk::Result<ApiResponse> {
    auto limit = check_limit(page.limit, kDefaultPageLimit);
    if (!limit) return limit.error();
    sdk::TypedPage typed = page;
    typed.limit = *limit;
    return list_page_as(caller, who, agent_text, typed);
  });
}

sdk::Result<ApiResponse> ContextService::list_page_as(const sdk::Caller& caller,
                                                      const Identity& who,
                                                      std::string_view agent_text,
                                                      const sdk::TypedPage& page) {
  auto rows = list_as(caller, who, agent_text, page);
  if (!rows) return rows.error();
  ApiResponse r;
  r.json = render_page(*rows, *page.limit, render_context, list_cursor);
  return r;
}

sdk::Result<sdk::ContextPage> ContextService::agent_context_rows(const sdk::Caller& caller,
                                                                 std::string_view agent_text,
                                                                 const sdk::TypedPage& page) {
  return as_caller("list", caller, [&](const Identity& who) -> sdk::Result<sdk::ContextPage> {
    auto limit = check_limit(page.limit, kDefaultPageLimit);
    if (!limit) return limit.error();
    sdk::TypedPage typed = page;
    typed.limit = *limit;
    auto rows = list_as(caller, who, agent_text, typed);
    if (!rows) return rows.error();
    sdk::ContextPage out;
    // As render_page: a row beyond the limit means there is a next page.
    if (static_cast<std::int64_t>(rows->size()) > *limit) {
      rows->pop_back();
      out.next_cursor = list_cursor(rows->back());
    }
    out.items = std::move(*rows);
    return out;
  });
}

sdk::Result<std::vector<sdk::ContextRow>> ContextService::list_as(const sdk::Caller& caller,
                                                                  const Identity& who,
                                                                  std::string_view agent_text,
                                                                  const sdk::TypedPage& page) {
  auto agent = parse_agent_id(agent_text, "agent id");
  if (!agent) return agent.error();
  sdk::ListQuery q;
  q.agent_id = *agent;
  q.limit = *page.limit + 1;  // one more: is there a next page?
  q.include_deleted = page.include_deleted;
  if (page.tag) q.tag = *page.tag;
  auto all = sees_all_of_owner(access_, who, *agent);
  if (!all) return all.error();
  if (!*all) q.granted_to = who.agent_id;  // only what was shared with the caller
  if (page.cursor) {
    if (auto st = parse_list_cursor(*page.cursor, q); !st) return st.error();
  }
  if (auto st = audit_read(caller, who, "list", "", "{\"agent_id\":" + json_quote(*agent) + "}");
      !st) {
    return st.error();
  }
  return storage_.list(q);
}

sdk::Result<ApiResponse> ContextService::refuse(const sdk::Caller& caller,
                                                std::string_view operation, Error error) {
  // Only the operations a transport parses text for: a name from outside must not add a label
  // to the operation metrics per distinct text.
  static constexpr std::string_view kParsed[] = {"read", "update", "history", "list"};
  const bool known =
      std::find(std::begin(kParsed), std::end(kParsed), operation) != std::end(kParsed);
  return as_caller(known ? operation : std::string_view("refused"), caller,
                   [&](const Identity&) -> sdk::Result<ApiResponse> { return error; });
}

sdk::Result<std::string> ContextService::whoami(const sdk::Caller& caller) {
  return as_caller("me", caller,
                   [&](const Identity& who) -> sdk::Result<std::string> { return who.agent_id; });
}

}  // namespace ctxmgr::kernel
