#pragma once
// The kernel's metrics: counters, gauges and latency histograms that the kernel and plugins record
// through sdk::Metrics, rendered as Prometheus text for GET /metrics.

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "ctxmgr/sdk/host.hpp"

namespace ctxmgr::kernel {

class MetricsRegistry final : public sdk::Metrics {
 public:
  void counter_add(std::string_view name, std::string_view labels, double delta) override;
  void gauge_set(std::string_view name, std::string_view labels, double value) override;
  void observe(std::string_view name, std::string_view labels, double value) override;

  // The Prometheus text exposition format (version 0.0.4).
  std::string render() const;

 private:
  struct Histogram {
    std::vector<std::uint64_t> buckets;  // cumulative counts are computed when rendering
    std::uint64_t count = 0;
    double sum = 0;
  };
  using Series = std::map<std::string, double, std::less<>>;  // labels -> value

  mutable std::mutex mu_;
  std::map<std::string, Series, std::less<>> counters_;
  std::map<std::string, Series, std::less<>> gauges_;
  std::map<std::string, std::map<std::string, Histogram, std::less<>>, std::less<>> histograms_;
};

}  // namespace ctxmgr::kernel
