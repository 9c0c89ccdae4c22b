#pragma once
// Whether anything was committed to a SQLite file since the last look, by any process, at the
// cost of reading 96 bytes of shared memory: the storage's sdk::StorageContextChanges, so the
// kernel may keep read contexts in memory (docs/storage-sqlite.md: The context cache).
//
// In WAL mode every commit, by whichever process on the machine, rewrites the header of the WAL
// index (the -shm file every connection maps; https://www.sqlite.org/walformat.html: its
// iChange counts transactions) before the commit returns to its writer. So a header that still
// reads as it did at the last look proves that nothing was committed since; a header that moved
// (a commit, a checkpoint that restarted the log, a writer half-way through rewriting it) says
// something may have changed. Then one query reads the counter that every update and delete of a
// context bumps (19_context_write_count.sql): unchanged, the commits since changed no context
// (audit events, creates) and the answer is still complete; moved (or unreadable), the answer is
// "not complete", without saying which contexts, and the caller drops everything it kept. A file
// whose contexts are rewritten often gains little, and loses nothing but the kept rows; a file
// read far more than rewritten serves its reads from memory.
//
// The header is read through SQLite's own mapping of the index (the VFS's xShmMap on a
// connection kept open for it), so it stays mapped as long as this object is open.
//
// Thread-safety: changes_since() from any thread; open and close from the plugin's start and stop.

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>

#include <soci/soci.h>

#include "ctxmgr/sdk/error.hpp"
#include "ctxmgr/sdk/storage_context_changes.hpp"

namespace ctxmgr::sqlite {

class WalWatch {
 public:
  // Takes a connection of its own, opened on the file (already in WAL mode); throws when the
  // index cannot be mapped.
  void open(std::unique_ptr<soci::session> session);
  void close() noexcept;
  // As sdk::StorageContextChanges::context_changes_since: never lists ids; complete only when
  // nothing was committed since the answer that gave `cursor`. Errc::unavailable when closed.
  sdk::Result<sdk::ContextChanges> changes_since(std::uint64_t cursor);

 private:
  // The two copies of the index header (48 bytes each), as one snapshot.
  using Header = std::array<unsigned char, 96>;
  Header read_header() const;
  // The count of context updates and deletes ever committed; none when it cannot be read.
  std::optional<std::int64_t> context_writes() const;

  std::unique_ptr<soci::session> session_;
  const volatile unsigned char* index_ = nullptr;  // SQLite's mapping of the index's first page
  std::mutex mu_;  // guards seen_, seen_writes_, cursor_ and the session's use after open
  Header seen_{};
  std::optional<std::int64_t> seen_writes_;  // at the last move of the header
  std::uint64_t cursor_ = 1;  // moves when a context may have changed; 0: "never asked"
};

}  // namespace ctxmgr::sqlite
