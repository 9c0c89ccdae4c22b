#include "plugin/host_impl.hpp"

#include <chrono>

#include "log/logging.hpp"

namespace ctxmgr::kernel {

namespace {
spdlog::level::level_enum to_spd(sdk::LogLevel level) {
  switch (level) {
    case sdk::LogLevel::trace: return spdlog::level::trace;
    case sdk::LogLevel::debug: return spdlog::level::debug;
    case sdk::LogLevel::info: return spdlog::level::info;
    case sdk::LogLevel::warn: return spdlog::level::warn;
    case sdk::LogLevel::error: return spdlog::level::err;
  }
  return spdlog::level::info;
}
}  // namespace

void SpdLogger::log(sdk::LogLevel level, std::string_view message) {
  logger_->log(to_spd(level), "{}", message);
}

bool SpdLogger::enabled(sdk::LogLevel level) const { return logger_->should_log(to_spd(level)); }

std::int64_t SystemClock::now_us() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t SystemClock::steady_ns() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

HostImpl::HostImpl(const std::string& kind_and_name, std::string instance, MetricsRegistry& metrics)
    : instance_(std::move(instance)),
      logger_(make_logger(kind_and_name)),
      metrics_(&metrics) {}

}  // namespace ctxmgr::kernel
