#pragma once
// The sdk::Host each plugin instance receives: a logger named after the instance, the kernel's
// metrics registry and the system clock.

#include <memory>
#include <string>

#include <spdlog/logger.h>

#include "ctxmgr/sdk/host.hpp"
#include "metrics/metrics_registry.hpp"

namespace ctxmgr::kernel {

class SpdLogger final : public sdk::Logger {
 public:
  explicit SpdLogger(std::shared_ptr<spdlog::logger> logger) : logger_(std::move(logger)) {}
  void log(sdk::LogLevel level, std::string_view message) override;
  bool enabled(sdk::LogLevel level) const override;

 private:
  std::shared_ptr<spdlog::logger> logger_;
};

class SystemClock final : public sdk::Clock {
 public:
  std::int64_t now_us() const override;
  std::int64_t steady_ns() const override;
};

class HostImpl final : public sdk::Host {
 public:
  // `metrics` must outlive the host. The logger is named "<kind>.<instance>".
  HostImpl(const std::string& kind_and_name, std::string instance, MetricsRegistry& metrics);

  sdk::Logger& log() override { return logger_; }
  sdk::Metrics& metrics() override { return *metrics_; }
  sdk::Clock& clock() override { return clock_; }
  std::string_view instance_name() const override { return instance_; }

 private:
  std::string instance_;
  SpdLogger logger_;
  MetricsRegistry* metrics_;
  SystemClock clock_;
};

}  // namespace ctxmgr::kernel
