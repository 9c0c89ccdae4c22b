// Raw bytes as an HTTP/1.1 request: Beast's parser (with the transport's limits), then the router:
// query strings, path ids, methods, headers, content types and bodies, as a client sends them.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "http_router.hpp"
#include "request_guard.hpp"
#include "stub_context_api.hpp"

namespace {

class DropWriter final : public ctxmgr::http::RawWriter {
 public:
  bool write(std::string_view) override { return true; }
  void stream_events(std::unique_ptr<ctxmgr::sdk::EventStream>, const std::string&) override {}
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Trust mode (Host and Origin checked first) for even sizes, token mode (the routes behind
  // them, whatever the Host) for odd ones.
  static ctxmgr::fuzz::StubContextApi trusting(true), token(false);
  static ctxmgr::fuzz::QuietHost host;
  static const ctxmgr::http::RequestGuard guard({"ctx.example"}, {"https://app.example"});
  static const ctxmgr::http::RequestGuard open_guard({}, {"https://app.example"});
  // The console on too, so its paths are fuzzed with the rest.
  static ctxmgr::http::Router trust_router(trusting, host, guard, nullptr, "/mcp", false, nullptr,
                                           true);
  static ctxmgr::http::Router token_router(token, host, open_guard, nullptr, "/mcp", false);
  auto& router = size % 2 == 0 ? trust_router : token_router;
  boost::beast::http::request_parser<boost::beast::http::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(1 << 20);
  parser.eager(true);
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (ec || !parser.is_done()) return 0;
  DropWriter writer;
  const auto request = parser.release();
  const auto response = router.handle(request, ctxmgr::http::choose_request_id(request), writer);
  if (response && response->result_int() >= 500 && response->result_int() != 503) {
    __builtin_trap();  // the stub never fails: a 5xx would be the router's own error
  }
  // The same request submitted (a plain create is; the stub answers at once): answered exactly
  // once when taken, never when not, and never with the router's own 5xx.
  int answers = 0;
  const bool taken = router.submit(request, ctxmgr::http::choose_request_id(request), writer, "-",
                                   {}, [&](const ctxmgr::http::Router::MakeResponse& make) {
                                     ++answers;
                                     const auto later = make();
                                     if (later.result_int() >= 500 && later.result_int() != 503)
                                       __builtin_trap();
                                   });
  if (answers != (taken ? 1 : 0)) __builtin_trap();
  return 0;
}
