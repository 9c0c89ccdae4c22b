#include "webhook_receiver.hpp"

#include <algorithm>
#include <atomic>
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast.hpp>

namespace ctxmgr::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

std::string ReceivedPost::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

struct WebhookReceiver::Impl {
  net::io_context io;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::thread thread;
  std::atomic<bool> stopping{false};
  mutable std::mutex mu;
  std::condition_variable cv;
  std::vector<ReceivedPost> posts;
  std::function<ReceiverAnswer(const ReceivedPost&)> answer = [](const ReceivedPost&) {
    return ReceiverAnswer{};
  };
  std::vector<std::shared_ptr<tcp::socket>> open;  // closed when going down
  std::vector<std::thread> serving;                // one per connection, joined at the end

  void listen(int port) {
    acceptor = std::make_unique<tcp::acceptor>(io);
    tcp::endpoint ep(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port));
    acceptor->open(ep.protocol());
    acceptor->set_option(net::socket_base::reuse_address(true));
    acceptor->bind(ep);
    acceptor->listen();
    acceptor->non_blocking(true);  // the accept loop polls, so going down needs no wake-up
  }

  // One connection, served on its own thread (a slow answer does not hold up the next request).
  void serve(std::shared_ptr<tcp::socket> socket) {
    beast::flat_buffer buffer;
    beast::error_code ec;
    while (!stopping) {
      http::request<http::string_body> req;
      http::read(*socket, buffer, req, ec);
      if (ec) return;
      ReceivedPost post;
      post.target = std::string(req.target());
      for (const auto& f : req) {
        std::string name(f.name_string());
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        post.headers[name] = std::string(f.value());
      }
      post.body = req.body();
      std::function<ReceiverAnswer(const ReceivedPost&)> fn;
      {
        std::lock_guard lock(mu);
        fn = answer;
      }
      // Recorded as it arrives (the order requests came in), answered below.
      std::size_t index = 0;
      {
        std::lock_guard lock(mu);
        index = posts.size();
        posts.push_back(post);
      }
      const ReceiverAnswer a = fn(post);
      if (a.delay.count() > 0) std::this_thread::sleep_for(a.delay);
      http::response<http::string_body> res{static_cast<http::status>(a.status), req.version()};
      res.body() = a.status / 100 == 2 ? "" : "receiver says no";
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      http::write(*socket, res, ec);
      {
        std::lock_guard lock(mu);
        posts[index].answered = ec ? 0 : a.status;
      }
      cv.notify_all();
      if (ec || !req.keep_alive()) return;
    }
  }

  void accept_loop() {
    while (!stopping) {
      auto socket = std::make_shared<tcp::socket>(io);
      beast::error_code ec;
      {
        std::lock_guard lock(mu);
        if (acceptor && acceptor->is_open()) acceptor->accept(*socket, ec);
        else ec = net::error::not_connected;
        if (!ec) {
          open.push_back(socket);
          serving.emplace_back([this, socket] { serve(socket); });
        }
      }
      if (ec) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
};

WebhookReceiver::WebhookReceiver() : impl_(std::make_unique<Impl>()) {
  impl_->listen(0);
  port_ = impl_->acceptor->local_endpoint().port();
  impl_->thread = std::thread([this] { impl_->accept_loop(); });
}

WebhookReceiver::~WebhookReceiver() {
  impl_->stopping = true;
  go_down();
  if (impl_->thread.joinable()) impl_->thread.join();
  // Connection threads end when their socket closes (go_down closed them).
  for (auto& t : impl_->serving) {
    if (t.joinable()) t.join();
  }
}

std::string WebhookReceiver::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

void WebhookReceiver::answer_with(std::function<ReceiverAnswer(const ReceivedPost&)> fn) {
  std::lock_guard lock(impl_->mu);
  impl_->answer = std::move(fn);
}

void WebhookReceiver::go_down() {
  std::lock_guard lock(impl_->mu);
  beast::error_code ec;
  if (impl_->acceptor) {
    impl_->acceptor->close(ec);
  }
  // Shut down, not closed: each connection's thread wakes, returns and closes its own.
  for (auto& s : impl_->open) s->shutdown(tcp::socket::shutdown_both, ec);
  impl_->open.clear();
}

void WebhookReceiver::come_up() {
  std::lock_guard lock(impl_->mu);
  impl_->listen(port_);
}

std::vector<ReceivedPost> WebhookReceiver::posts() const {
  std::lock_guard lock(impl_->mu);
  return impl_->posts;
}

std::vector<ReceivedPost> WebhookReceiver::wait_delivered(std::size_t n,
                                                          std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mu);
  auto delivered = [&] {
    std::vector<ReceivedPost> out;
    for (const auto& p : impl_->posts) {
      if (p.answered / 100 == 2) out.push_back(p);
    }
    return out;
  };
  impl_->cv.wait_for(lock, timeout, [&] { return delivered().size() >= n; });
  return delivered();
}

std::vector<ReceivedPost> WebhookReceiver::wait_posts(std::size_t n,
                                                      std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mu);
  impl_->cv.wait_for(lock, timeout, [&] { return impl_->posts.size() >= n; });
  return impl_->posts;
}

}  // namespace ctxmgr::test
