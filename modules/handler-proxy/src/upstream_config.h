// The proxy's configuration, read once per generation off the request path:
// the upstream groups ([module.proxy.upstream.NAME]) and each route's keys.
#pragma once

#include "balancer.h"
#include "health.h"

#include <axle/module.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace axle::proxy {

inline constexpr size_t max_servers = 64;  // the balancer's `tried` mask has 64 bits

struct UpstreamConfig {
  std::string name;
  std::vector<ServerSpec> servers;
  std::vector<axle_address_t> addresses;  // same order as servers
  Policy policy = Policy::round_robin;
  std::string hash_header;  // Policy::hash: header to hash; empty = the path
  uint32_t pool_max_idle = 32;
  uint64_t pool_idle_timeout_ms = 60000;
  HealthSettings health;
  std::string health_path;  // "" = no active checks
  uint64_t health_interval_ms = 2000;
  uint64_t health_timeout_ms = 1000;
  unsigned health_status = 200;
  uint32_t retry_budget_percent = 20;
  uint32_t retry_min_per_second = 3;
};

struct RouteSettings {
  size_t upstream = 0;  // index into the instance's upstreams
  std::string prefix;   // the pattern's literal prefix (for rewrite)
  std::string rewrite;
  std::string host_header;
  uint64_t connect_timeout_ms = 1000;
  uint64_t first_byte_timeout_ms = 30000;
  uint64_t idle_timeout_ms = 60000;
  uint32_t retries = 2;
  uint64_t retry_body_bytes = 65536;
};

// "HOST:PORT" or "[V6]:PORT" with a literal address, then optionally
// " weight=N" (1..256). False with `why` set when malformed.
bool parse_server(std::string_view text, ServerSpec &spec, axle_address_t &address, std::string &why);

// Every upstream section of the module's options. Throws sdk::Error naming
// the key's config position on a bad value.
std::vector<UpstreamConfig> read_upstreams(const axle_host_api_t *api, const axle_config_t *module_cfg);

// One [[route]]'s keys; `upstream` must name one of `upstreams`.
RouteSettings read_route(const axle_host_api_t *api, const axle_config_t *route_cfg, std::string_view pattern,
                         const std::vector<UpstreamConfig> &upstreams);

}  // namespace axle::proxy
