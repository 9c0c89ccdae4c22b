#pragma once
// Threads apart from the I/O threads for requests that block: those that wait on an AI provider
// (seconds: a slow model never holds up health checks and reads) and writes (which wait for a
// group commit: while they wait, the I/O thread reads more requests, and the writes that arrive
// together share one commit). At most `queue` such requests run or wait at once in a pool; one
// more is refused at once (503, Retry-After) instead of growing a queue nobody will see the end of.
//
// Thread-safety: try_post may be called from any thread; join once, after the last try_post.

#include <atomic>
#include <cstddef>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

namespace ctxmgr::http {

class WorkerPool {
 public:
  WorkerPool(std::size_t threads, std::size_t queue) : pool_(threads), limit_(queue) {}

  // Runs `job` on a worker; false (and `job` is not run) when `queue` jobs are running or waiting.
  template <class Job>
  bool try_post(Job&& job) {
    if (pending_.fetch_add(1) >= limit_) {
      pending_.fetch_sub(1);
      return false;
    }
    boost::asio::post(pool_, [this, job = std::forward<Job>(job)]() mutable {
      job();
      pending_.fetch_sub(1);
    });
    return true;
  }
  // Waits for the jobs posted so far, then stops the threads.
  void join() { pool_.join(); }

 private:
  boost::asio::thread_pool pool_;
  std::size_t limit_;
  std::atomic<std::size_t> pending_{0};
};

}  // namespace ctxmgr::http
