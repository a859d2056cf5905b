// What one module instance (one generation) holds: its upstream groups and
// metrics; and what one of its routes holds. Read-only once built, shared by
// every worker.
#pragma once

#include "upstream_config.h"

#include <axle/module.h>

#include <string>
#include <vector>

namespace axle::proxy {

struct Metrics {
  axle_metric_t *requests = nullptr;         // axle_proxy_requests_total
  axle_metric_t *failures = nullptr;         // axle_proxy_upstream_failures_total
  axle_metric_t *retries = nullptr;          // axle_proxy_retries_total
  axle_metric_t *generated_5xx = nullptr;    // axle_proxy_responses_5xx_generated_total
  axle_metric_t *connects = nullptr;         // axle_proxy_upstream_connects_total
  axle_metric_t *pool_idle = nullptr;        // axle_proxy_pool_idle (gauge)
};

struct Instance {
  const axle_host_api_t *api;
  const axle_config_t *cfg;  // the module's options: logging and metric registration
  std::vector<UpstreamConfig> upstreams;
  Metrics metrics;
};

struct Route {
  const Instance *instance;
  RouteSettings settings;
};

// Adds delta to a metric that may have been refused at registration.
inline void bump(const axle_host_api_t *api, axle_metric_t *m, int64_t delta = 1) {
  if (m) api->metric_add(m, delta);
}

}  // namespace axle::proxy
