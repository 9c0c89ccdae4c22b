#pragma once
// GET /console/...: the operator's console (docs/console.md). Its files are under
// /console/assets/; every other path under /console/ is the page itself, which reads its path
// (/console/agents/{id}, /console/contexts/{id}, ...) so that deep links survive a reload.
// Everything the page does goes through the public API; it loads nothing from another host, and
// its Content-Security-Policy says so to the browser.

#include <string_view>

#include "http_router.hpp"

namespace ctxmgr::http {

Response console_response(const Request& req, std::string_view path);

}  // namespace ctxmgr::http
