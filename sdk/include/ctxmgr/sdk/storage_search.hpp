#pragma once
// The search capability of a storage plugin (SDK ABI 1.1): full-text candidates for selection and
// the selection log (the algorithm engine).
//
// A storage class that derives from StorageSearch gets CTXMGR_CAP_STORAGE_SEARCH in its
// descriptor from CTXMGR_PLUGIN (the bit is computed from the class, so it cannot lie); the kernel
// uses the interface only when the bit is there. Storage itself stays as ABI 1.0 released it.
//
// Thread-safety: as Storage, every method may be called concurrently.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ctxmgr/sdk/error.hpp"
#include "ctxmgr/sdk/storage.hpp"
#include "ctxmgr/sdk/types.hpp"

namespace ctxmgr::sdk {

enum class SearchOrder : std::uint32_t {
  relevance = 0,  // full-text relevance (BM25), best first; with no terms, as recency
  recency = 1,    // updated_at, newest first
  // Reserved: no shipped storage implements it and the kernel never asks for it (the priority
  // selector ranks by metadata.priority itself); a storage may treat it as recency.
  priority = 2,
};

// Which contexts to consider and how to pick the first `limit` of them. Deleted contexts never
// come back; expiry is the kernel's (it reads metadata.expires_at).
struct SearchQuery {
  std::string agent_id;           // whose view: the contexts this agent owns...
  bool include_shared = true;     // ...and those shared with it by a context or an owner grant
  std::vector<std::string> tags;  // metadata.tags holds any of these; empty: no filter
  std::optional<std::string> priority;  // metadata.priority equals this ("medium" when absent)
  // Words, as the user wrote them (any case, with or without accents); the storage analyses them
  // as it analyses the indexed text (case and accent folding, Spanish and English stems). They are
  // alternatives: a context matching any of them is a candidate, matching more ranks higher.
  std::vector<std::string> terms;
  SearchOrder order = SearchOrder::relevance;
  std::int64_t limit = 200;
};

struct SearchHit {
  ContextRow row;
  double text_score = 0;  // BM25 of the terms, >= 0; 0 without terms
};

// One record of the algorithm engine (a row of selection_log).
struct SelectionRecord {
  std::int64_t id = 0;  // assigned by the storage
  std::int64_t at_us = 0;
  std::string agent_id;  // whose view was searched
  std::string query;
  std::string selector;
  std::string params;   // JSON object text: the request and the selector's parameters
  std::string results;  // JSON array text: what came back, with scores
};

class CTXMGR_SDK_VISIBLE StorageSearch : public Storage {
 public:
  ~StorageSearch() override;

  // At most query.limit candidates, in query.order.
  virtual Result<std::vector<SearchHit>> search(const SearchQuery& query) = 0;

  // Appends a record; returns the id it was given.
  virtual Result<std::int64_t> append_selection(const SelectionRecord& record) = 0;
  virtual Result<std::optional<SelectionRecord>> selection(std::int64_t id) = 0;
  // One agent's records, newest first, only ids below before_id when it is > 0.
  virtual Result<std::vector<SelectionRecord>> selections(std::string_view agent_id,
                                                          std::int64_t before_id,
                                                          std::int64_t limit) = 0;
};

}  // namespace ctxmgr::sdk
