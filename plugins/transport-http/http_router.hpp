#pragma once
// Maps one HTTP request to the kernel's ContextApi and its answer (or error) to an HTTP response:
// the routes, statuses, headers and error body of API.md. Knows nothing of sockets.

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

class McpEndpoint;

// Writes bytes straight to the client, for an answer streamed as it is made (processing with
// `"stream": true`). false: the client is gone.
class RawWriter {
 public:
  virtual ~RawWriter() = default;
  virtual bool write(std::string_view bytes) = 0;
};

class Router {
 public:
  // `mcp` may be null (no MCP endpoint); `mcp_path` is where it listens.
  Router(sdk::ContextApi& api, sdk::Host& host, McpEndpoint* mcp, std::string mcp_path,
         bool access_log = true)
      : api_(api),
        host_(host),
        mcp_(mcp),
        mcp_path_(std::move(mcp_path)),
        access_log_(access_log) {}

  // Builds the response for a complete request. `request_id` is already chosen. nullopt: the
  // answer was streamed through `writer` (as SSE, HTTP/1.1 with Connection: close) and the
  // connection must now be closed.
  std::optional<Response> handle(const Request& req, const std::string& request_id,
                                 RawWriter& writer);

 private:
  sdk::ContextApi& api_;
  sdk::Host& host_;
  McpEndpoint* mcp_;
  std::string mcp_path_;
  bool access_log_;
};

// An error response with the body of API.md; used also by the session for requests that could
// not be read (too large, malformed).
Response error_response(const sdk::Error& error, const std::string& request_id, unsigned version,
                        bool keep_alive);

// The X-Request-Id to use: the client's when it is 1–128 visible ASCII characters, else new.
std::string choose_request_id(const Request& req);
std::string new_request_id();

}  // namespace ctxmgr::http
