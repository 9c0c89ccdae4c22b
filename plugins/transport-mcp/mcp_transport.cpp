// transport-mcp: Context Manager as an MCP server over the stdio transport (`ctxmgr mcp`):
// newline-delimited JSON-RPC on stdin/stdout, logs only on stderr; the process ends when stdin
// closes. Streamable HTTP is served by transport-http on its `mcp_path` (/mcp), with the same
// endpoint (plugins/mcp-core).

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

#include "ctxmgr/sdk/option_spec.hpp"
#include "ctxmgr/sdk/plugin_main.hpp"
#include "ctxmgr/sdk/transport.hpp"
#include "mcp_server.hpp"

namespace ctxmgr::mcp {

namespace {

constexpr std::size_t kMaxLine = 16u << 20;  // a longer message is refused, not buffered forever

class McpTransport final : public sdk::Transport {
 public:
  McpTransport(sdk::Host& host, const sdk::Options& options)
      : host_(host),
        identity_{options.get_string("agent"), options.get_string("token").empty()
                                                   ? std::string()
                                                   : "Bearer " + options.get_string("token")},
        version_(options.get_string("server_version", "0.0.0")) {
    if (options.get_string("mode", "stdio") != "stdio") {
      throw sdk::Error(sdk::Errc::invalid_request,
                       "options.mode: only stdio is implemented in this version");
    }
  }
  ~McpTransport() override { stop(); }

  void attach(sdk::ContextApi& api) override { api_ = &api; }
  bool loopback_only() const override { return true; }  // a local process on our stdio
  std::string endpoint() const override { return "stdio"; }

  sdk::Status start() override {
    if (api_ == nullptr) return sdk::Error(sdk::Errc::internal, "no ContextApi attached");
    server_ = std::make_unique<McpServer>(*api_, version_);
    // Notifications of resources/subscribe go out from a thread of their own, woken by the kernel.
    server_->set_notification_wake([this] {
      {
        std::lock_guard lock(notify_mu_);
        notify_ = true;
      }
      notify_cv_.notify_one();
    });
    notifier_ = std::thread([this] { notify_loop(); });
    reader_ = std::thread([this] { read_loop(); });
    host_.log().info("MCP server on stdio");
    return {};
  }

  void stop() noexcept override {
    stopping_ = true;
    if (reader_.joinable()) reader_.join();
    if (server_) server_->set_notification_wake({});
    { std::lock_guard lock(notify_mu_); }  // a notifier between its check and its wait sees it
    notify_cv_.notify_one();
    if (notifier_.joinable()) notifier_.join();
  }

 private:
  void read_loop() {
    std::string pending;
    char buf[65536];
    while (!stopping_) {
      pollfd pfd{STDIN_FILENO, POLLIN, 0};
      const int ready = ::poll(&pfd, 1, 100);
      if (ready <= 0) continue;
      const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
      if (n <= 0) break;  // the client closed stdin: end the server
      pending.append(buf, static_cast<std::size_t>(n));
      for (auto nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n')) {
        std::string line = pending.substr(0, nl);
        pending.erase(0, nl + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) continue;
        if (auto reply = server_->handle(line, identity_)) write_line(*reply);
      }
      if (pending.size() > kMaxLine) {
        pending.clear();
        write_line(
            R"({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: message larger than 16 MiB"}})");
      }
    }
    if (!stopping_) {
      host_.log().info("stdin closed; stopping");
      ::kill(::getpid(), SIGTERM);
    }
  }

  void notify_loop() {
    while (true) {
      {
        std::unique_lock lock(notify_mu_);
        notify_cv_.wait(lock, [&] { return notify_ || stopping_; });
        if (stopping_) return;
        notify_ = false;
      }
      for (const auto& message : server_->notifications()) write_line(message);
    }
  }

  void write_line(const std::string& line) {
    std::lock_guard lock(out_mu_);
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
  }

  sdk::Host& host_;
  Identity identity_;
  std::string version_;
  sdk::ContextApi* api_ = nullptr;
  std::unique_ptr<McpServer> server_;
  std::thread reader_;
  std::thread notifier_;
  std::mutex notify_mu_;
  std::condition_variable notify_cv_;
  bool notify_ = false;
  std::atomic<bool> stopping_{false};
  std::mutex out_mu_;
};

namespace option = ctxmgr::sdk::option;

constexpr ctxmgr_option_spec kOptions[] = {
    option::choice("mode", "stdio", "\"stdio\"",
                   "the MCP transport: stdio (Streamable HTTP is transport-http's mcp_path)"),
    option::string("agent", "\"\"",
                   "trust mode: the agent the client acts as (CTXMGR_AGENT); empty: admin"),
    option::secret("token", "\"\"", "token mode: the client's bearer token (CTXMGR_TOKEN)"),
    option::string("server_version", "\"0.0.0\"", "the version announced in serverInfo"),
};

}  // namespace

}  // namespace ctxmgr::mcp

CTXMGR_PLUGIN(ctxmgr::sdk::Kind::transport, "mcp", "0.1.0", "Model Context Protocol server (stdio)",
              ctxmgr::mcp::McpTransport, ctxmgr::mcp::kOptions)
