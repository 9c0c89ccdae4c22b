#pragma once
// Since ABI 1.14. A storage that serves some reads from replicas (docs/scaling.md) and lets the
// kernel keep read-your-writes across requests: after a request that wrote, the kernel asks for
// a token naming everything committed so far and gives it to the client; when a later request
// brings it back, the kernel passes it on before the request's reads, which are then served
// where that write is visible (a replica that has replayed it, else the primary). A second base
// class beside Storage (CTXMGR_CAP_STORAGE_READ_ROUTING).
//
// The routing is per thread: begin_reads and end_reads bracket one request on the thread that
// serves it, and only the reads made on that thread in between follow it.
//
// Thread-safety: may be called from many threads at once; begin_reads and end_reads affect only
// the calling thread. Errors: write_token as Storage's reads.

#include <string>
#include <string_view>
#include <vector>

#include "ctxmgr/sdk/abi.h"
#include "ctxmgr/sdk/error.hpp"

namespace ctxmgr::sdk {

// One replica as the storage last found it (for /readyz).
struct ReplicaState {
  std::string name;          // "replica0": as the metrics' labels name it
  bool in_rotation = false;  // reads may go to it now
  double lag_seconds = 0;    // behind the primary, as last measured
  std::string reason;        // why it is out of rotation; empty when in
};

class CTXMGR_SDK_VISIBLE StorageReadRouting {
 public:
  virtual ~StorageReadRouting();
  StorageReadRouting() = default;
  StorageReadRouting(const StorageReadRouting&) = delete;
  StorageReadRouting& operator=(const StorageReadRouting&) = delete;

  // A token for everything committed so far; empty when no read is served from a replica (there
  // is then nothing to wait for).
  virtual Result<std::string> write_token() = 0;
  // Whether `token` has the form write_token gives (checked before a request runs).
  virtual bool valid_token(std::string_view token) = 0;
  // Until end_reads on this thread: reads are served where `token` is visible (empty: wherever
  // the storage may serve them), or by the primary alone when `primary_only`.
  virtual void begin_reads(std::string_view token, bool primary_only) = 0;
  virtual void end_reads() = 0;
  // Every configured replica, in configuration order (empty when none is configured).
  virtual std::vector<ReplicaState> replicas() = 0;
};

}  // namespace ctxmgr::sdk
