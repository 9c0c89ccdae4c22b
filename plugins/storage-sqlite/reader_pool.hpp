#pragma once
// The reader connections of the SQLite storage. Each keeps the hot read (a context by id)
// prepared, so a GET costs one sqlite3_step instead of a parse and plan.

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <soci/soci.h>

#include "ctxmgr/sdk/host.hpp"
#include "sqlite_rows.hpp"

namespace ctxmgr::sqlite {

struct ReaderSlot {
  soci::session sql;
  // SELECT <context columns> FROM context WHERE id = :id, bound to the two members below;
  // prepared on first use (the table exists only once the schema is migrated).
  std::optional<soci::statement> get_context;
  std::string get_key;
  ContextInto get_into;
};

class ReaderPool {
 public:
  // Opens `size` connections with `open` and prepares their statements; throws on failure.
  // Reports ctxmgr_sqlite_readers{state="in_use"|"size"} into `metrics`.
  void open(std::size_t size, const std::function<void(soci::session&)>& open,
            ctxmgr::sdk::Metrics& metrics);
  void close();

  class Lease {
   public:
    Lease(ReaderPool& pool, ReaderSlot& slot) : pool_(&pool), slot_(&slot) {}
    Lease(Lease&& other) noexcept : pool_(other.pool_), slot_(other.slot_) {
      other.slot_ = nullptr;
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    ReaderSlot& operator*() const { return *slot_; }
    ReaderSlot* operator->() const { return slot_; }

   private:
    ReaderPool* pool_;
    ReaderSlot* slot_;
  };
  // Waits for a free connection.
  Lease acquire();
  bool is_open() const { return !slots_.empty(); }

 private:
  void report_in_use();  // with mu_ held

  ctxmgr::sdk::Metrics* metrics_ = nullptr;
  std::mutex mu_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<ReaderSlot>> slots_;
  std::vector<ReaderSlot*> free_;
};

}  // namespace ctxmgr::sqlite
