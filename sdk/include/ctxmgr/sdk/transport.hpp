#pragma once
// Transport plugins carry requests from agents to the kernel's ContextApi. They never touch
// storage. The kernel calls attach() once, before start(); start() begins accepting; stop()
// stops accepting, lets requests in flight finish (drain) and joins every thread.

#include <string>

#include "ctxmgr/sdk/context_api.hpp"
#include "ctxmgr/sdk/plugin.hpp"

namespace ctxmgr::sdk {

class CTXMGR_SDK_VISIBLE Transport : public Plugin {
 public:
  ~Transport() override;
  // OWNERSHIP: the api belongs to the kernel and outlives the transport's stop().
  virtual void attach(ContextApi& api) = 0;
  // Whether every address it listens on is a loopback address. The kernel refuses to start in
  // trust mode (identity taken from a header) when a transport is reachable from elsewhere.
  virtual bool loopback_only() const = 0;
  // Where it listens, for messages (e.g. "http://0.0.0.0:5000").
  virtual std::string endpoint() const = 0;
};

template <>
struct KindInterface<Kind::transport> {
  using type = Transport;
};

}  // namespace ctxmgr::sdk
