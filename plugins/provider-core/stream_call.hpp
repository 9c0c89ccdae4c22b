#pragma once
// A streamed provider call (server-sent events) with the bookkeeping every provider plugin needs:
// each event to the plugin's handler, which says whether more follows, the stream is complete,
// or the client went away; then one outcome. A provider error in the stream, a malformed event,
// a client that left (unavailable) and a stream that ended before its end marker are errors of
// their own; the call's errors are call_with_retries'.

#include <functional>
#include <string>
#include <string_view>

#include "ctxmgr/sdk/error.hpp"
#include "ctxmgr/sdk/host.hpp"
#include "http_post.hpp"
#include "provider_call.hpp"

namespace ctxmgr::provider {

enum class StreamStep {
  more,         // go on
  done,         // the end marker: the answer is complete
  client_gone,  // the sink refused text: the client is gone
};

// Called per event (its name, its data); an error stops the stream and is the call's outcome.
using OnStreamEvent =
    std::function<sdk::Result<StreamStep>(std::string_view event, std::string_view data)>;

// Streams `request` (its on_data is set here); `end_marker` names what `done` stands for in the
// error of a stream that ended without it ("message_stop", "[DONE]").
sdk::Status stream_with_retries(HttpRequest request, std::string_view provider, int max_retries,
                                sdk::Host& host, const MessageOf& message_of,
                                std::string_view end_marker, const OnStreamEvent& on_event);

}  // namespace ctxmgr::provider
