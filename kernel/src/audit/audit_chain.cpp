#include "audit/audit_chain.hpp"

#include <algorithm>
#include <charconv>

#include <boost/json/parse.hpp>

#include "core/sha256.hpp"
#include "json/json_text.hpp"
#include "log/logging.hpp"

namespace ctxmgr::kernel {

namespace {

constexpr std::int64_t kPage = 1000;

std::string link_input(std::string_view previous, const sdk::AuditEvent& event) {
  std::string input(previous);
  input += '\n';
  input += canonical_event(event);
  return input;
}

// "k<id>:<hex>" -> id; nullopt for a plain (unkeyed) hash.
std::optional<int> key_of(std::string_view stored) {
  if (!stored.starts_with('k')) return std::nullopt;
  const auto colon = stored.find(':');
  int id = 0;
  const auto [p, ec] = std::from_chars(stored.data() + 1, stored.data() + stored.size(), id);
  if (colon == std::string_view::npos || ec != std::errc() || p != stored.data() + colon) {
    return -1;
  }
  return id;
}

// Recomputes the chain after seq `after` (whose seal is `prev`) through the last seal; fills
// `report` (checked, sealed_through, keyed_from, first_bad; it stops at the first bad link).
// `at_seq`/`hash_at` ask for the stored hash at one seq on the way.
sdk::Status walk(sdk::Storage& storage, const AuditKeys& keys, std::int64_t after, std::string prev,
                 VerifyReport& report, std::optional<std::int64_t> at_seq = std::nullopt,
                 std::string* hash_at = nullptr) {
  bool keyed_seen = key_of(prev).has_value();
  auto bad = [&](std::int64_t seq, std::string why) {
    report.ok = false;
    report.first_bad = seq;
    report.reason = std::move(why);
  };
  for (;;) {
    auto seals = storage.seals(after, kPage);
    if (!seals) return seals.error();
    if (seals->empty()) return {};
    const std::int64_t through = seals->back().seq;
    // Every event of the window, so that one inserted between two seals is seen too.
    auto events = storage.audit_range(after, through, 2 * kPage + 1);
    if (!events) return events.error();
    std::size_t e = 0;
    for (const auto& seal : *seals) {
      if (e < events->size() && (*events)[e].seq < seal.seq) {
        bad((*events)[e].seq, "event is not in the chain (inserted after sealing?)");
        return {};
      }
      if (e >= events->size() || (*events)[e].seq != seal.seq) {
        bad(seal.seq, "sealed event is missing (deleted?)");
        return {};
      }
      if (auto why = link_error(keys, prev, (*events)[e], seal.hash, keyed_seen)) {
        bad(seal.seq, *why);
        return {};
      }
      if (key_of(seal.hash) && !keyed_seen) {
        keyed_seen = true;
        report.keyed_from = seal.seq;
      }
      if (at_seq && seal.seq == *at_seq && hash_at != nullptr) *hash_at = seal.hash;
      prev = seal.hash;
      ++e;
      ++report.checked;
      report.sealed_through = seal.seq;
    }
    after = through;
  }
}

// Compares a walked chain with the checkpoint.
void against_checkpoint(const Checkpoint& cp, const std::string& hash_at_cp, VerifyReport& report) {
  report.checkpoint_seq = cp.seq;
  if (!report.ok) return;
  if (report.sealed_through < cp.seq) {
    report.ok = false;
    report.first_bad = report.sealed_through + 1;
    report.reason = "the chain ends at seq " + std::to_string(report.sealed_through) +
                    " but the checkpoint says seq " + std::to_string(cp.seq) +
                    " was sealed: events and seals were cut or wiped";
  } else if (hash_at_cp != cp.head) {
    report.ok = false;
    report.first_bad = cp.seq;
    report.reason = "the seal at seq " + std::to_string(cp.seq) +
                    " is not the one the checkpoint signed: the chain was rewritten";
  }
}

}  // namespace

std::string canonical_event(const sdk::AuditEvent& e) {
  return "[" + std::to_string(e.seq) + "," + std::to_string(e.at_us) + "," +
         json_quote(e.agent_id) + "," + json_quote(e.action) + "," + json_quote(e.context_id) +
         "," + json_quote(e.transport) + "," + json_quote(e.request_id) + "," +
         json_quote(e.details) + "]";
}

std::string chain_hash(const AuditKeys& keys, std::string_view previous,
                       const sdk::AuditEvent& event) {
  if (keys.empty()) return sha256_hex(link_input(previous, event));
  return "k" + std::to_string(keys.current_id()) + ":" + keys.mac(link_input(previous, event));
}

std::optional<std::string> link_error(const AuditKeys& keys, std::string_view previous,
                                      const sdk::AuditEvent& event, std::string_view stored,
                                      bool keyed_seen) {
  const auto key = key_of(stored);
  if (!key) {
    if (keyed_seen) return "an unkeyed seal after keyed ones (the chain was rewritten)";
    if (sha256_hex(link_input(previous, event)) != stored) {
      return "event differs from what was sealed (changed or reordered?)";
    }
    return std::nullopt;
  }
  const auto mac = *key < 1 ? std::nullopt : keys.mac(*key, link_input(previous, event));
  if (!mac) {
    return "sealed with key " + std::to_string(*key) +
           ", which is not among this server's audit keys (forged, or the wrong key file)";
  }
  if (stored.substr(stored.find(':') + 1) != *mac) {
    return "event differs from what was sealed (changed, reordered or forged?)";
  }
  return std::nullopt;
}

sdk::Result<std::int64_t> seal_pending(sdk::Storage& storage, const AuditTrust& trust,
                                       std::int64_t batch) {
  auto tx = storage.begin();
  if (!tx) return tx.error();
  auto last = (*tx)->last_seal();  // takes the sealing lock
  if (!last) return last.error();
  const std::int64_t after = *last ? (*last)->seq : 0;
  std::string prev = *last ? (*last)->hash : std::string();
  // The chain to extend must agree with the checkpoint: else someone cut it, or deleted seals so
  // that edited events would be sealed anew, and sealing on would cover that up.
  auto cp = trust.read_checkpoint();
  if (!cp) return sdk::Error(sdk::Errc::internal, "audit chain broken: " + cp.error().message());
  if (*cp) {
    // The checkpoint's own seal, unchanged, then every link sealed since (by any server).
    VerifyReport report;
    auto at_cp = storage.seals((*cp)->seq - 1, 1);
    if (!at_cp) return at_cp.error();
    std::string hash_at_cp;
    if (!at_cp->empty() && (*at_cp)[0].seq == (*cp)->seq) hash_at_cp = (*at_cp)[0].hash;
    report.sealed_through = hash_at_cp.empty() ? std::min(after, (*cp)->seq - 1) : (*cp)->seq;
    if (hash_at_cp == (*cp)->head) {
      if (auto st = walk(storage, trust.keys, (*cp)->seq, (*cp)->head, report); !st) {
        return st.error();
      }
    }
    against_checkpoint(**cp, hash_at_cp, report);
    if (!report.ok) {
      return sdk::Error(sdk::Errc::internal,
                        "audit chain broken at seq " + std::to_string(*report.first_bad) + ": " +
                            report.reason + "; not sealing until an operator looks (audit verify)");
    }
  }
  // Nothing new: stop before the horizon, which on PostgreSQL briefly holds every writer.
  auto probe = storage.audit_range(after, INT64_MAX, 1);
  if (!probe) return probe.error();
  std::vector<sdk::AuditSeal> seals;
  if (!probe->empty()) {
    auto horizon = storage.audit_horizon();
    if (!horizon) return horizon.error();
    if (*horizon > after) {
      auto events = storage.audit_range(after, *horizon, batch);
      if (!events) return events.error();
      seals.reserve(events->size());
      for (const auto& e : *events) {
        prev = chain_hash(trust.keys, prev, e);
        seals.push_back({e.seq, prev});
      }
    }
  }
  if (!seals.empty()) {
    if (auto st = (*tx)->append_seals(seals); !st) return st.error();
    if (auto st = (*tx)->commit(); !st) return st.error();
  }
  // The checkpoint follows the chain (and starts at the first pass that finds none).
  if (!prev.empty() && (!seals.empty() || !*cp || (*cp)->seq != after)) {
    const std::int64_t head_seq = seals.empty() ? after : seals.back().seq;
    if (auto st = trust.write_checkpoint(head_seq, prev); !st) return st.error();
  }
  return static_cast<std::int64_t>(seals.size());
}

sdk::Result<std::optional<AuditAnchor>> current_anchor(sdk::Storage& storage) {
  sdk::AuditQuery q;
  q.action = std::string(kPruneAction);
  q.limit = 1;
  auto newest = storage.audit(q);
  if (!newest) return newest.error();
  if (newest->empty()) return std::optional<AuditAnchor>();
  boost::system::error_code ec;
  const auto details = boost::json::parse(newest->front().details, ec);
  const auto* o = ec ? nullptr : details.if_object();
  const auto* seq = o ? o->if_contains("anchor_seq") : nullptr;
  const auto* hash = o ? o->if_contains("anchor_hash") : nullptr;
  if (!seq || !seq->is_int64() || !hash || !hash->is_string()) return std::optional<AuditAnchor>();
  return std::optional<AuditAnchor>(
      AuditAnchor{seq->get_int64(), std::string(hash->get_string()), newest->front().seq});
}

sdk::Result<VerifyReport> verify_chain(sdk::Storage& storage, const AuditTrust& trust) {
  VerifyReport report;
  auto cp = trust.read_checkpoint();
  std::string hash_at_cp;
  const std::optional<std::int64_t> cp_seq =
      cp && *cp ? std::optional<std::int64_t>((*cp)->seq) : std::nullopt;
  // After a prune the chain starts at its anchor — when the first seal left is the one the
  // newest (sealed) prune event names; anything else before it is a cut head.
  std::int64_t after = 0;
  std::string prev;
  auto anchor = current_anchor(storage);
  if (!anchor) return anchor.error();
  auto first = storage.seals(0, 1);
  if (!first) return first.error();
  if (*anchor && !first->empty() && first->front().seq == (*anchor)->seq &&
      first->front().hash == (*anchor)->hash) {
    after = (*anchor)->seq;
    prev = (*anchor)->hash;
    report.anchor_seq = after;
    report.sealed_through = after;
    if (cp_seq && *cp_seq == after) hash_at_cp = prev;
  } else if (*anchor && !first->empty()) {
    report.ok = false;
    report.first_bad = first->front().seq;
    report.reason = "the chain starts at seq " + std::to_string(first->front().seq) +
                    ", not at the anchor seq " + std::to_string((*anchor)->seq) +
                    " the last prune left: events were cut from its head";
    return report;
  }
  if (auto st = walk(storage, trust.keys, after, prev, report, cp_seq, &hash_at_cp); !st) {
    return st.error();
  }
  if (report.ok && report.anchor_seq && report.sealed_through < (*anchor)->record_seq) {
    report.ok = false;
    report.first_bad = (*anchor)->record_seq;
    report.reason = "the prune that left the chain starting at seq " +
                    std::to_string(*report.anchor_seq) + " is not sealed yet (run audit seal)";
  }
  if (!cp) {
    report.ok = false;
    report.first_bad = report.sealed_through;
    report.reason = cp.error().message();
  } else if (*cp) {
    against_checkpoint(**cp, hash_at_cp, report);
  }
  return report;
}

std::string render_verify(const VerifyReport& r) {
  std::string out = std::string("{\"ok\":") + (r.ok ? "true" : "false") +
                    ",\"checked\":" + std::to_string(r.checked) +
                    ",\"sealed_through\":" + std::to_string(r.sealed_through) +
                    ",\"keyed_from\":" + std::to_string(r.keyed_from);
  if (r.checkpoint_seq) out += ",\"checkpoint_seq\":" + std::to_string(*r.checkpoint_seq);
  if (r.anchor_seq) out += ",\"anchor_seq\":" + std::to_string(*r.anchor_seq);
  if (r.first_bad) {
    out += ",\"first_bad\":" + std::to_string(*r.first_bad) + ",\"reason\":" + json_quote(r.reason);
  }
  return out + "}";
}

AuditSealer::AuditSealer(sdk::Storage& storage, const AuditTrust& trust,
                         std::chrono::milliseconds interval, sdk::Metrics& metrics)
    : storage_(storage),
      trust_(trust),
      metrics_(metrics),
      worker_("the audit sealer", interval, [this] { seal_all(); }) {}

void AuditSealer::seal_all() {
  // Until caught up: a burst may exceed one batch.
  for (;;) {
    auto sealed = seal_pending(storage_, trust_, 5000);
    if (!sealed) {
      const bool broken = sealed.error().message().starts_with("audit chain broken");
      metrics_.gauge_set("ctxmgr_audit_chain_broken", "", broken ? 1 : 0);
      if (broken) {
        kernel_log().error("{}", sealed.error().message());
      } else {
        metrics_.counter_add("ctxmgr_audit_seal_failures_total", "", 1);
        kernel_log().warn("audit sealing failed (will retry): {}", sealed.error().message());
      }
      return;
    }
    metrics_.gauge_set("ctxmgr_audit_chain_broken", "", 0);
    metrics_.counter_add("ctxmgr_audit_sealed_events_total", "", static_cast<double>(*sealed));
    if (*sealed < 5000) {
      metrics_.gauge_set(
          "ctxmgr_audit_last_seal_timestamp_seconds", "",
          std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
              .count());
      return;
    }
  }
}

}  // namespace ctxmgr::kernel
