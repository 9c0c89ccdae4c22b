#pragma once
// Checks of what clients send to the context service: bodies, ids, query parameters, metadata.
// Every failure is invalid_request (400) with a message that names the field.

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "ctxmgr/sdk/error.hpp"
#include "ctxmgr/sdk/request_text.hpp"

namespace ctxmgr::kernel {

// The invalid_request error (400) with `message`.
sdk::Error invalid_request(std::string message);

// A body that must be a JSON object with only the given fields.
sdk::Result<boost::json::object> parse_body_object(std::string_view body, std::size_t max_depth,
                                                   std::initializer_list<std::string_view> allowed);

// A context id from a path: canonical lower-case UUID.
sdk::Result<std::string> parse_context_id(std::string_view id);
sdk::Result<std::string> parse_agent_id(std::string_view id, std::string_view field);

// Query and header text (limit, positive numbers, booleans, If-Match): the SDK's checks, which
// transports use too, so both say the same.
using sdk::check_limit;
using sdk::check_positive;
using sdk::parse_bool;
using sdk::parse_if_match;
using sdk::parse_limit;
using sdk::parse_positive;

// The known metadata keys of API.md: priority high|medium|low, tags an array of strings,
// expires_at an RFC 3339 time, path under /memories a valid memory-file path. Other keys are kept
// as given.
sdk::Status validate_metadata(const boost::json::value& metadata);

}  // namespace ctxmgr::kernel
