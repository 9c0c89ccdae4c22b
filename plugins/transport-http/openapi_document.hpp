#pragma once
// The OpenAPI 3.1 document of the REST API (docs/openapi.json), served at /api/openapi.json.

#include <string_view>

namespace ctxmgr::http {

std::string_view openapi_document();

}  // namespace ctxmgr::http
