#pragma once
// One client connection: reads requests (header first, then body, within the size limits and
// the request timeout), answers each through the Router, keeps the connection alive when the
// client asks, and closes it on errors, on timeouts, and when the server drains.

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <set>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>

#include "http_router.hpp"
#include "http_settings.hpp"

namespace ctxmgr::http {

class Session;

// The live sessions, so that a drain can close the idle ones and wait for the busy ones.
class SessionSet {
 public:
  void add(const std::shared_ptr<Session>& s);
  void remove(Session* s);
  // Asks every session to finish its request in flight and close; waits until all are gone or
  // the timeout passes. Returns how many were still open at the deadline.
  std::size_t drain(std::chrono::milliseconds timeout);
  bool draining() const { return draining_.load(); }
  std::size_t size() {
    std::lock_guard lock(mu_);
    return count_;
  }

 private:
  std::mutex mu_;
  std::condition_variable gone_;
  std::set<std::weak_ptr<Session>, std::owner_less<>> sessions_;
  std::size_t count_ = 0;
  std::atomic<bool> draining_{false};
};

class Session : public std::enable_shared_from_this<Session>, public RawWriter {
 public:
  Session(boost::asio::ip::tcp::socket socket, Router& router, const HttpSettings& settings,
          SessionSet& set);
  ~Session();
  void start();
  // Called on drain, from any thread: closes the connection if no request is in flight.
  void drain();

 private:
  void read_header();
  void on_header(boost::beast::error_code ec);
  void on_body(boost::beast::error_code ec);
  void respond(Response res);
  void on_write(bool close, boost::beast::error_code ec);
  void fail_read(boost::beast::error_code ec);
  void close();
  bool write(std::string_view bytes) override;

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  std::shared_ptr<Response> response_;
  Router& router_;
  const HttpSettings& settings_;
  SessionSet& set_;
  bool idle_ = true;  // waiting for a request's header; only touched on the session's strand
  bool send_timeout_set_ = false;
};

}  // namespace ctxmgr::http
