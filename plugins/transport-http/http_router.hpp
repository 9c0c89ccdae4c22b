#pragma once
// Maps one HTTP request to the kernel's ContextApi and its answer (or error) to an HTTP response:
// the routes, statuses, headers and error body of API.md. Knows nothing of sockets.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "ctxmgr/sdk/context_api.hpp"
#include "ctxmgr/sdk/host.hpp"
#include "http_settings.hpp"

namespace ctxmgr::http {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

class FailedAuthLimiter;
class McpEndpoint;
class RequestGuard;

// Writes bytes straight to the client, for an answer streamed as it is made (processing with
// `"stream": true`). false: the client is gone.
class RawWriter {
 public:
  virtual ~RawWriter() = default;
  virtual bool write(std::string_view bytes) = 0;
  // Serves the change feed's stream on this connection once the handler returns (GET
  // /api/events): the SSE head, then the events as the kernel readies them, heartbeats while
  // there are none, until the client leaves or the kernel ends the stream.
  virtual void stream_events(std::unique_ptr<sdk::EventStream> stream,
                             const std::string& request_id) = 0;
};

class Router {
 public:
  // `mcp` may be null (no MCP endpoint); `mcp_path` is where it listens. `guard` decides which
  // Host and Origin headers are answered; `failed_auth` (may be null) slows addresses that fail
  // to authenticate. All outlive the router.
  Router(sdk::ContextApi& api, sdk::Host& host, const RequestGuard& guard, McpEndpoint* mcp,
         std::string mcp_path, bool access_log = true, FailedAuthLimiter* failed_auth = nullptr,
         bool console = false)
      : api_(api),
        host_(host),
        guard_(guard),
        mcp_(mcp),
        mcp_path_(std::move(mcp_path)),
        access_log_(access_log),
        failed_auth_(failed_auth),
        console_(console) {}

  // Builds the response for a complete request. `request_id` is already chosen; `peer` is the
  // client's address, for the access log; `received`, when the request's first bytes had been
  // read (sdk::ContextApi::set_received_at; time_point{}: unknown). nullopt: the answer was
  // streamed through `writer` (as SSE, HTTP/1.1 with Connection: close) and the connection must
  // now be closed.
  std::optional<Response> handle(const Request& req, const std::string& request_id,
                                 RawWriter& writer, std::string_view peer = "-",
                                 std::chrono::steady_clock::time_point received = {});
  // Whether a request may wait on an AI provider (seconds, not milliseconds): the session runs
  // those off the I/O threads.
  bool calls_a_provider(const Request& req) const;

  // A write answered without a thread waiting on its commit (docs/transport-http.md: Writes):
  // checked as handle() checks it, on the calling (I/O) thread, then handed to the kernel
  // (RouteSubmitter). `later` is called once with what makes the response; run that on the
  // session's own thread (it records the request's metrics and access line). It may be called
  // before submit returns (a refusal) and else is called on a kernel thread. false, and `later`
  // is never called: this request has no such path here (any route but a plain create, or a
  // kernel that cannot); handle() it on a thread that may block.
  using MakeResponse = std::function<Response()>;
  using Later = std::function<void(MakeResponse)>;
  bool submit(const Request& req, const std::string& request_id, RawWriter& writer,
              std::string_view peer, std::chrono::steady_clock::time_point received, Later later);

 private:
  // One request's bookkeeping from its arrival to its answer, for the request metrics and the
  // access line: a value, so that an answer made later carries it.
  struct Exchange {
    const Request* req;
    std::string request_id;
    std::string peer;
    std::chrono::steady_clock::time_point started;
    std::string route = "unknown";
    bool head = false;  // HEAD: GET without the body
  };
  // What dispatch did: answered now (`response`), streamed the answer (neither), handed the call
  // to the kernel, which answers through `later` (`submitted`), or found the kernel unable to
  // take it (`declined`: nothing was answered).
  struct Dispatched {
    std::optional<Response> response;
    bool submitted = false;
    bool declined = false;
  };
  Dispatched dispatch(Exchange& ex, RawWriter& writer,
                      std::chrono::steady_clock::time_point received, const Later* later);
  // The metrics and access line of an answered request; `agent` null: ask the kernel on this
  // thread (ContextApi::authenticated_agent).
  void record(const Exchange& ex, int status, const std::string* agent);
  Response finish(const Exchange& ex, Response res, const std::string* agent);
  Response fail(const Exchange& ex, const sdk::Error& error);
  // The HTTP response for a kernel call's outcome; `written`: the consistency token to give back.
  Response result_response(const Exchange& ex, const sdk::Result<sdk::ApiResponse>& result,
                           const std::string& written, const std::string* agent);
  // Whether the request is a POST to a route whose operation can be submitted.
  bool submittable(const Request& req) const;

  sdk::ContextApi& api_;
  sdk::Host& host_;
  const RequestGuard& guard_;
  McpEndpoint* mcp_;
  std::string mcp_path_;
  bool access_log_;
  FailedAuthLimiter* failed_auth_;
  bool console_;  // serve /console/ (docs/console.md)
};

// An error response with the body of API.md; used also by the session for requests that could
// not be read (too large, malformed).
Response error_response(const sdk::Error& error, const std::string& request_id, unsigned version,
                        bool keep_alive);

// The X-Request-Id to use: the client's when it is 1–128 visible ASCII characters, else new.
std::string choose_request_id(const Request& req);
std::string new_request_id();

}  // namespace ctxmgr::http
