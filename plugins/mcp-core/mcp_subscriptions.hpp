#pragma once
// resources/subscribe for one MCP session: the contexts it subscribed to, and the kernel's change
// feed (ContextApi::open_events, as the subscribing caller) that says when they change. A change
// to a subscribed context becomes notifications/resources/updated {uri}; a create, delete, purge
// or revert of one of the caller's own contexts (what resources/list lists) becomes
// notifications/resources/list_changed. The feed is opened at the first subscription (it counts
// as one of the agent's event streams) and closed with the last; one the kernel ends (a client
// that did not take its notifications in time) is reopened where it stopped, so nothing is lost.
//
// Thread-safety: every method may be called from any thread. The wake is called from the
// kernel's thread and must not block; it is never called once the object is destroyed.

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ctxmgr/sdk/context_api.hpp"
#include "wake_box.hpp"

namespace ctxmgr::mcp {

class ResourceSubscriptions {
 public:
  explicit ResourceSubscriptions(sdk::ContextApi& api);
  ~ResourceSubscriptions();
  ResourceSubscriptions(const ResourceSubscriptions&) = delete;
  ResourceSubscriptions& operator=(const ResourceSubscriptions&) = delete;

  // What to call when notifications may be ready (replaces the previous one).
  void set_wake(std::function<void()> wake);
  // Subscribes to context `id` as `caller` (who must be able to read it: checked by the caller).
  // `agent` is who the caller authenticated as; `agent_header`/`authorization` are kept to
  // reopen the feed. An error when the feed cannot be opened (the stream limits, the feed off).
  sdk::Status subscribe(const std::string& id, const std::string& agent,
                        const std::string& agent_header, const std::string& authorization);
  void unsubscribe(const std::string& id);
  // The notifications ready now, as JSON-RPC messages.
  std::vector<std::string> take();

 private:
  sdk::Status open_locked();

  sdk::ContextApi& api_;
  std::shared_ptr<WakeBox> wake_;
  std::mutex mu_;
  std::set<std::string> ids_;
  std::unique_ptr<sdk::EventStream> feed_;
  std::string agent_, agent_header_, authorization_;
  std::optional<std::int64_t> last_seq_;  // the feed's last event, to reopen after it
};

}  // namespace ctxmgr::mcp
