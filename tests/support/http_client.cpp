#include "http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace ctxmgr::test {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

std::string HttpReply::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

struct HttpClient::Impl {
  int port;
  net::io_context ioc;
  std::unique_ptr<beast::tcp_stream> stream;
  beast::flat_buffer buffer;

  void connect() {
    stream = std::make_unique<beast::tcp_stream>(ioc);
    stream->connect(tcp::endpoint(net::ip::make_address("127.0.0.1"),
                                  static_cast<unsigned short>(port)));
    buffer.clear();
  }
};

HttpClient::HttpClient(int port) : impl_(std::make_unique<Impl>()) { impl_->port = port; }
HttpClient::~HttpClient() = default;

HttpReply HttpClient::request(const std::string& method, const std::string& target,
                              const std::string& body,
                              const std::map<std::string, std::string>& headers) {
  HttpReply reply;
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      if (!impl_->stream) impl_->connect();
      http::request<http::string_body> req{http::string_to_verb(method), target, 11};
      req.set(http::field::host, "127.0.0.1");
      req.keep_alive(true);
      for (const auto& [k, v] : headers) req.set(k, v);
      if (!body.empty() || method == "POST" || method == "PATCH") {
        req.body() = body;
        req.prepare_payload();
      }
      impl_->stream->expires_after(std::chrono::seconds(30));
      http::write(*impl_->stream, req);
      http::response_parser<http::string_body> parser;
      parser.body_limit(64 << 20);
      parser.skip(method == "HEAD");  // a HEAD answer's Content-Length announces no body
      http::read(*impl_->stream, impl_->buffer, parser);
      auto res = parser.release();
      reply.status = static_cast<int>(res.result_int());
      for (const auto& f : res) {
        std::string name(f.name_string());
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        reply.headers[name] = std::string(f.value());
      }
      reply.body = res.body();
      reply.keep_alive = res.keep_alive();
      if (!reply.keep_alive) impl_->stream.reset();
      return reply;
    } catch (const std::exception&) {
      // A kept-alive connection the server closed meanwhile: retry once on a new one.
      impl_->stream.reset();
      if (attempt == 1) return HttpReply{};
    }
  }
  return reply;
}

HttpReply HttpClient::get(const std::string& t, const std::map<std::string, std::string>& h) {
  return request("GET", t, {}, h);
}

HttpReply HttpClient::post(const std::string& t, const std::string& b,
                           const std::map<std::string, std::string>& h) {
  auto headers = h;
  headers.emplace("Content-Type", "application/json");
  return request("POST", t, b, headers);
}

HttpReply HttpClient::patch(const std::string& t, const std::string& b,
                            const std::map<std::string, std::string>& h) {
  auto headers = h;
  headers.emplace("Content-Type", "application/json");
  return request("PATCH", t, b, headers);
}

HttpReply HttpClient::del(const std::string& t, const std::map<std::string, std::string>& h) {
  return request("DELETE", t, {}, h);
}

std::string HttpClient::raw(int port, const std::string& bytes, int wait_ms) {
  net::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"),
                               static_cast<unsigned short>(port)));
  net::write(socket, net::buffer(bytes));
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  socket.non_blocking(true);
  char buf[65536];
  while (std::chrono::steady_clock::now() < deadline) {
    boost::system::error_code ec;
    const std::size_t n = socket.read_some(net::buffer(buf), ec);
    if (ec == net::error::would_block) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    if (ec) break;  // closed by the server
    out.append(buf, n);
  }
  return out;
}

int open_connection(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool wait_until_healthy(int port, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    HttpClient c(port);
    if (c.get("/healthz").status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace ctxmgr::test
