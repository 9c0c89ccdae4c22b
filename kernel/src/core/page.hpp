#pragma once
// The page body every list endpoint answers: {"items":[...],"next_cursor":"…"|null}. Callers ask
// the store for limit + 1 rows; a row beyond `limit` means there is a next page, whose cursor is
// made from the last row shown.

#include <cstdint>
#include <string>
#include <vector>

#include "json/json_text.hpp"

namespace ctxmgr::kernel {

// Items per page when a list request names no `limit` (API.md).
constexpr std::int64_t kDefaultPageLimit = 50;

// The rows as a JSON array, each rendered by `render`.
template <class Row, class Render>
std::string json_array_of(const std::vector<Row>& rows, Render&& render) {
  std::string out = "[";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (i != 0) out += ',';
    out += render(rows[i]);
  }
  out += ']';
  return out;
}

template <class Row, class Render, class Cursor>
std::string render_page(std::vector<Row>& rows, std::int64_t limit, Render&& render,
                        Cursor&& cursor) {
  const bool more = static_cast<std::int64_t>(rows.size()) > limit;
  if (more) rows.pop_back();
  std::string out = "{\"items\":" + json_array_of(rows, render);
  out += ",\"next_cursor\":";
  out += more ? json_quote(cursor(rows.back())) : std::string("null");
  out += '}';
  return out;
}

}  // namespace ctxmgr::kernel
