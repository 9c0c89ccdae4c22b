#pragma once
// JSON in and out of the kernel with the promises of API.md: key order as sent, Unicode code point
// by code point, integers as 64-bit integers, floats in the shortest form that reads back to the
// same double and always recognisable as floats (1.0 stays 1.0, 0.1 stays 0.1, never 1E-1).
// Boost.JSON parses (it keeps object key order and validates UTF-8); the writer here exists
// because Boost.JSON 1.81 prints doubles as 1E-1 and 1E0.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "ctxmgr/sdk/error.hpp"

namespace ctxmgr::kernel {

// Parses a request body. Errors are invalid_request with a message for the client
// ("body is not valid JSON: ...", "JSON nesting deeper than 64").
sdk::Result<boost::json::value> parse_json(std::string_view text, std::size_t max_depth);

// Appends the JSON text of `v` to `out`.
void write_json(const boost::json::value& v, std::string& out);
std::string to_json(const boost::json::value& v);
// A JSON string literal, quoted and escaped.
std::string json_quote(std::string_view s);
// A JSON array of string literals.
std::string json_string_array(const std::vector<std::string>& items);

}  // namespace ctxmgr::kernel
