#include "provider_call.hpp"

#include <chrono>
#include <thread>

#include "retry_policy.hpp"

namespace ctxmgr::provider {

using sdk::Errc;
using sdk::Error;

namespace {

sdk::Result<std::string> call(const HttpRequest& request, std::string_view provider,
                              int max_retries, sdk::Host& host, const MessageOf& message_of,
                              const std::string& label, const std::string& prefix) {
  sdk::Logger& log = host.log();
  const std::string name(provider);
  for (int attempt = 0;; ++attempt) {
    auto res = post(request);
    using Failure = HttpResult::Failure;
    if (res.failure == Failure::timeout) {
      return Error(
          Errc::provider_timeout,
          name + " did not answer within " + std::to_string(request.total_timeout.count()) + " ms");
    }
    // Once part of a streamed answer went on, nothing is retried: the client has seen it.
    if (res.streamed) {
      if (res.failure == Failure::none || res.stopped) return std::string();
      return Error(Errc::provider_error,
                   "the stream from " + name + " was cut: " + res.failure_text);
    }
    const bool retryable = res.failure == Failure::connect ||
                           (res.failure == Failure::none && should_retry(res.status, res.headers));
    if (retryable && attempt < max_retries) {
      const auto wait = retry_delay(attempt, res.headers);
      log.warn(
          name + ": " +
          (res.failure == Failure::none ? "HTTP " + std::to_string(res.status) : res.failure_text) +
          "; retry " + std::to_string(attempt + 1) + " in " + std::to_string(wait.count()) + " ms");
      host.metrics().counter_add(prefix + "_retries_total", label, 1);
      std::this_thread::sleep_for(wait);
      continue;
    }
    if (res.failure != Failure::none) {
      return Error(Errc::provider_error, "cannot reach " + name + ": " + res.failure_text);
    }
    if (res.status >= 200 && res.status < 300) return std::move(res.body);
    std::string message = message_of(res.body);
    if (message.empty()) message = "HTTP " + std::to_string(res.status);
    if (res.status == 429) {
      Error e(Errc::rate_limited, name + " rate limit: " + message);
      if (auto s = retry_after_seconds(res.headers)) e.with_field("retry_after", *s);
      return e;
    }
    if (res.status == 401 || res.status == 403) {
      return Error(Errc::provider_error, name + " rejected the credentials (HTTP " +
                                             std::to_string(res.status) + "): " + message);
    }
    return Error(Errc::provider_error, name + ": " + message);
  }
}

}  // namespace

sdk::Result<std::string> call_with_retries(const HttpRequest& request, std::string_view provider,
                                           int max_retries, sdk::Host& host,
                                           const MessageOf& message_of, std::string_view family) {
  const std::string prefix = "ctxmgr_" + std::string(family);
  const std::string label = std::string(family) + "=\"" + std::string(host.instance_name()) + "\"";
  const auto started = std::chrono::steady_clock::now();
  auto result = call(request, provider, max_retries, host, message_of, label, prefix);
  host.metrics().counter_add(
      prefix + "_requests_total",
      label + ",outcome=\"" +
          std::string(result ? std::string_view("ok") : sdk::code_name(result.error().code())) +
          "\"",
      1);
  host.metrics().observe(
      prefix + "_request_duration_seconds", label,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return result;
}

}  // namespace ctxmgr::provider
