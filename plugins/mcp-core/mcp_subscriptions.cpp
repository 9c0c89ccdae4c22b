#include "mcp_subscriptions.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace ctxmgr::mcp {

namespace json = boost::json;

ResourceSubscriptions::ResourceSubscriptions(sdk::ContextApi& api)
    : api_(api), wake_(std::make_shared<WakeBox>()) {}

ResourceSubscriptions::~ResourceSubscriptions() {
  wake_->set({});
  std::lock_guard lock(mu_);
  feed_.reset();
}

void ResourceSubscriptions::set_wake(std::function<void()> wake) { wake_->set(std::move(wake)); }

sdk::Status ResourceSubscriptions::open_locked() {
  const sdk::Caller caller{agent_header_, authorization_, "mcp", "mcp-subscriptions"};
  sdk::EventParams params;
  if (last_seq_) params.after = std::to_string(*last_seq_);
  auto feed = api_.open_events(caller, params);
  if (!feed) return feed.error();
  feed_ = std::move(*feed);
  feed_->on_ready([box = wake_] { box->call(); });
  return {};
}

sdk::Status ResourceSubscriptions::subscribe(const std::string& id, const std::string& agent,
                                             const std::string& agent_header,
                                             const std::string& authorization) {
  std::lock_guard lock(mu_);
  if (!feed_) {
    agent_ = agent;
    agent_header_ = agent_header;
    authorization_ = authorization;
    if (auto st = open_locked(); !st) return st;
  }
  ids_.insert(id);
  return {};
}

void ResourceSubscriptions::unsubscribe(const std::string& id) {
  std::lock_guard lock(mu_);
  ids_.erase(id);
  if (ids_.empty()) {
    feed_.reset();
    last_seq_.reset();
  }
}

std::vector<std::string> ResourceSubscriptions::take() {
  std::lock_guard lock(mu_);
  if (!feed_) return {};
  const auto batch = feed_->take();
  std::set<std::string> updated;
  bool list_changed = false;
  // The kernel's SSE text: blocks of "id: N", optionally "event: NAME", and "data: JSON".
  std::string_view text = batch.text;
  while (!text.empty()) {
    const auto end = text.find("\n\n");
    std::string_view block = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 2);
    const auto at = block.find("data: ");
    if (at == std::string_view::npos) continue;
    const auto line_end = block.find('\n', at);
    const auto data = block.substr(
        at + 6, line_end == std::string_view::npos ? std::string_view::npos : line_end - at - 6);
    boost::system::error_code ec;
    const auto v = json::parse(json::string_view(data.data(), data.size()), ec);
    if (ec || !v.is_object()) continue;
    const auto& e = v.get_object();
    if (const auto* resume = e.if_contains("resume_after"); resume && resume->is_int64()) {
      last_seq_ = resume->get_int64();  // the overflow event: where to reopen
      continue;
    }
    if (const auto* seq = e.if_contains("seq"); seq && seq->is_int64())
      last_seq_ = seq->get_int64();
    const auto* ctx = e.if_contains("context_id");
    const auto* owner = e.if_contains("agent_id");
    const auto* action = e.if_contains("action");
    if (ctx == nullptr || !ctx->is_string() || action == nullptr || !action->is_string()) continue;
    const std::string id(ctx->get_string());
    if (ids_.count(id) != 0) updated.insert(id);
    const auto& a = action->get_string();
    if (owner != nullptr && owner->is_string() && owner->get_string() == agent_ &&
        (a == "create" || a == "delete" || a == "purge" || a == "revert")) {
      list_changed = true;
    }
  }
  std::vector<std::string> out;
  out.reserve(updated.size() + 1);
  for (const auto& id : updated) {
    out.push_back(
        R"({"jsonrpc":"2.0","method":"notifications/resources/updated","params":{"uri":)" +
        json::serialize(json::string("context://" + id)) + "}}");
  }
  if (list_changed) {
    out.emplace_back(R"({"jsonrpc":"2.0","method":"notifications/resources/list_changed"})");
  }
  if (batch.closed) {
    feed_.reset();
    // Picked up where the kernel stopped; if that fails, the next subscribe opens it again.
    if (open_locked() && feed_) wake_->call();
  }
  return out;
}

}  // namespace ctxmgr::mcp
