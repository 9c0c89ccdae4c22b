#pragma once
// The SDK's error type. Nothing is thrown across the plugin boundary: interfaces return
// Result<T> (a value or an Error), and the codes are the error codes of the REST API.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace ctxmgr::sdk {

// One code per error code of API.md; the HTTP status follows from it.
enum class Errc : std::uint8_t {
  invalid_request,
  unauthenticated,
  forbidden,
  not_found,
  method_not_allowed,
  conflict,
  precondition_failed,
  payload_too_large,
  unsupported_media_type,
  rate_limited,
  internal,
  provider_error,
  unavailable,
  provider_timeout,
  misdirected_request,  // since ABI 1.3: a Host the server does not answer for (421)
};

// The wire name of a code, as in the REST error body ("not_found").
constexpr std::string_view code_name(Errc c) {
  switch (c) {
    case Errc::invalid_request: return "invalid_request";
    case Errc::unauthenticated: return "unauthenticated";
    case Errc::forbidden: return "forbidden";
    case Errc::not_found: return "not_found";
    case Errc::method_not_allowed: return "method_not_allowed";
    case Errc::conflict: return "conflict";
    case Errc::precondition_failed: return "precondition_failed";
    case Errc::payload_too_large: return "payload_too_large";
    case Errc::unsupported_media_type: return "unsupported_media_type";
    case Errc::rate_limited: return "rate_limited";
    case Errc::internal: return "internal";
    case Errc::provider_error: return "provider_error";
    case Errc::unavailable: return "unavailable";
    case Errc::provider_timeout: return "provider_timeout";
    case Errc::misdirected_request: return "misdirected_request";
  }
  return "internal";
}

// The HTTP status API.md gives each code.
constexpr int http_status(Errc c) {
  switch (c) {
    case Errc::invalid_request: return 400;
    case Errc::unauthenticated: return 401;
    case Errc::forbidden: return 403;
    case Errc::not_found: return 404;
    case Errc::method_not_allowed: return 405;
    case Errc::conflict: return 409;
    case Errc::precondition_failed: return 412;
    case Errc::payload_too_large: return 413;
    case Errc::unsupported_media_type: return 415;
    case Errc::rate_limited: return 429;
    case Errc::internal: return 500;
    case Errc::provider_error: return 502;
    case Errc::unavailable: return 503;
    case Errc::provider_timeout: return 504;
    case Errc::misdirected_request: return 421;
  }
  return 500;
}

// An error: a code and a message for a human. The message must never hold a secret, a SQL text
// or a stack trace: it may reach a client.
class Error {
 public:
  Error(Errc code, std::string message) : code_(code), message_(std::move(message)) {}

  Errc code() const { return code_; }
  const std::string& message() const { return message_; }

  // Integer fields the error body carries inside "error" besides code and message, e.g.
  // "current_version" of a 412 or "retry_after" of a 429.
  Error& with_field(std::string key, std::int64_t value) {
    fields_.emplace_back(std::move(key), value);
    return *this;
  }
  const std::vector<std::pair<std::string, std::int64_t>>& fields() const { return fields_; }

 private:
  Errc code_;
  std::string message_;
  std::vector<std::pair<std::string, std::int64_t>> fields_;
};

// A value or an Error. (C++20 has no std::expected.)
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Success or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT: implicit by design

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return error_; }

 private:
  Error error_{Errc::internal, {}};
  bool failed_ = false;
};

using Status = Result<void>;

}  // namespace ctxmgr::sdk
