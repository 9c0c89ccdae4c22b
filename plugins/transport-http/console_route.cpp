#include "console_route.hpp"

#include <string>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>

#include "console_assets.hpp"

namespace ctxmgr::http {

namespace bhttp = boost::beast::http;

namespace {

constexpr std::string_view kAssets = "/console/assets/";

// Only this server's own scripts, styles and API; no frames, no forms posted elsewhere.
constexpr const char* kPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

Response plain(bhttp::status status, const Request& req, std::string body) {
  Response res{status, req.version()};
  res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

}  // namespace

Response console_response(const Request& req, std::string_view path) {
  if (path == "/console") {
    Response res = plain(bhttp::status::moved_permanently, req, "");
    res.set(bhttp::field::location, "/console/");
    return res;
  }
  const ConsoleAsset* asset = nullptr;
  if (path.starts_with(kAssets)) {
    asset = console_asset(path.substr(kAssets.size()));
    if (asset == nullptr) {
      return plain(bhttp::status::not_found, req,
                   "no console file " + std::string(path.substr(kAssets.size())));
    }
  } else {
    asset = console_asset("index.html");
  }
  Response res{bhttp::status::ok, req.version()};
  res.set(bhttp::field::content_type, asset->content_type);
  res.set(bhttp::field::cache_control, "no-cache");
  res.set("Content-Security-Policy", kPolicy);
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
  res.set("X-Frame-Options", "DENY");
  res.keep_alive(req.keep_alive());
  res.body() = std::string(asset->body);
  res.prepare_payload();
  return res;
}

}  // namespace ctxmgr::http
