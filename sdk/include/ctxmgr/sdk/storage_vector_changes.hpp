#pragma once
// Since ABI 1.9. The vector-changes capability of a storage: the vectors stored since a cursor,
// so that a server keeps its in-memory index current by reading only what is new — its own
// workers' vectors and those of every other server on the same database — instead of every vector
// at each reload (docs/semantic.md: Following the store). A second base class beside Storage and
// StorageVectors (CTXMGR_CAP_STORAGE_VECTOR_CHANGES).
//
// Contract: every stored vector gets a number (its `seq`) greater than any number given before,
// and a vector committed after an answer has a number greater than that answer's cursor: numbers
// follow commit order (on a database shared by many processes the plugin makes sure of it, e.g.
// by serialising the stores). So a caller that passes each answer's cursor to its next call, the
// first call passing 0, sees every vector stored since its first call, each at least once.
// Removals are not reported: a context deleted, purged or changed since its vector was made is
// found by reading everything again (a call from 0), which a caller does now and then.
//
// Thread-safety: every method may be called from many threads at once.
// Errors: Errc::unavailable when the database cannot be reached; Errc::internal otherwise.

#include <cstdint>
#include <string_view>
#include <vector>

#include "ctxmgr/sdk/abi.h"
#include "ctxmgr/sdk/error.hpp"
#include "ctxmgr/sdk/storage_vectors.hpp"

namespace ctxmgr::sdk {

struct VectorChanges {
  std::int64_t cursor = 0;  // pass it to the next call; equal to the one passed when none is new
  // Vectors of the model stored after the passed cursor, oldest first, those made from the current
  // version of a live context only (a vector stored for a version since replaced, or of a context
  // since deleted, is passed over but moves the cursor).
  std::vector<ContextVector> vectors;
  bool more = false;  // the limit was reached: call again with `cursor` for the rest
};

class CTXMGR_SDK_VISIBLE StorageVectorChanges {
 public:
  virtual ~StorageVectorChanges();
  StorageVectorChanges() = default;
  StorageVectorChanges(const StorageVectorChanges&) = delete;
  StorageVectorChanges& operator=(const StorageVectorChanges&) = delete;

  // The vectors of `model` stored after `cursor` (0: all of them), at most `limit` (>= 1) stored
  // rows looked at per call.
  virtual Result<VectorChanges> vectors_since(std::string_view model, std::int64_t cursor,
                                              std::int64_t limit) = 0;
};

}  // namespace ctxmgr::sdk
