#include "sse_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>

namespace ctxmgr::test {

using Clock = std::chrono::steady_clock;

SseClient::SseClient(int port, const std::string& target, const std::vector<std::string>& headers,
                     int receive_buffer) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (receive_buffer > 0) {
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close();
    closed_ = true;
    return;
  }
  std::string req =
      "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n";
  for (const auto& h : headers) req += h + "\r\n";
  req += "\r\n";
  ::send(fd_, req.data(), req.size(), MSG_NOSIGNAL);
}

SseClient::~SseClient() { close(); }

void SseClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool SseClient::fill(int timeout_ms) {
  if (fd_ < 0 || closed_) return false;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return false;
  char chunk[16384];
  const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
  if (n <= 0) {
    closed_ = true;
    return false;
  }
  buf_.append(chunk, static_cast<std::size_t>(n));
  return true;
}

bool SseClient::read_head(int timeout_ms) {
  if (status_ != 0) return true;
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (buf_.find("\r\n\r\n") == std::string::npos) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0 || !fill(static_cast<int>(left))) return false;
  }
  const auto end = buf_.find("\r\n\r\n");
  head_ = buf_.substr(0, end + 4);
  buf_.erase(0, end + 4);
  if (head_.size() > 12) status_ = std::atoi(head_.substr(9, 3).c_str());
  return true;
}

int SseClient::status() {
  read_head(10000);
  return status_;
}

const std::string& SseClient::head() {
  read_head(10000);
  return head_;
}

std::string SseClient::body() {
  read_head(10000);
  // An error answer has a Content-Length (and may keep the connection open); a stream has none.
  std::size_t want = std::string::npos;
  for (const char* name : {"Content-Length: ", "content-length: "}) {
    if (const auto at = head_.find(name); at != std::string::npos) {
      want = std::strtoul(head_.c_str() + at + std::strlen(name), nullptr, 10);
    }
  }
  while (buf_.size() < want && fill(want == std::string::npos ? 2000 : 10000)) {
  }
  return buf_;
}

std::optional<SseEvent> SseClient::next(int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  if (!read_head(timeout_ms)) return std::nullopt;
  while (true) {
    // One event ends at a blank line.
    auto end = buf_.find("\n\n");
    while (end == std::string::npos) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0 || !fill(static_cast<int>(left))) return std::nullopt;
      end = buf_.find("\n\n");
    }
    const std::string block = buf_.substr(0, end + 1);
    buf_.erase(0, end + 2);
    SseEvent e;
    bool any = false;
    std::size_t pos = 0;
    while (pos < block.size()) {
      const auto nl = block.find('\n', pos);
      const std::string line = block.substr(pos, nl - pos);
      pos = nl + 1;
      if (line.empty()) continue;
      if (line.front() == ':') {
        ++comments_;
        continue;
      }
      const auto colon = line.find(':');
      const std::string field = line.substr(0, colon);
      std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
      if (!value.empty() && value.front() == ' ') value.erase(0, 1);
      if (field == "id") e.id = value, any = true;
      if (field == "event") e.event = value, any = true;
      if (field == "data") e.data += (e.data.empty() ? "" : "\n") + value, any = true;
    }
    if (any && !e.data.empty()) return e;
  }
}

std::vector<SseEvent> SseClient::take(std::size_t n, int timeout_ms) {
  std::vector<SseEvent> out;
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (out.size() < n) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    auto e = next(static_cast<int>(left));
    if (!e) break;
    out.push_back(std::move(*e));
  }
  return out;
}

}  // namespace ctxmgr::test
