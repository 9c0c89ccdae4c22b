#pragma once
// A webhook receiver for the end-to-end tests: a real HTTP/1.1 server (Boost.Beast, blocking, one
// thread) on 127.0.0.1 that records every POST and answers as the test says — a status, or a
// delay past the sender's timeout. It can go down (its port refuses connections) and come back
// on the same port.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace ctxmgr::test {

struct ReceivedPost {
  std::string target;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  int answered = 0;  // the status it was given (0: none, the connection was dropped)
  std::string header(const std::string& name) const;
};

// What to do with a request: the status to answer, after `delay`.
struct ReceiverAnswer {
  int status = 200;
  std::chrono::milliseconds delay{0};
};

class WebhookReceiver {
 public:
  // Listens on a free port at once.
  WebhookReceiver();
  ~WebhookReceiver();
  WebhookReceiver(const WebhookReceiver&) = delete;
  WebhookReceiver& operator=(const WebhookReceiver&) = delete;

  int port() const { return port_; }
  std::string url(const std::string& path = "/hook") const;

  // How the next requests are answered (default: 200 at once).
  void answer_with(std::function<ReceiverAnswer(const ReceivedPost&)> fn);
  // Stops listening (connections are refused) / listens again on the same port.
  void go_down();
  void come_up();

  // Every request so far, in arrival order (`answered` stays 0 until its answer is written).
  std::vector<ReceivedPost> posts() const;
  // Waits until `n` requests were answered 2xx or `timeout` passes; the answered ones.
  std::vector<ReceivedPost> wait_delivered(std::size_t n, std::chrono::milliseconds timeout);
  // Waits until `n` requests arrived (whatever their answer).
  std::vector<ReceivedPost> wait_posts(std::size_t n, std::chrono::milliseconds timeout);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace ctxmgr::test
