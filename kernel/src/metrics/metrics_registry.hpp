#pragma once
// The kernel's metrics: counters, gauges and latency histograms that the kernel and plugins record
// through sdk::Metrics, rendered as Prometheus text for GET /metrics.
//
// Recording is on every request's path, so it takes a shared lock to find an existing series
// (no allocation) and updates it with atomics; only the first use of a series takes the
// exclusive lock to create it.

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>

#include "ctxmgr/sdk/host.hpp"

namespace ctxmgr::kernel {

class MetricsRegistry final : public sdk::Metrics {
 public:
  void counter_add(std::string_view name, std::string_view labels, double delta) override;
  void gauge_set(std::string_view name, std::string_view labels, double value) override;
  void observe(std::string_view name, std::string_view labels, double value) override;

  // The Prometheus text exposition format (version 0.0.4).
  std::string render() const;

  // Latency buckets in seconds, from 100 µs to 10 s.
  static constexpr std::array<double, 12> kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                                      0.005,  0.01,    0.025,  0.05,  0.1,
                                                      1.0,    10.0};

 private:
  enum class Type { counter, gauge, histogram };
  struct Series {
    std::atomic<double> value{0};  // counter or gauge
    std::array<std::atomic<std::uint64_t>, kBuckets.size()> buckets{};
    std::atomic<std::uint64_t> count{0};
    std::atomic<double> sum{0};
  };
  struct Family {
    Type type;
    std::map<std::string, std::unique_ptr<Series>, std::less<>> series;  // by labels
  };

  Series& series(std::string_view name, std::string_view labels, Type type);

  mutable std::shared_mutex mu_;
  std::map<std::string, Family, std::less<>> families_;
};

}  // namespace ctxmgr::kernel
