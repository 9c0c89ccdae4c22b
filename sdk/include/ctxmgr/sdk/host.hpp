#pragma once
// The services the kernel lends a plugin. A plugin gets them through its Host, never through
// globals, so that two instances of one plugin log and count under their own names.
//
// Thread-safety: every method of Logger, Metrics and Clock may be called from any thread.
// Ownership: the Host and everything it returns belong to the kernel and outlive the plugin
// instance they were given to.

#include <cstdint>
#include <string_view>

#include "ctxmgr/sdk/abi.h"

namespace ctxmgr::sdk {

enum class LogLevel : std::uint8_t { trace, debug, info, warn, error };

class CTXMGR_SDK_VISIBLE Logger {
 public:
  virtual ~Logger();
  // Writes one line. The kernel adds the time, the level and the plugin instance's name.
  virtual void log(LogLevel level, std::string_view message) = 0;
  // Whether a line at this level would be written; lets a plugin skip building costly messages.
  virtual bool enabled(LogLevel level) const = 0;

  void debug(std::string_view m) { log(LogLevel::debug, m); }
  void info(std::string_view m) { log(LogLevel::info, m); }
  void warn(std::string_view m) { log(LogLevel::warn, m); }
  void error(std::string_view m) { log(LogLevel::error, m); }
};

// Prometheus-style metrics. `name` is a metric name ([a-z_][a-z0-9_]*); `labels` is empty or a
// label list without braces, e.g. `route="get",status="200"`. The kernel prefixes nothing: name
// metrics `ctxmgr_<plugin>_...`.
class CTXMGR_SDK_VISIBLE Metrics {
 public:
  virtual ~Metrics();
  virtual void counter_add(std::string_view name, std::string_view labels, double delta) = 0;
  virtual void gauge_set(std::string_view name, std::string_view labels, double value) = 0;
  // Records one observation in a histogram with the kernel's latency buckets (seconds).
  virtual void observe(std::string_view name, std::string_view labels, double value) = 0;
};

class CTXMGR_SDK_VISIBLE Clock {
 public:
  virtual ~Clock();
  // Wall-clock time, microseconds since the Unix epoch (UTC).
  virtual std::int64_t now_us() const = 0;
  // Monotonic time in nanoseconds, for durations and timeouts.
  virtual std::int64_t steady_ns() const = 0;
};

class CTXMGR_SDK_VISIBLE Host {
 public:
  virtual ~Host();
  virtual Logger& log() = 0;
  virtual Metrics& metrics() = 0;
  virtual Clock& clock() = 0;
  // The instance name this plugin was configured under (unique per kind).
  virtual std::string_view instance_name() const = 0;
};

}  // namespace ctxmgr::sdk
