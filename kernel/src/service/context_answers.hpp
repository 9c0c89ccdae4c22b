#pragma once
// What the context operations' answers share, whichever file serves them: the 404 of a missing
// context, a context as an answer (body and ETag), and the cursors of list pages.

#include <string>

#include "ctxmgr/sdk/context_api.hpp"
#include "ctxmgr/sdk/types.hpp"

namespace ctxmgr::kernel {

sdk::Error not_found(const std::string& id);
sdk::ApiResponse context_response(const sdk::ContextRow& row, int status = 200);
// List cursors are "<updated_at_us>.<id>" of the last item of the previous page.
std::string list_cursor(const sdk::ContextRow& r);
sdk::Status parse_list_cursor(const std::string& text, sdk::ListQuery& q);

}  // namespace ctxmgr::kernel
