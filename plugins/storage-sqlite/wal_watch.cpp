#include "wal_watch.hpp"

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <utility>

#include "sqlite_exec.hpp"

namespace ctxmgr::sqlite {

namespace {

// The WAL index is mapped in regions of 32 KiB (walformat.html: the wal-index is a sequence of
// 32768-byte pages); every connection of a process must ask with that size.
constexpr int kIndexRegion = 32768;
// The header of the index: two copies of a 48-byte struct. A writer rewrites the second, then
// the first; a reader that finds them different met a writer half-way.
constexpr std::size_t kCopy = 48;

}  // namespace

void WalWatch::open(std::unique_ptr<soci::session> session) {
  close();
  // A read transaction makes the connection open (and, first of all, build) the index.
  int pages = 0;
  *session << "SELECT count(*) FROM sqlite_master", soci::into(pages);
  sqlite_api::sqlite3_file* file = nullptr;
  if (sqlite_api::sqlite3_file_control(native(*session), "main", SQLITE_FCNTL_FILE_POINTER,
                                       &file) != SQLITE_OK ||
      file == nullptr || file->pMethods == nullptr || file->pMethods->iVersion < 2 ||
      file->pMethods->xShmMap == nullptr) {
    throw std::runtime_error("the SQLite file has no shared-memory WAL index to watch");
  }
  void volatile* region = nullptr;
  if (file->pMethods->xShmMap(file, 0, kIndexRegion, 0, &region) != SQLITE_OK ||
      region == nullptr) {
    throw std::runtime_error("could not map the SQLite WAL index");
  }
  std::lock_guard lock(mu_);
  session_ = std::move(session);
  index_ = static_cast<const volatile unsigned char*>(region);
  seen_ = read_header();
  seen_writes_ = context_writes();
  ++cursor_;
}

void WalWatch::close() noexcept {
  std::lock_guard lock(mu_);
  index_ = nullptr;
  session_.reset();  // SQLite unmaps the index with its last connection of the process
}

WalWatch::Header WalWatch::read_header() const {
  Header h;
  // Byte by byte through volatile, as SQLite reads it (walIndexTryHdr); the fence orders the
  // reads of the header before whatever the caller reads from the store next.
  for (std::size_t i = 0; i < h.size(); ++i) h[i] = index_[i];
  std::atomic_thread_fence(std::memory_order_acquire);
  return h;
}

std::optional<std::int64_t> WalWatch::context_writes() const {
  try {
    long long n = 0;
    *session_ << "SELECT n FROM context_write_count", soci::into(n);
    return n;
  } catch (const std::exception&) {
    return std::nullopt;  // not migrated yet, or the file is busy: something may have changed
  }
}

sdk::Result<sdk::ContextChanges> WalWatch::changes_since(std::uint64_t cursor) {
  std::lock_guard lock(mu_);
  if (index_ == nullptr) {
    return sdk::Error(sdk::Errc::unavailable, "the SQLite WAL index is not watched");
  }
  const Header now = read_header();
  const bool settled = std::equal(now.begin(), now.begin() + kCopy, now.begin() + kCopy);
  if (!settled || now != seen_) {
    seen_ = now;
    // Read after the header: a context changed by a commit the header shows is counted.
    const std::optional<std::int64_t> writes = settled ? context_writes() : std::nullopt;
    if (!writes || *writes != seen_writes_) {
      seen_writes_ = writes;
      ++cursor_;
    }
  }
  sdk::ContextChanges out;
  out.complete = cursor == cursor_;
  // A header caught half-way through a rewrite is kept as seen, but moved the cursor: the next
  // look compares against it and finds it moved again once the writer finished.
  out.cursor = cursor_;
  return out;
}

}  // namespace ctxmgr::sqlite
