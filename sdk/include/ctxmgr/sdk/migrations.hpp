#pragma once
// Numbered schema migrations for storage plugins: the files of schemas/<dialect>/, compiled into
// the plugin by ctxmgr_embed_schemas() as initialisers of Migration, and the status report every
// storage gives for `ctxmgr db status|check`. Header-only, std-only.

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "ctxmgr/sdk/types.hpp"

namespace ctxmgr::sdk {

struct Migration {
  std::int64_t number;  // from the file name: 00_base.sql is 0
  const char* name;     // the file name without .sql
  const char* sql;      // the file's text
};

// Where a store stands, given the migrations it recorded as (number, name) pairs.
inline SchemaStatus schema_status_of(std::span<const Migration> known,
                                     const std::vector<std::pair<std::int64_t, std::string>>& applied) {
  SchemaStatus status;
  for (const auto& [number, name] : applied) {
    status.current = std::max(status.current, number);
    status.applied += (status.applied.empty() ? "" : ", ") + name;
  }
  for (const auto& m : known) {
    status.latest = std::max(status.latest, m.number);
    const bool done = std::any_of(applied.begin(), applied.end(),
                                  [&](const auto& a) { return a.first == m.number; });
    if (!done) status.pending += (status.pending.empty() ? "" : ", ") + std::string(m.name);
  }
  return status;
}

}  // namespace ctxmgr::sdk
