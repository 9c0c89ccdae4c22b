#include "provider_options.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace ctxmgr::provider {

CallSettings call_settings(const sdk::Options& o) {
  return CallSettings{std::chrono::milliseconds(o.get_int("connect_timeout_ms", 10000)),
                      std::chrono::milliseconds(o.get_int("timeout_ms", 120000)),
                      static_cast<int>(o.get_int("max_retries", 2))};
}

std::string trimmed_base_url(std::string base_url) {
  while (!base_url.empty() && base_url.back() == '/') base_url.pop_back();
  return base_url;
}

std::string error_message(const std::string& body) {
  boost::system::error_code ec;
  const auto v = boost::json::parse(body, ec);
  if (!ec && v.is_object()) {
    if (const auto* e = v.as_object().if_contains("error"); e != nullptr && e->is_object()) {
      if (const auto* m = e->as_object().if_contains("message"); m != nullptr && m->is_string()) {
        return std::string(m->as_string());
      }
    }
  }
  return {};
}

}  // namespace ctxmgr::provider
