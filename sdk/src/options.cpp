// Options: typed reads from the JSON object the kernel built from a plugin's YAML options.

#include "ctxmgr/sdk/options.hpp"

#include <boost/json.hpp>

namespace ctxmgr::sdk {

struct Options::Impl {
  boost::json::object object;

  const boost::json::value* find(std::string_view key) const {
    auto it = object.find(key);
    return it == object.end() ? nullptr : &it->value();
  }
};

Options::Options(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Options::Options(Options&&) noexcept = default;
Options& Options::operator=(Options&&) noexcept = default;
Options::~Options() = default;

Result<Options> Options::parse(std::string_view json_object) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(json_object.empty() ? "{}" : json_object, ec);
  if (ec) return Error(Errc::invalid_request, "options: not valid JSON: " + ec.message());
  if (!v.is_object()) return Error(Errc::invalid_request, "options: expected a JSON object");
  auto impl = std::make_unique<Impl>();
  impl->object = std::move(v.as_object());
  return Options(std::move(impl));
}

bool Options::has(std::string_view key) const { return impl_->find(key) != nullptr; }

std::string Options::get_string(std::string_view key, std::string_view fallback) const {
  const auto* v = impl_->find(key);
  if (v == nullptr || !v->is_string()) return std::string(fallback);
  return std::string(v->as_string());
}

std::int64_t Options::get_int(std::string_view key, std::int64_t fallback) const {
  const auto* v = impl_->find(key);
  if (v == nullptr || !v->is_int64()) return fallback;
  return v->as_int64();
}

double Options::get_number(std::string_view key, double fallback) const {
  const auto* v = impl_->find(key);
  if (v == nullptr) return fallback;
  if (v->is_double()) return v->as_double();
  if (v->is_int64()) return static_cast<double>(v->as_int64());
  return fallback;
}

bool Options::get_bool(std::string_view key, bool fallback) const {
  const auto* v = impl_->find(key);
  if (v == nullptr || !v->is_bool()) return fallback;
  return v->as_bool();
}

std::vector<std::string> Options::get_strings(std::string_view key) const {
  std::vector<std::string> out;
  const auto* v = impl_->find(key);
  if (v == nullptr || !v->is_array()) return out;
  for (const auto& item : v->as_array()) {
    if (item.is_string()) out.emplace_back(item.as_string());
  }
  return out;
}

std::string Options::get_json(std::string_view key) const {
  const auto* v = impl_->find(key);
  return v == nullptr ? std::string("null") : boost::json::serialize(*v);
}

}  // namespace ctxmgr::sdk
