#pragma once
// Since ABI 1.11. The change feed as a transport serves it (GET /api/events; docs/events.md): an
// open subscription of one authenticated caller, whose events the kernel prepares on its own
// thread — reading the audit log, checking the caller's access at delivery time — and the
// transport takes as ready server-sent-event text whenever its client can take more. A slow
// client never slows a writer: what waits for it is bounded per stream, and a stream whose client
// stops reading is ended with a final `overflow` event that says where to resume.
//
// Thread-safety: take() and on_ready() may be called from any thread, one at a time per stream;
// the wake function is called from the kernel's thread, never under the kernel's locks, and must
// not block (post to an executor). Ownership: the transport owns the stream; destroying it ends
// the subscription (and its share of the stream limits) at once.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "ctxmgr/sdk/abi.h"

namespace ctxmgr::sdk {

// The request, as the client wrote it (the kernel checks it): the filters and where to resume.
struct EventParams {
  std::optional<std::string> agent_id;    // events on this owner's contexts only
  std::optional<std::string> context_id;  // events on this context only
  std::optional<std::string> action;      // comma-separated feed actions (docs/events.md)
  std::optional<std::string> after;       // ?after=, else Last-Event-ID: resume after this seq
};

// What is ready for the client now.
struct EventBatch {
  std::string text;     // SSE text ("id: 7\nevent: change\ndata: {...}\n\n" ...), may be empty
  bool closed = false;  // the kernel ended the stream: write `text`, then close the connection
};

class CTXMGR_SDK_VISIBLE EventStream {
 public:
  virtual ~EventStream();
  EventStream() = default;
  EventStream(const EventStream&) = delete;
  EventStream& operator=(const EventStream&) = delete;

  // Sets what the kernel calls when events (or the end) are ready; replaces the previous one.
  virtual void on_ready(std::function<void()> wake) = 0;
  // Takes what is ready, at once; never blocks on I/O.
  virtual EventBatch take() = 0;
};

}  // namespace ctxmgr::sdk
