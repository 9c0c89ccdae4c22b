#include "backup/restore_check.hpp"

#include <algorithm>

#include "audit/audit_chain.hpp"
#include "core/ids.hpp"

namespace ctxmgr::kernel {

using sdk::Errc;
using sdk::Error;

namespace {

Error invalid(const std::string& why) { return Error(Errc::invalid_request, why); }

bool hex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

sdk::Status agent_ok(std::string_view id, const char* what) {
  if (valid_agent_id(id)) return {};
  return invalid(std::string(what) + " \"" + std::string(id) +
                 "\" is not an agent id (^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$)");
}

}  // namespace

RestoreCheck::RestoreCheck(const AuditKeys& keys, sdk::BackupSink* forward,
                           const std::map<std::int64_t, std::string>* seals)
    : keys_(keys), forward_(forward), seals_(seals) {}

sdk::Status RestoreCheck::agent(const sdk::AgentRow& r) {
  if (auto st = agent_ok(r.agent_id, "agent"); !st) return st;
  if (r.role != "agent" && r.role != "admin") {
    return invalid("agent " + r.agent_id + ": role must be agent or admin");
  }
  agents_[r.agent_id] = 1;
  return forward_ ? forward_->agent(r) : sdk::Status{};
}

sdk::Status RestoreCheck::token(const sdk::TokenRow& r) {
  // A token row names a registered agent: an admin with a hash of someone's choosing would be
  // a back door; the MAC over the file is what keeps such a row out, this keeps it coherent.
  if (agents_.count(r.agent_id) == 0) {
    return invalid("a token of \"" + r.agent_id + "\", which is not an agent of the backup");
  }
  if (!hex64(r.token_hash)) return invalid("token of " + r.agent_id + ": not a SHA-256 in hex");
  return forward_ ? forward_->token(r) : sdk::Status{};
}

sdk::Status RestoreCheck::context(const sdk::ContextRow& r) {
  const auto id = canonical_uuid(r.id);
  if (!id || *id != r.id) return invalid("context id \"" + r.id + "\" is not a lower-case UUID");
  if (auto st = agent_ok(r.agent_id, "the owner"); !st) return st;
  if (r.version < 1) return invalid("context " + r.id + ": version must be at least 1");
  versions_[r.id] = r.version;
  return forward_ ? forward_->context(r) : sdk::Status{};
}

sdk::Status RestoreCheck::history(const sdk::HistoryRow& r) {
  const auto v = versions_.find(r.context_id);
  if (v == versions_.end()) return invalid("history of " + r.context_id + ", no such context");
  // Versions come in order, from 1 to the context's version, each once.
  auto& seen = history_[r.context_id];
  if (r.version != seen + 1 || r.version > v->second) {
    return invalid("context " + r.context_id + ": history version " + std::to_string(r.version) +
                   " out of place (the context is at version " + std::to_string(v->second) + ", " +
                   std::to_string(seen) + " version(s) so far)");
  }
  seen = r.version;
  return forward_ ? forward_->history(r) : sdk::Status{};
}

sdk::Status RestoreCheck::grant(sdk::GrantScope scope, const sdk::GrantRow& r) {
  if (auto st = agent_ok(r.agent_id, "grantee"); !st) return st;
  if (r.permission != "read" && r.permission != "write") {
    return invalid("grant to " + r.agent_id + ": permission must be read or write");
  }
  if (scope == sdk::GrantScope::context && versions_.count(r.scope_id) == 0) {
    return invalid("a grant of context " + r.scope_id + ", which is not in the backup");
  }
  if (scope == sdk::GrantScope::owner) {
    if (auto st = agent_ok(r.scope_id, "grant owner"); !st) return st;
  }
  return forward_ ? forward_->grant(scope, r) : sdk::Status{};
}

sdk::Status RestoreCheck::audit(const sdk::AuditEvent& e) {
  if (e.seq <= last_event_) {
    return invalid("audit event " + std::to_string(e.seq) + " out of order (after " +
                   std::to_string(last_event_) + ")");
  }
  last_event_ = e.seq;
  if (seals_ != nullptr) {
    const auto seal = seals_->find(e.seq);
    if (seal == seals_->end()) {
      unsealed_seen_ = true;  // the unsealed tail; a sealed event after it is refused below
    } else {
      if (unsealed_seen_) {
        return invalid("audit event " + std::to_string(e.seq) +
                       " is sealed after unsealed ones (events inserted into the chain)");
      }
      if (auto why = link_error(keys_, prev_, e, seal->second, keyed_seen_)) {
        return invalid("audit chain broken at seq " + std::to_string(e.seq) + ": " + *why);
      }
      keyed_seen_ = keyed_seen_ || seal->second.starts_with('k');
      prev_ = seal->second;
      ++matched_;
    }
  }
  return forward_ ? forward_->audit(e) : sdk::Status{};
}

sdk::Status RestoreCheck::seal(const sdk::AuditSeal& s) {
  if (s.seq <= last_seal_) return invalid("seal " + std::to_string(s.seq) + " out of order");
  last_seal_ = s.seq;
  if (seals_ == nullptr) collected_[s.seq] = s.hash;
  return forward_ ? forward_->seal(s) : sdk::Status{};
}

sdk::Status RestoreCheck::selection(const sdk::SelectionRecord& r) {
  if (r.id <= last_selection_)
    return invalid("selection " + std::to_string(r.id) + " out of order");
  last_selection_ = r.id;
  if (auto st = agent_ok(r.agent_id, "selection agent"); !st) return st;
  return forward_ ? forward_->selection(r) : sdk::Status{};
}

sdk::Status RestoreCheck::finish() const {
  for (const auto& [id, version] : versions_) {
    const auto h = history_.find(id);
    const std::int64_t seen = h == history_.end() ? 0 : h->second;
    if (seen != version) {
      return invalid("context " + id + " is at version " + std::to_string(version) +
                     " but its history has " + std::to_string(seen) + " version(s)");
    }
  }
  if (seals_ != nullptr && matched_ != static_cast<std::int64_t>(seals_->size())) {
    return invalid("audit chain broken: " + std::to_string(seals_->size() - matched_) +
                   " seal(s) without their event (events deleted?)");
  }
  return {};
}

}  // namespace ctxmgr::kernel
