#include "http_session.hpp"

#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>

namespace ctxmgr::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;

namespace {

// `res` as the bytes of one HTTP message, by Beast's serializer, into `out` (emptied first, its
// capacity kept). Why not bhttp::async_write: it hands the socket the serializer's buffer
// sequence (status line, each field, body), and walking that sequence to write, take a prefix
// and consume it was ~12% of a one-thread GET run's I/O thread (perf, bench/README.md run J);
// copying it out once and writing one buffer is cheaper for every answer this server makes
// (a few hundred bytes to a few MiB). False if Beast refuses the message.
bool serialize_response(Response& res, std::string& out) {
  out.clear();
  bhttp::serializer<false, bhttp::string_body> sr{res};
  beast::error_code ec;
  do {
    sr.next(ec, [&](beast::error_code&, const auto& buffers) {
      std::size_t n = 0;
      for (const auto b : beast::buffers_range_ref(buffers)) {
        out.append(static_cast<const char*>(b.data()), b.size());
        n += b.size();
      }
      sr.consume(n);
    });
  } while (!ec && !sr.is_done());
  return !ec;
}

}  // namespace

void SessionSet::add(const std::shared_ptr<Session>& s) {
  std::lock_guard lock(mu_);
  sessions_.insert(s);
  ++per_address_[s->peer()];
  ++count_;
}

void SessionSet::remove(Session* s) {
  std::lock_guard lock(mu_);
  // The weak_ptr of a session being destroyed is expired: drop every expired entry.
  std::erase_if(sessions_, [](const std::weak_ptr<Session>& w) { return w.expired(); });
  if (auto it = per_address_.find(s->peer()); it != per_address_.end() && --it->second == 0) {
    per_address_.erase(it);
  }
  --count_;
  gone_.notify_all();
}

std::size_t SessionSet::from(const std::string& address) {
  std::lock_guard lock(mu_);
  auto it = per_address_.find(address);
  return it == per_address_.end() ? 0 : it->second;
}

bool SessionSet::evict_one_unstarted() {
  // Locked sessions are released only after mu_ is: the last owner's destructor takes mu_.
  std::vector<std::shared_ptr<Session>> candidates;
  {
    std::lock_guard lock(mu_);
    for (const auto& w : sessions_) {
      if (auto s = w.lock()) candidates.push_back(std::move(s));
    }
  }
  std::shared_ptr<Session> oldest;
  for (auto& s : candidates) {
    if (!s->started() && (!oldest || s->opened() < oldest->opened())) oldest = s;
  }
  if (!oldest) return false;
  oldest->evict();
  return true;
}

std::size_t SessionSet::drain(std::chrono::milliseconds timeout) {
  draining_ = true;
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard lock(mu_);
    for (const auto& w : sessions_) {
      if (auto s = w.lock()) live.push_back(std::move(s));
    }
  }
  for (auto& s : live) s->drain();
  live.clear();
  std::unique_lock lock(mu_);
  gone_.wait_for(lock, timeout, [&] { return count_ == 0; });
  return count_;
}

Session::Session(net::ip::tcp::socket socket, std::string peer, Router& router,
                 const HttpSettings& settings, SessionSet& set, WorkerPool& providers,
                 WorkerPool& writers)
    : stream_(std::move(socket)),
      peer_(std::move(peer)),
      router_(router),
      settings_(settings),
      set_(set),
      providers_(providers),
      writers_(writers) {}

Session::~Session() { set_.remove(this); }

void Session::start() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read_header(); });
}

void Session::drain() {
  net::post(stream_.get_executor(), [self = shared_from_this()] {
    if (self->idle_ || self->events_) self->close();
  });
}

void Session::evict() {
  net::post(stream_.get_executor(), [self = shared_from_this()] {
    if (!self->started()) self->close();
  });
}

void Session::read_header() {
  if (set_.draining()) return close();
  idle_ = true;
  parser_.emplace();
  parser_->body_limit(settings_.max_body_bytes);
  parser_->header_limit(static_cast<std::uint32_t>(settings_.max_header_bytes));
  if (buffer_.size() != 0) return parse_header();  // a pipelined request is already here
  // Idle until the first byte (request_timeout), then the header within header_timeout.
  stream_.expires_after(settings_.request_timeout);
  stream_.async_read_some(buffer_.prepare(4096),
                          [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                            if (ec) return self->fail_read(ec);
                            self->received_at_ = std::chrono::steady_clock::now();
                            self->buffer_.commit(n);
                            self->parse_header();
                          });
}

void Session::parse_header() {
  stream_.expires_after(std::min(settings_.header_timeout, settings_.request_timeout));
  bhttp::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
}

void Session::on_header(beast::error_code ec) {
  idle_ = false;
  if (ec) return fail_read(ec);
  started_ = true;
  // RFC 9112 6.3: a Transfer-Encoding whose last coding is not chunked leaves the body's length
  // unknown, and one beside Content-Length is how requests are smuggled past a proxy. Either
  // way the connection cannot be trusted to frame the next request: 400 and close.
  const auto& head = parser_->get();
  if (head.count(bhttp::field::transfer_encoding) != 0 &&
      (!parser_->chunked() || head.count(bhttp::field::content_length) != 0)) {
    return respond(error_response(
        sdk::Error(sdk::Errc::invalid_request,
                   "Transfer-Encoding must end with chunked and come without Content-Length"),
        choose_request_id(head), head.version(), false));
  }
  stream_.expires_after(settings_.request_timeout);
  bhttp::async_read(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec2, std::size_t) { self->on_body(ec2); });
}

void Session::on_body(beast::error_code ec) {
  if (ec) return fail_read(ec);
  const Request& req = parser_->get();
  const bool provider = router_.calls_a_provider(req);
  const auto method = req.method();
  const bool writes = method == bhttp::verb::post || method == bhttp::verb::patch ||
                      method == bhttp::verb::put || method == bhttp::verb::delete_;
  if (!provider && !writes) return answer();
  if (!provider && submit()) return;
  // Off the I/O thread; the answer is written back on the session's I/O thread.
  if (provider) stream_.expires_never();  // the provider's own timeouts bound the wait
  WorkerPool& pool = provider ? providers_ : writers_;
  const bool queued = pool.try_post([self = shared_from_this()] { self->answer(); });
  if (!queued) {
    respond(error_response(sdk::Error(sdk::Errc::unavailable,
                                      provider ? "too many requests are waiting on AI providers; "
                                                 "retry shortly"
                                               : "too many writes are waiting; retry shortly")
                               .with_field("retry_after", 1),
                           choose_request_id(req), req.version(), req.keep_alive()));
  }
}

void Session::answer() {
  const Request& req = parser_->get();
  const std::string request_id = choose_request_id(req);
  auto res = router_.handle(req, request_id, *this, peer_, received_at_);
  net::dispatch(stream_.get_executor(),
                [self = shared_from_this(), res = std::move(res)]() mutable {
                  if (!res && self->events_) return self->start_events();
                  if (!res) return self->close();  // streamed: Connection: close ends the answer
                  if (self->set_.draining()) res->keep_alive(false);
                  self->respond(std::move(*res));
                });
}

bool Session::submit() {
  // Counted with the writes on the pool: a full queue refuses both kinds alike (below: 503).
  if (!writers_.try_hold()) return false;
  const Request& req = parser_->get();
  auto self = shared_from_this();
  const bool taken = router_.submit(
      req, choose_request_id(req), *this, peer_, received_at_, [self](Router::MakeResponse make) {
        // On a kernel thread (or this one, for a refusal): made and written on the I/O thread.
        net::post(self->stream_.get_executor(), [self, make = std::move(make)] {
          Response res = make();
          if (self->set_.draining()) res.keep_alive(false);
          self->respond(std::move(res));
        });
        self->writers_.release();
      });
  if (!taken) writers_.release();
  return taken;
}

void Session::fail_read(beast::error_code ec) {
  // The peer went away or was too slow: nothing to answer.
  if (ec == bhttp::error::end_of_stream || ec == net::error::eof || ec == beast::error::timeout ||
      ec == net::error::operation_aborted || ec == net::error::connection_reset) {
    return close();
  }
  const std::string request_id = new_request_id();
  const unsigned version = parser_ && parser_->is_header_done() ? parser_->get().version() : 11;
  sdk::Error error(sdk::Errc::invalid_request, "malformed HTTP request: " + ec.message());
  if (ec == bhttp::error::body_limit) {
    error = sdk::Error(
        sdk::Errc::payload_too_large,
        "request body larger than " + std::to_string(settings_.max_body_bytes) + " bytes");
  } else if (ec == bhttp::error::header_limit) {
    error = sdk::Error(
        sdk::Errc::payload_too_large,
        "request headers larger than " + std::to_string(settings_.max_header_bytes) + " bytes");
  }
  // The rest of the request was not read, so the connection cannot be reused: close after.
  respond(error_response(error, request_id, version, false));
}

void Session::respond(Response res) {
  const bool close_after = !res.keep_alive();
  if (!serialize_response(res, response_out_)) return close();
  stream_.expires_after(settings_.request_timeout);
  net::async_write(stream_, net::buffer(response_out_),
                   [self = shared_from_this(), close_after](beast::error_code ec, std::size_t) {
                     self->on_write(close_after, ec);
                   });
}

void Session::on_write(bool close_after, beast::error_code ec) {
  if (ec) return close();
  if (close_after) return parser_ && !parser_->is_done() ? linger_then_close() : close();
  read_header();
}

bool Session::write(std::string_view bytes) {
  // Synchronous, on the session's own thread (the handler runs there); a client that stops
  // reading fails the write once the send timeout passes.
  if (!send_timeout_set_) {
    const auto ms = settings_.request_timeout.count();
    timeval tv{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
    ::setsockopt(stream_.socket().native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    send_timeout_set_ = true;
  }
  beast::error_code ec;
  net::write(stream_.socket(), net::buffer(bytes.data(), bytes.size()), ec);
  return !ec;
}

void Session::stream_events(std::unique_ptr<sdk::EventStream> stream,
                            const std::string& request_id) {
  // Called by the handler on this session's thread; served once the handler has returned.
  events_ = std::move(stream);
  events_head_ =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
      "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\nServer: ctxmgr\r\nX-Request-Id: " +
      request_id + "\r\nConnection: close\r\n\r\n";
}

void Session::start_events() {
  // The kernel's buffer for this stream is bounded: so is the socket's (no autotuning to MBs).
  const int sndbuf = settings_.event_send_buffer;
  ::setsockopt(stream_.socket().native_handle(), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  heartbeat_.emplace(stream_.get_executor());
  std::weak_ptr<Session> weak = shared_from_this();
  auto executor = stream_.get_executor();
  events_->on_ready([weak, executor] {
    net::post(executor, [weak] {
      if (auto self = weak.lock()) self->pump_events();
    });
  });
  watch_events_client();
  // An EventSource reconnects after `retry` ms when the stream ends.
  write_events(std::exchange(events_head_, {}) + "retry: 1000\n\n");
}

void Session::watch_events_client() {
  stream_.socket().async_read_some(
      net::buffer(events_in_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
        if (ec) return self->close();  // the client left (or the session closed)
        self->watch_events_client();
      });
}

void Session::pump_events() {
  if (!events_ || events_writing_ || !stream_.socket().is_open()) return;
  auto batch = events_->take();
  if (batch.closed) events_ended_ = true;
  if (!batch.text.empty()) return write_events(std::move(batch.text));
  if (events_ended_) return close();
  heartbeat_->expires_after(settings_.event_heartbeat);
  heartbeat_->async_wait([self = shared_from_this()](beast::error_code ec) {
    if (!ec && !self->events_writing_) self->write_events(": heartbeat\n\n");
  });
}

void Session::write_events(std::string text) {
  events_writing_ = true;
  events_out_ = std::move(text);
  // A client that stops reading is cut off after request_timeout.
  stream_.expires_after(settings_.request_timeout);
  net::async_write(stream_, net::buffer(events_out_),
                   [self = shared_from_this()](beast::error_code ec, std::size_t) {
                     self->events_writing_ = false;
                     self->stream_.expires_never();
                     if (ec) return self->close();
                     self->pump_events();
                   });
}

// RFC 9112 9.6: a server that closes while request bytes are still arriving makes the kernel
// answer them with a reset, and a reset can destroy the error answer before the client has read
// it (a client writing a too-large body sees a broken pipe instead of 413). So the send side is
// shut first and the rest of the request is read and dropped, for at most kLingerTime and
// kLingerBytes past the body limit, as nginx's lingering close does.
namespace {
constexpr std::chrono::seconds kLingerTime{3};
constexpr std::size_t kLingerBytes = 1 << 20;
}  // namespace

void Session::linger_then_close() {
  beast::error_code ec;
  stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ec);
  if (ec) return close();
  lingered_bytes_ = 0;
  buffer_.clear();  // what was read is dropped too; reads below never commit into it
  stream_.expires_after(kLingerTime);  // one deadline for the whole linger
  discard_until_closed();
}

void Session::discard_until_closed() {
  stream_.async_read_some(
      buffer_.prepare(64 * 1024), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
        self->lingered_bytes_ += n;
        if (ec || self->lingered_bytes_ > self->settings_.max_body_bytes + kLingerBytes) {
          return self->close();
        }
        self->discard_until_closed();
      });
}

void Session::close() {
  if (heartbeat_) heartbeat_->cancel();
  beast::error_code ec;
  stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ec);
  stream_.socket().close(ec);
}

}  // namespace ctxmgr::http
