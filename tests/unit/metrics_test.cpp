#include <gtest/gtest.h>

#include "metrics/metrics_registry.hpp"

TEST(Metrics, RendersPrometheusText) {
  ctxmgr::kernel::MetricsRegistry m;
  m.counter_add("ctxmgr_requests_total", "route=\"get\"", 1);
  m.counter_add("ctxmgr_requests_total", "route=\"get\"", 2);
  m.gauge_set("ctxmgr_connections", "", 7);
  m.observe("ctxmgr_latency_seconds", "", 0.0003);
  m.observe("ctxmgr_latency_seconds", "", 20);
  const std::string text = m.render();
  EXPECT_NE(text.find("# TYPE ctxmgr_requests_total counter\nctxmgr_requests_total{route=\"get\"} 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("ctxmgr_connections 7\n"), std::string::npos) << text;
  EXPECT_NE(text.find("ctxmgr_latency_seconds_bucket{le=\"0.0005\"} 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("ctxmgr_latency_seconds_bucket{le=\"+Inf\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("ctxmgr_latency_seconds_count 2\n"), std::string::npos) << text;
}
