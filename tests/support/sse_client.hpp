#pragma once
// A blocking server-sent-events client for the end-to-end tests: one GET on its own connection
// (plain sockets, so a test can also leave its events unread), the response head, then events
// parsed as the WHATWG EventSource parser does (id, event, data; comments skipped).

#include <optional>
#include <string>
#include <vector>

namespace ctxmgr::test {

struct SseEvent {
  std::string id;
  std::string event = "message";
  std::string data;
};

class SseClient {
 public:
  // Opens `target` on 127.0.0.1:`port` with `headers` ("Name: value" lines). `receive_buffer`
  // (bytes, 0: the system's) sets SO_RCVBUF before connecting: a small one makes a slow client.
  SseClient(int port, const std::string& target, const std::vector<std::string>& headers = {},
            int receive_buffer = 0);
  ~SseClient();
  SseClient(const SseClient&) = delete;
  SseClient& operator=(const SseClient&) = delete;

  // The response status and head (read on the first call of any of these).
  int status();
  const std::string& head();
  // The body when the answer is not a stream (an error), read to the end.
  std::string body();
  // The next event, waiting at most `timeout_ms`; nullopt on timeout or when the server closed.
  std::optional<SseEvent> next(int timeout_ms);
  // Events until `n` arrived or `timeout_ms` passed in all.
  std::vector<SseEvent> take(std::size_t n, int timeout_ms);
  // Whether the server closed the stream (seen by a read that returned 0).
  bool closed() const { return closed_; }
  // Comment lines seen so far (": heartbeat").
  int comments() const { return comments_; }
  void close();

 private:
  bool fill(int timeout_ms);  // reads more into buf_; false on timeout or close
  bool read_head(int timeout_ms);
  int fd_ = -1;
  std::string buf_;
  std::string head_;
  int status_ = 0;
  bool closed_ = false;
  int comments_ = 0;
};

}  // namespace ctxmgr::test
