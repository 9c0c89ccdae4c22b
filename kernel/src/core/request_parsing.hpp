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

namespace ctxmgr::kernel {

// The invalid_request error (400) with `message`.
sdk::Error invalid_request(std::string message);

// A body that must be a JSON object with only the given fields.
sdk::Result<boost::json::object> parse_body_object(std::string_view body, std::size_t max_depth,
                                                   std::initializer_list<std::string_view> allowed);

// A context id from a path: canonical lower-case UUID.
sdk::Result<std::string> parse_context_id(std::string_view id);
sdk::Result<std::string> parse_agent_id(std::string_view id, std::string_view field);

// `limit`: 1–1000, `fallback` when absent.
sdk::Result<std::int64_t> parse_limit(const std::optional<std::string>& text,
                                      std::int64_t fallback);
// A limit given as a number (typed calls), checked as parse_limit checks the text.
sdk::Result<std::int64_t> check_limit(std::optional<std::int64_t> limit, std::int64_t fallback);
// A positive integer (versions).
sdk::Result<std::int64_t> parse_positive(std::string_view text, std::string_view field);
// A number given as a number (typed calls), checked as parse_positive checks the text.
sdk::Status check_positive(std::optional<std::int64_t> value, std::string_view field);
// true | false, `fallback` when absent.
sdk::Result<bool> parse_bool(const std::optional<std::string>& text, std::string_view field,
                             bool fallback);
// If-Match: "N", W/"N", N or *; nullopt for *.
sdk::Result<std::optional<std::int64_t>> parse_if_match(std::string_view text);

// The known metadata keys of API.md: priority high|medium|low, tags an array of strings,
// expires_at an RFC 3339 time. Other keys are kept as given.
sdk::Status validate_metadata(const boost::json::value& metadata);

}  // namespace ctxmgr::kernel
