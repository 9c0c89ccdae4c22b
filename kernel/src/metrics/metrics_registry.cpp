#include "metrics/metrics_registry.hpp"

#include <charconv>
#include <mutex>

namespace ctxmgr::kernel {

namespace {

// The shortest fixed-point text that reads back to the same double (0.0005, not 5e-04).
std::string number(double v) {
  char buf[400];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  return ec == std::errc() ? std::string(buf, end) : std::string("NaN");
}

std::string series_name(std::string_view name, std::string_view labels,
                        std::string_view extra = {}) {
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

MetricsRegistry::Series& MetricsRegistry::series(std::string_view name, std::string_view labels,
                                                 Type type) {
  {
    std::shared_lock lock(mu_);
    if (auto f = families_.find(name); f != families_.end()) {
      if (auto s = f->second.series.find(labels); s != f->second.series.end()) return *s->second;
    }
  }
  std::unique_lock lock(mu_);
  auto f = families_.find(name);
  if (f == families_.end()) f = families_.emplace(std::string(name), Family{type, {}}).first;
  auto& slot = f->second.series[std::string(labels)];
  if (!slot) slot = std::make_unique<Series>();
  return *slot;
}

void MetricsRegistry::counter_add(std::string_view name, std::string_view labels, double delta) {
  series(name, labels, Type::counter).value.fetch_add(delta, std::memory_order_relaxed);
}

void MetricsRegistry::gauge_set(std::string_view name, std::string_view labels, double value) {
  series(name, labels, Type::gauge).value.store(value, std::memory_order_relaxed);
}

void MetricsRegistry::observe(std::string_view name, std::string_view labels, double value) {
  Series& s = series(name, labels, Type::histogram);
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (value <= kBuckets[i]) {
      s.buckets[i].fetch_add(1, std::memory_order_relaxed);
      break;
    }
  }
  s.count.fetch_add(1, std::memory_order_relaxed);
  s.sum.fetch_add(value, std::memory_order_relaxed);
}

std::string MetricsRegistry::render() const {
  std::shared_lock lock(mu_);
  std::string out;
  for (const auto& [name, family] : families_) {
    const char* type = family.type == Type::counter ? "counter"
                       : family.type == Type::gauge ? "gauge"
                                                    : "histogram";
    out += "# TYPE " + name + " " + type + "\n";
    for (const auto& [labels, s] : family.series) {
      if (family.type != Type::histogram) {
        out += series_name(name, labels) + " " + number(s->value.load()) + "\n";
        continue;
      }
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < kBuckets.size(); ++i) {
        cumulative += s->buckets[i].load();
        out += series_name(name + "_bucket", labels, "le=\"" + number(kBuckets[i]) + "\"") + " " +
               std::to_string(cumulative) + "\n";
      }
      out += series_name(name + "_bucket", labels, "le=\"+Inf\"") + " " +
             std::to_string(s->count.load()) + "\n";
      out += series_name(name + "_sum", labels) + " " + number(s->sum.load()) + "\n";
      out += series_name(name + "_count", labels) + " " + std::to_string(s->count.load()) + "\n";
    }
  }
  return out;
}

}  // namespace ctxmgr::kernel
