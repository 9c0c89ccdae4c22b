#include "service/read_consistency.hpp"

namespace ctxmgr::kernel {

namespace {

struct ThreadState {
  std::string incoming;  // set by the transport, taken by the next call
  std::string outgoing;  // the last call's
  bool wrote = false;
  int depth = 0;                                        // Scopes open on this thread
  std::chrono::steady_clock::time_point received_at{};  // set by the transport, for the call
};

thread_local ThreadState t_state;

constexpr std::size_t kMaxToken = 64;

}  // namespace

sdk::Status ReadConsistency::set_incoming(std::string_view token) {
  t_state.incoming.clear();
  if (token.empty() || routing_ == nullptr) return {};
  if (token.size() > kMaxToken || !routing_->valid_token(token)) {
    return sdk::Error(sdk::Errc::invalid_request,
                      "X-Ctxmgr-Consistency: not a token this server gives");
  }
  t_state.incoming = std::string(token);
  return {};
}

std::string ReadConsistency::outgoing() const { return t_state.outgoing; }

void ReadConsistency::set_received_at(std::chrono::steady_clock::time_point at) {
  t_state.received_at = at;
}

std::chrono::steady_clock::time_point ReadConsistency::received_at() { return t_state.received_at; }

void ReadConsistency::wrote() {
  if (routing_ == nullptr || t_state.depth == 0) return;
  if (!t_state.wrote) routing_->begin_reads(t_state.incoming, true);
  t_state.wrote = true;
}

ReadConsistency::Scope::Scope(const ReadConsistency& owner) : owner_(owner) {
  if (t_state.depth++ > 0 || owner_.routing_ == nullptr) return;
  t_state.outgoing.clear();
  t_state.wrote = false;
  owner_.routing_->begin_reads(t_state.incoming, false);
}

ReadConsistency::Scope::~Scope() {
  if (--t_state.depth > 0) return;
  t_state.received_at = {};
  if (owner_.routing_ == nullptr) return;
  if (t_state.wrote) {
    auto token = owner_.routing_->write_token();
    t_state.outgoing = token ? *token : std::string();
  }
  t_state.incoming.clear();
  t_state.wrote = false;
  owner_.routing_->end_reads();
}

}  // namespace ctxmgr::kernel
