#include "http_transport.hpp"

#include <charconv>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/http/write.hpp>

#include "ctxmgr/sdk/option_spec.hpp"
#include "ctxmgr/sdk/plugin_main.hpp"

namespace ctxmgr::http {

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

// "host:port" or "[v6]:port".
HttpSettings parse_listen(const std::string& listen, HttpSettings s) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    throw sdk::Error(
        sdk::Errc::invalid_request,
        "options.listen: expected host:port, e.g. 127.0.0.1:5000; got \"" + listen + "\"");
  }
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  unsigned port = 0;
  const char* begin = listen.data() + colon + 1;
  const char* end = listen.data() + listen.size();
  auto [p, ec] = std::from_chars(begin, end, port);
  if (ec != std::errc() || p != end || port > 65535) {
    throw sdk::Error(sdk::Errc::invalid_request,
                     "options.listen: the port must be 0–65535; got \"" + listen + "\"");
  }
  boost::system::error_code aec;
  net::ip::make_address(host, aec);
  if (aec) {
    throw sdk::Error(sdk::Errc::invalid_request,
                     "options.listen: the host must be an IP address; got \"" + host + "\"");
  }
  s.host = host;
  s.port = static_cast<unsigned short>(port);
  return s;
}

HttpSettings read_settings(const sdk::Options& o) {
  HttpSettings s = parse_listen(o.get_string("listen", "127.0.0.1:5000"), HttpSettings{});
  s.threads = static_cast<std::size_t>(o.get_int("threads", 0));
  if (s.threads == 0) {
    s.threads = std::max(1u, std::thread::hardware_concurrency()) *
                static_cast<std::size_t>(o.get_int("threads_per_core", 1));
  }
  s.max_body_bytes = static_cast<std::size_t>(o.get_int("max_body_bytes", 1 << 20));
  s.max_header_bytes = static_cast<std::size_t>(o.get_int("max_header_bytes", 16 << 10));
  s.request_timeout = std::chrono::milliseconds(o.get_int("request_timeout_ms", 30000));
  s.header_timeout = std::chrono::milliseconds(o.get_int("header_timeout_ms", 10000));
  s.access_log = o.get_bool("access_log", true);
  s.max_connections = static_cast<std::size_t>(o.get_int("max_connections", 1024));
  s.max_connections_per_address =
      static_cast<std::size_t>(o.get_int("max_connections_per_address", 256));
  s.provider_workers = static_cast<std::size_t>(o.get_int("provider_workers", 8));
  s.provider_queue = static_cast<std::size_t>(o.get_int("provider_queue", 64));
  s.write_workers = static_cast<std::size_t>(o.get_int("write_workers", 32));
  s.write_queue = static_cast<std::size_t>(o.get_int("write_queue", 1024));
  s.failed_auth_rate = o.get_number("failed_auth_rate", 5);
  s.failed_auth_burst = o.get_number("failed_auth_burst", 20);
  s.drain_timeout = std::chrono::milliseconds(o.get_int("drain_timeout_ms", 10000));
  s.mcp_path = o.get_string("mcp_path", "/mcp");
  if (!s.mcp_path.empty() && s.mcp_path.front() != '/') {
    throw sdk::Error(sdk::Errc::invalid_request,
                     "options.mcp_path: must start with / (or be empty)");
  }
  s.allowed_hosts = o.get_strings("allowed_hosts");
  s.allowed_origins = o.get_strings("allowed_origins");
  for (auto& origin : o.get_strings("mcp_allowed_origins")) {  // the older name, still read
    s.allowed_origins.push_back(std::move(origin));
  }
  s.event_heartbeat = std::chrono::milliseconds(o.get_int("event_heartbeat_ms", 15000));
  s.event_send_buffer = static_cast<int>(o.get_int("event_send_buffer_bytes", 65536));
  s.mcp_max_sessions = static_cast<std::size_t>(o.get_int("mcp_max_sessions", 1000));
  s.mcp_max_sessions_per_agent =
      static_cast<std::size_t>(o.get_int("mcp_max_sessions_per_agent", 100));
  // The console is on by default only where nobody but this machine can reach it.
  const std::string console = o.get_string("console", "auto");
  if (console != "auto" && console != "true" && console != "false") {
    throw sdk::Error(sdk::Errc::invalid_request,
                     "options.console: expected true, false or auto; got \"" + console + "\"");
  }
  s.console =
      console == "true" || (console == "auto" && net::ip::make_address(s.host).is_loopback());
  return s;
}

}  // namespace

namespace {

std::vector<std::unique_ptr<net::io_context>> io_contexts(std::size_t n) {
  std::vector<std::unique_ptr<net::io_context>> out;
  for (std::size_t i = 0; i < std::max<std::size_t>(n, 1); ++i) {
    out.push_back(std::make_unique<net::io_context>(1));  // one thread runs each
  }
  return out;
}

}  // namespace

HttpTransport::HttpTransport(sdk::Host& host, const sdk::Options& options)
    : host_(host),
      settings_(read_settings(options)),
      guard_(settings_.allowed_hosts, settings_.allowed_origins),
      failed_auth_(settings_.failed_auth_rate, settings_.failed_auth_burst),
      iocs_(io_contexts(settings_.threads)),
      acceptor_(*iocs_.front()) {}

HttpTransport::~HttpTransport() { stop(); }

void HttpTransport::attach(sdk::ContextApi& api) {
  if (!settings_.mcp_path.empty()) {
    mcp_ = std::make_unique<McpEndpoint>(api, guard_, settings_.mcp_max_sessions,
                                         settings_.mcp_max_sessions_per_agent);
  }
  router_ = std::make_unique<Router>(api, host_, guard_, mcp_.get(), settings_.mcp_path,
                                     settings_.access_log, &failed_auth_, settings_.console);
}

bool HttpTransport::loopback_only() const {
  return net::ip::make_address(settings_.host).is_loopback();
}

std::string HttpTransport::endpoint() const {
  const bool v6 = settings_.host.find(':') != std::string::npos;
  // Once listening, the port taken (the one `listen: host:0` asked the kernel to pick).
  boost::system::error_code ec;
  const auto bound = acceptor_.is_open() ? acceptor_.local_endpoint(ec).port() : 0;
  return "http://" + (v6 ? "[" + settings_.host + "]" : settings_.host) + ":" +
         std::to_string(ec || bound == 0 ? settings_.port : bound);
}

sdk::Status HttpTransport::start() {
  if (!router_) return sdk::Error(sdk::Errc::internal, "no ContextApi attached");
  try {
    const tcp::endpoint endpoint(net::ip::make_address(settings_.host), settings_.port);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(net::socket_base::max_listen_connections);
  } catch (const std::exception& e) {
    return sdk::Error(sdk::Errc::unavailable, "cannot listen on " + settings_.host + ":" +
                                                  std::to_string(settings_.port) + ": " + e.what());
  }
  workers_ = std::make_unique<WorkerPool>(settings_.provider_workers, settings_.provider_queue);
  writers_ = std::make_unique<WorkerPool>(settings_.write_workers, settings_.write_queue);
  for (auto& ioc : iocs_) work_.push_back(net::make_work_guard(*ioc));
  accept();
  for (auto& ioc : iocs_) threads_.emplace_back([&ioc = *ioc] { ioc.run(); });
  started_ = true;
  host_.log().info("listening on " + endpoint() + " with " + std::to_string(settings_.threads) +
                   " thread(s)");
  return {};
}

void HttpTransport::accept() {
  net::io_context& ioc = *iocs_[next_ioc_++ % iocs_.size()];
  // The connection's executor is its loop's own, not a strand: one thread runs each io_context,
  // so its handlers never run at once, and a strand would only add a lock and a reference count
  // to every completion (perf: ~5% of a GET's time in the server). Work done elsewhere comes back
  // through post/dispatch, which io_context makes safe from any thread.
  acceptor_.async_accept(ioc.get_executor(), [this](boost::system::error_code ec,
                                                    tcp::socket socket) {
    if (ec) {
      if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
      host_.log().warn("accept failed: " + ec.message());
    } else {
      boost::system::error_code nodelay_ec;
      socket.set_option(tcp::no_delay(true), nodelay_ec);
      boost::system::error_code peer_ec;
      const auto remote = socket.remote_endpoint(peer_ec);
      std::string peer = peer_ec ? std::string("-") : remote.address().to_string();
      // Full: make room by closing a connection that never sent a whole request (slowloris),
      // so health checks and real clients still get in; else refuse.
      const bool full =
          sessions_.size() >= settings_.max_connections && !sessions_.evict_one_unstarted();
      if (full || sessions_.from(peer) >= settings_.max_connections_per_address) {
        refuse(socket, full ? "too many connections" : "too many connections from your address");
        accept();
        return;
      }
      auto session = std::make_shared<Session>(std::move(socket), std::move(peer), *router_,
                                               settings_, sessions_, *workers_, *writers_);
      sessions_.add(session);
      session->start();
    }
    accept();
  });
}

void HttpTransport::refuse(tcp::socket& socket, const std::string& why) {
  // Over max_connections: one short answer, written at once (it fits the empty send buffer), so a
  // flood of connections costs no session, no buffer and no thread.
  host_.metrics().counter_add("ctxmgr_http_connections_refused_total", "", 1);
  auto res = error_response(
      sdk::Error(sdk::Errc::unavailable, why + "; retry shortly").with_field("retry_after", 1),
      new_request_id(), 11, false);
  boost::system::error_code ec;
  boost::beast::http::write(socket, res, ec);
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
}

void HttpTransport::stop() noexcept {
  if (!started_) return;
  started_ = false;
  try {
    drain_and_join();
  } catch (const std::exception& e) {
    host_.log().error(std::string("stop: ") + e.what());
  }
}

void HttpTransport::drain_and_join() {
  // Stop accepting, let requests in flight finish, close idle connections, then stop.
  net::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ec;
    acceptor_.close(ec);
  });
  const std::size_t left = sessions_.drain(settings_.drain_timeout);
  if (left != 0) {
    host_.log().warn(std::to_string(left) + " connection(s) still open after the drain timeout");
  }
  workers_->join();  // provider calls still running end within their own timeouts
  writers_->join();
  work_.clear();
  for (auto& ioc : iocs_) ioc->stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  host_.log().info("stopped");
}

namespace {

namespace option = ctxmgr::sdk::option;

constexpr ctxmgr_option_spec kOptions[] = {
    option::string("listen", "\"127.0.0.1:5000\"",
                   "address and port to listen on (host:port; [v6]:port; port 0 picks one)"),
    option::integer("max_connections", 1, 1000000, "1024",
                    "open connections at most; more are answered 503 with Retry-After and closed"),
    option::integer("max_connections_per_address", 1, 1000000, "256",
                    "open connections at most from one client address; more are answered 503"),
    option::integer("header_timeout_ms", 100, 3600000, "10000",
                    "time from a request's first byte to the end of its header; slower clients "
                    "are disconnected"),
    option::integer("provider_workers", 1, 1024, "8",
                    "threads for requests that wait on an AI provider (process), apart from the "
                    "I/O threads"),
    option::integer("write_workers", 1, 1024, "32",
                    "threads for writes (POST, PATCH, PUT, DELETE), apart from the I/O threads: "
                    "writes waiting together share one commit"),
    option::integer("write_queue", 1, 100000, "1024",
                    "writes running or waiting at most; more are answered 503 with Retry-After"),
    option::integer("provider_queue", 1, 100000, "64",
                    "process requests running or waiting at most; more are answered 503 with "
                    "Retry-After"),
    option::number("failed_auth_rate", 0, 1000000, "5",
                   "failed authentications a second one client address may make on average "
                   "(then 429 with Retry-After); 0: no limit"),
    option::number("failed_auth_burst", 1, 1000000, "20",
                   "failed authentications one client address may make at once"),
    option::string_list(
        "allowed_hosts", "[]",
        "Host names answered beside loopback ones (name, or name:port), e.g. behind a "
        "proxy; in token mode, when set, only these and loopback ones"),
    option::string_list(
        "allowed_origins", "[]",
        "browser Origins (scheme://host[:port]) allowed beside loopback ones, on REST "
        "and MCP"),
    option::integer("threads", 0, 256, "0", "I/O threads; 0: threads_per_core per core"),
    option::integer("threads_per_core", 1, 16, "1",
                    "with threads: 0, I/O threads per core: more than one when reads wait on a "
                    "database server (each thread serves one read at a time)"),
    option::integer("max_body_bytes", 1024, 1073741824, "1048576",
                    "larger request bodies get 413 and the connection is closed"),
    option::integer("max_header_bytes", 1024, 1048576, "16384",
                    "larger request headers get 413 and the connection is closed"),
    option::boolean("access_log", "true",
                    "one info line per request: method, path, route, status, duration, agent, "
                    "request id (never a token)"),
    option::integer("request_timeout_ms", 100, 3600000, "30000",
                    "time to receive one request (and to write its answer); idle keep-alive "
                    "connections are closed after it too"),
    option::integer("drain_timeout_ms", 0, 600000, "10000",
                    "on SIGTERM, how long requests in flight may take to finish"),
    option::string("console", "\"auto\"",
                   "the operator's console at /console/: true, false, or auto (on when listening "
                   "on a loopback address)"),
    option::string("mcp_path", "\"/mcp\"",
                   "path of the MCP Streamable HTTP endpoint; empty turns it off"),
    option::string_list("mcp_allowed_origins", "[]",
                        "the former name of allowed_origins (both are read)"),
    option::integer("event_heartbeat_ms", 100, 3600000, "15000",
                    "an idle event stream (GET /api/events) gets a comment line this often, so "
                    "proxies keep it open and a client that left is noticed"),
    option::integer("event_send_buffer_bytes", 4096, 16777216, "65536",
                    "the socket send buffer of an event stream: with the feed's own "
                    "events.buffer_bytes, what a client that stops reading can hold up"),
    option::integer("mcp_max_sessions", 1, 1000000, "1000",
                    "open MCP sessions at most; a new one evicts the least recently used of the "
                    "agent holding the most"),
    option::integer("mcp_max_sessions_per_agent", 1, 1000000, "100",
                    "open MCP sessions at most per agent; a new one evicts that agent's least "
                    "recently used"),
};

}  // namespace

}  // namespace ctxmgr::http

CTXMGR_PLUGIN(ctxmgr::sdk::Kind::transport, "http", "1.0.0", "REST API over HTTP/1.1 (Boost.Beast)",
              ctxmgr::http::HttpTransport, ctxmgr::http::kOptions)
