#pragma once
// Threads apart from the I/O threads for requests that block: those that wait on an AI provider
// (seconds: a slow model never holds up health checks and reads) and writes (which wait for a
// group commit: while they wait, the I/O thread reads more requests, and the writes that arrive
// together share one commit). At most `queue` such requests run or wait at once in a pool; one
// more is refused at once (503, Retry-After) instead of growing a queue nobody will see the end of.
//
// A write the kernel answers later without a thread (Router::submit) holds a place in the same
// count while it is in flight (try_hold ... release), so `queue` bounds both kinds.
//
// Thread-safety: try_post, try_hold and release may be called from any thread; join once, after
// the last try_post and try_hold.

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
  // Counts one request answered elsewhere; false (not counted) when `queue` are running or
  // waiting. Each true is followed by one release(), once the request is answered.
  bool try_hold() {
    if (pending_.fetch_add(1) >= limit_) {
      pending_.fetch_sub(1);
      return false;
    }
    return true;
  }
  void release() {
    if (pending_.fetch_sub(1) == 1) pending_.notify_all();
  }
  // Waits for the jobs posted and the requests held so far, then stops the threads.
  void join() {
    pool_.join();
    for (auto n = pending_.load(); n != 0; n = pending_.load()) pending_.wait(n);
  }

 private:
  boost::asio::thread_pool pool_;
  std::size_t limit_;
  std::atomic<std::size_t> pending_{0};
};

}  // namespace ctxmgr::http
