#pragma once
// transport-http: the REST API of API.md over HTTP/1.1, asynchronous on Boost.Beast with a
// configurable number of threads. Handlers call the kernel synchronously on the I/O threads (a
// storage call is short; the thread count bounds how many run at once), except those that wait
// on an AI provider, which run on WorkerPool.

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "ctxmgr/sdk/host.hpp"
#include "ctxmgr/sdk/options.hpp"
#include "ctxmgr/sdk/transport.hpp"
#include "http_router.hpp"
#include "http_session.hpp"
#include "http_settings.hpp"
#include "failed_auth_limiter.hpp"
#include "mcp_endpoint.hpp"
#include "worker_pool.hpp"
#include "request_guard.hpp"

namespace ctxmgr::http {

class HttpTransport final : public sdk::Transport {
 public:
  HttpTransport(sdk::Host& host, const sdk::Options& options);
  ~HttpTransport() override;

  void attach(sdk::ContextApi& api) override;
  bool loopback_only() const override;
  std::string endpoint() const override;
  sdk::Status start() override;
  void stop() noexcept override;

 private:
  void accept();
  // Answers 503 on a connection over max_connections and closes it.
  void refuse(boost::asio::ip::tcp::socket& socket, const std::string& why);
  // Stops accepting, drains the sessions, stops the I/O threads and joins them.
  void drain_and_join();

  sdk::Host& host_;
  HttpSettings settings_;
  RequestGuard guard_;
  FailedAuthLimiter failed_auth_;
  std::unique_ptr<McpEndpoint> mcp_;
  std::unique_ptr<Router> router_;
  SessionSet sessions_;  // before the io_contexts: sessions they still hold remove themselves
  // One io_context per I/O thread, each run by its thread alone: a connection stays on one
  // thread, and no handler wakes another thread (which, on a small VM, cost more than the
  // request). The acceptor lives on the first; connections are dealt round-robin.
  std::vector<std::unique_ptr<boost::asio::io_context>> iocs_;
  std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::size_t next_ioc_ = 0;  // touched only by the acceptor's handler
  boost::asio::ip::tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
  std::unique_ptr<WorkerPool> workers_;  // after the sessions' io_context: joined first
  std::unique_ptr<WorkerPool> writers_;  // the same, for writes
  bool started_ = false;
};

}  // namespace ctxmgr::http
