#pragma once
// Read-your-writes across requests (docs/scaling.md), on a storage that serves some reads from
// replicas (sdk/storage_read_routing.hpp). A transport hands over the token its client brought
// (set_incoming) on the thread that then makes the call; the call's Scope passes it to the
// storage for the call's reads; a change that commits during the call sends the rest of the
// call's reads to the primary (wrote); at the Scope's end, the token of what the call wrote is
// kept for the transport to give back (outgoing). Scopes nest (a call made inside another keeps
// the outer call's routing).
//
// The same thread state holds when the transport received the request (set_received_at), for
// the context cache: a check for changes that began after it serves the call's reads. It is
// forgotten when the outermost Scope ends, so a call never inherits an earlier request's moment.
//
// Thread-safety: each thread has its own state; the object itself is read-only.

#include <chrono>
#include <string>
#include <string_view>

#include "ctxmgr/sdk/error.hpp"
#include "ctxmgr/sdk/storage_read_routing.hpp"

namespace ctxmgr::kernel {

class ReadConsistency {
 public:
  // `routing` null: the storage reads no replica, and every call here does nothing.
  explicit ReadConsistency(sdk::StorageReadRouting* routing) : routing_(routing) {}

  sdk::Status set_incoming(std::string_view token);
  std::string outgoing() const;
  void wrote();
  void set_received_at(std::chrono::steady_clock::time_point at);
  // This thread's, until its outermost Scope ends; time_point{} when the transport said nothing.
  static std::chrono::steady_clock::time_point received_at();

  class Scope {
   public:
    explicit Scope(const ReadConsistency& owner);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    const ReadConsistency& owner_;
  };

 private:
  sdk::StorageReadRouting* routing_;
};

}  // namespace ctxmgr::kernel
