#pragma once
// One client connection: reads requests (header first, then body, within the size limits and
// the timeouts), answers each through the Router, keeps the connection alive when the client
// asks, and closes it on errors, on timeouts, and when the server drains. A request that waits on
// an AI provider runs on the WorkerPool, not on the I/O thread.
//
// Timeouts: an idle connection may wait `request_timeout` for a request's first byte; from then
// its header must be complete within `header_timeout` (a client trickling bytes, slowloris, is cut
// off), and the whole request within `request_timeout`.

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>

#include "http_router.hpp"
#include "http_settings.hpp"
#include "worker_pool.hpp"

namespace ctxmgr::http {

class Session;

// The live sessions, so that a drain can close the idle ones and wait for the busy ones, and so
// that connections are counted per client address.
class SessionSet {
 public:
  void add(const std::shared_ptr<Session>& s);
  void remove(Session* s);
  // Open connections from `address`.
  std::size_t from(const std::string& address);
  // Closes the oldest connection that has not yet sent a whole request header (one held open by
  // a client that trickles or sends nothing), to make room for a new one; false when every
  // connection has sent one.
  bool evict_one_unstarted();
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
  std::unordered_map<std::string, std::size_t> per_address_;
  std::size_t count_ = 0;
  std::atomic<bool> draining_{false};
};

class Session : public std::enable_shared_from_this<Session>, public RawWriter {
 public:
  Session(boost::asio::ip::tcp::socket socket, std::string peer, Router& router,
          const HttpSettings& settings, SessionSet& set, WorkerPool& providers,
          WorkerPool& writers);
  ~Session() override;
  void start();
  // Called on drain, from any thread: closes the connection if no request is in flight.
  void drain();
  // Called from any thread: closes the connection if it has not sent a whole header yet.
  void evict();
  const std::string& peer() const { return peer_; }
  bool started() const { return started_.load(); }
  std::chrono::steady_clock::time_point opened() const { return opened_; }

 private:
  void read_header();
  void parse_header();
  void on_header(boost::beast::error_code ec);
  // Answers a complete request (on the I/O thread, or on a worker for provider calls and writes).
  void answer();
  void on_body(boost::beast::error_code ec);
  // A write the kernel answers without a worker thread (Router::submit); false: answer() it on
  // the write pool.
  bool submit();
  void respond(Response res);
  void on_write(bool close, boost::beast::error_code ec);
  void fail_read(boost::beast::error_code ec);
  void close();
  // Closes a connection whose request was not read to its end (an error answered early): the
  // send side first, then what the client still sends is read and dropped for a while.
  void linger_then_close();
  void discard_until_closed();
  bool write(std::string_view bytes) override;
  void stream_events(std::unique_ptr<sdk::EventStream> stream,
                     const std::string& request_id) override;
  // The change feed's stream, on the session's I/O thread: the head, then what the kernel readies,
  // one write at a time; a heartbeat comment when idle; a read that notices the client leaving.
  void start_events();
  void pump_events();
  void write_events(std::string text);
  void watch_events_client();

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  // The answer being written, as one buffer of bytes (serialize_response); its capacity is kept
  // from one answer to the next on the connection.
  std::string response_out_;
  std::string peer_;
  Router& router_;
  const HttpSettings& settings_;
  SessionSet& set_;
  WorkerPool& providers_;
  WorkerPool& writers_;
  const std::chrono::steady_clock::time_point opened_ = std::chrono::steady_clock::now();
  std::atomic<bool> started_{false};  // a whole request header arrived once
  bool idle_ = true;  // waiting for a request's header; only touched on the session's I/O thread
  bool send_timeout_set_ = false;
  // When the current request's first bytes had been read (after the read, never before), or an
  // earlier read's for a pipelined request that came with it: Router::handle's `received`.
  std::chrono::steady_clock::time_point received_at_{};
  // GET /api/events, once the handler handed its stream over.
  std::unique_ptr<sdk::EventStream> events_;
  std::string events_head_;
  std::string events_out_;  // being written
  bool events_writing_ = false;
  bool events_ended_ = false;  // the kernel ended the stream: close once written
  std::optional<boost::asio::steady_timer> heartbeat_;
  char events_in_[256];             // what a client sends after its request, read and dropped
  std::size_t lingered_bytes_ = 0;  // dropped by discard_until_closed
};

}  // namespace ctxmgr::http
