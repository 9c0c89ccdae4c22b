#include "metrics/metrics_registry.hpp"

#include <array>
#include <charconv>

namespace ctxmgr::kernel {

namespace {

// Latency buckets in seconds, from 100 µs to 10 s.
constexpr std::array<double, 12> kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                             0.01,   0.025,   0.05,   0.1,   1.0,    10.0};

// The shortest fixed-point text that reads back to the same double (0.0005, not 5e-04).
std::string number(double v) {
  char buf[400];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  return ec == std::errc() ? std::string(buf, end) : std::string("NaN");
}

std::string series(std::string_view name, std::string_view labels, std::string_view extra = {}) {
  std::string out(name);
  if (labels.empty() && extra.empty()) return out;
  out += '{';
  out += labels;
  if (!labels.empty() && !extra.empty()) out += ',';
  out += extra;
  out += '}';
  return out;
}

}  // namespace

void MetricsRegistry::counter_add(std::string_view name, std::string_view labels, double delta) {
  std::lock_guard lock(mu_);
  auto& s = counters_[std::string(name)];
  s[std::string(labels)] += delta;
}

void MetricsRegistry::gauge_set(std::string_view name, std::string_view labels, double value) {
  std::lock_guard lock(mu_);
  gauges_[std::string(name)][std::string(labels)] = value;
}

void MetricsRegistry::observe(std::string_view name, std::string_view labels, double value) {
  std::lock_guard lock(mu_);
  auto& h = histograms_[std::string(name)][std::string(labels)];
  if (h.buckets.empty()) h.buckets.assign(kBuckets.size(), 0);
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (value <= kBuckets[i]) {
      ++h.buckets[i];
      break;
    }
  }
  ++h.count;
  h.sum += value;
}

std::string MetricsRegistry::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, s] : counters_) {
    out += "# TYPE " + name + " counter\n";
    for (const auto& [labels, v] : s) out += series(name, labels) + " " + number(v) + "\n";
  }
  for (const auto& [name, s] : gauges_) {
    out += "# TYPE " + name + " gauge\n";
    for (const auto& [labels, v] : s) out += series(name, labels) + " " + number(v) + "\n";
  }
  for (const auto& [name, s] : histograms_) {
    out += "# TYPE " + name + " histogram\n";
    for (const auto& [labels, h] : s) {
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < kBuckets.size(); ++i) {
        cumulative += h.buckets[i];
        out += series(name + "_bucket", labels, "le=\"" + number(kBuckets[i]) + "\"") + " " +
               std::to_string(cumulative) + "\n";
      }
      out += series(name + "_bucket", labels, "le=\"+Inf\"") + " " + std::to_string(h.count) + "\n";
      out += series(name + "_sum", labels) + " " + number(h.sum) + "\n";
      out += series(name + "_count", labels) + " " + std::to_string(h.count) + "\n";
    }
  }
  return out;
}

}  // namespace ctxmgr::kernel
