#pragma once
// Since ABI 1.10. The memory-files capability of a storage: an agent's contexts addressed by a
// path, as Claude's memory tool addresses files (docs/memory-tool.md). A memory file is a
// context whose metadata holds `"path": "/memories/..."`; the storage keeps such paths unique
// among an agent's live contexts (a create or update that would give a second live context the
// same path fails with Errc::conflict, whoever commits first wins) and lists them by path. A
// second base class beside Storage (CTXMGR_CAP_STORAGE_MEMORY_FILES).
//
// Thread-safety: every method may be called from many threads at once.
// Errors: Errc::unavailable when the database cannot be reached; Errc::internal otherwise.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ctxmgr/sdk/abi.h"
#include "ctxmgr/sdk/error.hpp"
#include "ctxmgr/sdk/types.hpp"

namespace ctxmgr::sdk {

struct MemoryFileQuery {
  std::string agent_id;  // the owner
  // Paths that start with this text, byte for byte (a folder is "/memories/notes/"; one file is
  // its exact path, with the caller checking equality).
  std::string prefix = "/memories/";
  // Only contexts that have a context grant for this agent (as ListQuery::granted_to).
  std::optional<std::string> granted_to;
  std::optional<std::string> after_path;  // paging: paths after this one
  std::int64_t limit = 100;               // >= 1
};

class CTXMGR_SDK_VISIBLE StorageMemoryFiles {
 public:
  virtual ~StorageMemoryFiles();
  StorageMemoryFiles() = default;
  StorageMemoryFiles(const StorageMemoryFiles&) = delete;
  StorageMemoryFiles& operator=(const StorageMemoryFiles&) = delete;

  // The owner's live (not deleted) contexts whose metadata.path starts with `q.prefix` and with
  // "/memories/", in byte order of their paths, at most `q.limit`.
  virtual Result<std::vector<ContextRow>> memory_files(const MemoryFileQuery& q) = 0;
};

}  // namespace ctxmgr::sdk
