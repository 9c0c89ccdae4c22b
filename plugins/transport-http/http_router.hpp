#pragma once
// Maps one HTTP request to the kernel's ContextApi and its answer (or error) to an HTTP response:
// the routes, statuses, headers and error body of API.md. Knows nothing of sockets.

#include <chrono>
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

 private:
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
