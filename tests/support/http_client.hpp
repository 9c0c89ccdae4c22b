#pragma once
// A blocking HTTP/1.1 client for the end-to-end tests (Boost.Beast), with keep-alive: requests on
// one HttpClient reuse its connection until the server closes it.

#include <map>
#include <memory>
#include <string>

namespace ctxmgr::test {

struct HttpReply {
  int status = 0;  // 0: the connection failed or was closed without an answer
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  bool keep_alive = false;

  std::string header(const std::string& name) const;
};

class HttpClient {
 public:
  explicit HttpClient(int port);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpReply request(const std::string& method, const std::string& target,
                    const std::string& body = {},
                    const std::map<std::string, std::string>& headers = {});
  // JSON shorthands: Content-Type application/json when there is a body.
  HttpReply get(const std::string& target, const std::map<std::string, std::string>& h = {});
  HttpReply post(const std::string& target, const std::string& body,
                 const std::map<std::string, std::string>& h = {});
  HttpReply patch(const std::string& target, const std::string& body,
                  const std::map<std::string, std::string>& h = {});
  HttpReply del(const std::string& target, const std::map<std::string, std::string>& h = {});

  // Raw bytes on a fresh connection; returns what the server sent until it closed or `wait_ms`.
  static std::string raw(int port, const std::string& bytes, int wait_ms);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A raw TCP connection to 127.0.0.1:`port` that stays open (the caller closes it); -1 on failure.
int open_connection(int port);

// Polls GET /healthz until it answers 200 or `timeout_ms` passes.
bool wait_until_healthy(int port, int timeout_ms);

}  // namespace ctxmgr::test
