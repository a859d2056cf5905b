#include "upstream_config.h"

#include "rewrite.h"

#include <axle/sdk/config.hpp>
#include <axle/sdk/error.hpp>

#include <arpa/inet.h>

#include <charconv>

namespace axle::proxy {

namespace {

bool parse_uint(std::string_view text, uint64_t max, uint64_t &out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && out <= max;
}

// Where a key was written, for error messages ("FILE:LINE: path.key").
std::string where(const axle_host_api_t *api, const axle_config_t *cfg, const char *key) {
  const char *pos = api->config_position ? api->config_position(cfg, key) : nullptr;
  return pos ? std::string(pos) : std::string(key ? key : "config");
}

[[noreturn]] void refuse(const axle_host_api_t *api, const axle_config_t *cfg, const char *key,
                         const std::string &why) {
  throw sdk::Error(AXLE_ERR_INVALID, where(api, cfg, key) + ": " + why);
}

uint64_t int_in(const axle_host_api_t *api, const axle_config_t *cfg, const char *key, int64_t lo, int64_t hi) {
  int64_t v = sdk::Config(api, cfg).get<int64_t>(key);
  if (v < lo || v > hi)
    refuse(api, cfg, key, std::string(key) + " must be in " + std::to_string(lo) + ".." + std::to_string(hi));
  return static_cast<uint64_t>(v);
}

UpstreamConfig read_upstream(const axle_host_api_t *api, std::string_view name, const axle_config_t *cfg) {
  UpstreamConfig up;
  up.name = std::string(name);
  const axle_str_t *items = nullptr;
  size_t count = 0;
  sdk::check(api->config_get_string_list(cfg, "servers", &items, &count), "servers is not a string list");
  if (count == 0 || count > max_servers) refuse(api, cfg, "servers", "servers must list 1..64 entries");
  for (size_t i = 0; i < count; ++i) {
    ServerSpec spec;
    axle_address_t addr{};
    std::string why;
    if (!parse_server(std::string_view(items[i].ptr, items[i].len), spec, addr, why))
      refuse(api, cfg, "servers", "entry " + std::to_string(i + 1) + ": " + why);
    up.servers.push_back(std::move(spec));
    up.addresses.push_back(addr);
  }
  sdk::Config c(api, cfg);
  auto balance = c.get<std::string>("balance");
  if (balance == "round_robin") up.policy = Policy::round_robin;
  else if (balance == "least_outstanding") up.policy = Policy::least_outstanding;
  else if (balance == "hash") up.policy = Policy::hash;
  else refuse(api, cfg, "balance", "balance must be round_robin, least_outstanding or hash");
  auto key = c.get<std::string>("hash_key");
  if (key.rfind("header:", 0) == 0 && key.size() > 7) up.hash_header = key.substr(7);
  else if (key != "path") refuse(api, cfg, "hash_key", "hash_key must be \"path\" or \"header:NAME\"");
  up.pool_max_idle = static_cast<uint32_t>(int_in(api, cfg, "pool_max_idle", 0, 4096));
  up.pool_idle_timeout_ms = int_in(api, cfg, "pool_idle_timeout_ms", 1, 86400000);
  up.health.max_fails = static_cast<uint32_t>(int_in(api, cfg, "max_fails", 0, 1000));
  up.health.eject_ms = int_in(api, cfg, "eject_ms", 1, 3600000);
  up.health.eject_max_ms = int_in(api, cfg, "eject_max_ms", 1, 86400000);
  if (up.health.eject_max_ms < up.health.eject_ms) refuse(api, cfg, "eject_max_ms", "eject_max_ms must be >= eject_ms");
  up.health_path = c.get<std::string>("health_path");
  if (!up.health_path.empty() && up.health_path[0] != '/') refuse(api, cfg, "health_path", "health_path must start with '/'");
  up.health_interval_ms = int_in(api, cfg, "health_interval_ms", 10, 3600000);
  up.health_timeout_ms = int_in(api, cfg, "health_timeout_ms", 1, 3600000);
  up.health_status = static_cast<unsigned>(int_in(api, cfg, "health_status", 100, 599));
  up.health.rise = static_cast<uint32_t>(int_in(api, cfg, "rise", 1, 100));
  up.health.fall = static_cast<uint32_t>(int_in(api, cfg, "fall", 1, 100));
  up.health.active = !up.health_path.empty();
  up.retry_budget_percent = static_cast<uint32_t>(int_in(api, cfg, "retry_budget_percent", 0, 100));
  up.retry_min_per_second = static_cast<uint32_t>(int_in(api, cfg, "retry_min_per_second", 0, 100000));
  return up;
}

}  // namespace

bool parse_server(std::string_view text, ServerSpec &spec, axle_address_t &address, std::string &why) {
  std::string_view hostport = text.substr(0, text.find(' '));
  std::string_view rest = text.substr(hostport.size());
  spec.text = std::string(hostport);
  spec.weight = 1;
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  if (!rest.empty()) {
    uint64_t w = 0;
    if (rest.rfind("weight=", 0) != 0 || !parse_uint(rest.substr(7), 256, w) || w == 0) {
      why = "\"" + std::string(text) + "\": after the address only \" weight=N\" (1..256) may follow";
      return false;
    }
    spec.weight = static_cast<uint32_t>(w);
  }
  std::string host;
  std::string_view port_text;
  if (!hostport.empty() && hostport.front() == '[') {
    size_t close = hostport.find(']');
    if (close == std::string_view::npos || close + 1 >= hostport.size() || hostport[close + 1] != ':') {
      why = "\"" + std::string(text) + "\": expected [IPV6]:PORT";
      return false;
    }
    host = std::string(hostport.substr(1, close - 1));
    port_text = hostport.substr(close + 2);
  } else {
    size_t colon = hostport.rfind(':');
    if (colon == std::string_view::npos) {
      why = "\"" + std::string(text) + "\": expected HOST:PORT";
      return false;
    }
    host = std::string(hostport.substr(0, colon));
    port_text = hostport.substr(colon + 1);
  }
  uint64_t port = 0;
  if (!parse_uint(port_text, 65535, port) || port == 0) {
    why = "\"" + std::string(text) + "\": port must be 1..65535";
    return false;
  }
  address = axle_address_t{};
  address.struct_size = sizeof address;
  address.port = static_cast<uint16_t>(port);
  if (hostport.front() != '[' && inet_pton(AF_INET, host.c_str(), address.addr) == 1) {
    address.family = AXLE_ADDR_IPV4;
  } else if (hostport.front() == '[' && inet_pton(AF_INET6, host.c_str(), address.addr) == 1) {
    address.family = AXLE_ADDR_IPV6;
  } else {
    why = "\"" + std::string(text) + "\": the host must be a literal IPv4 address or [IPv6] address (no names)";
    return false;
  }
  return true;
}

std::vector<UpstreamConfig> read_upstreams(const axle_host_api_t *api, const axle_config_t *module_cfg) {
  std::vector<UpstreamConfig> ups;
  if (!module_cfg) return ups;
  size_t n = api->config_section_count(module_cfg, "upstream");
  for (size_t i = 0; i < n; ++i) {
    axle_str_t name{};
    const axle_config_t *table = nullptr;
    sdk::check(api->config_section_at(module_cfg, "upstream", i, &name, &table), "config_section_at failed");
    ups.push_back(read_upstream(api, std::string_view(name.ptr, name.len), table));
  }
  return ups;
}

RouteSettings read_route(const axle_host_api_t *api, const axle_config_t *cfg, std::string_view pattern,
                         const std::vector<UpstreamConfig> &upstreams) {
  RouteSettings rs;
  sdk::Config c(api, cfg);
  auto name = c.get<std::string>("upstream");
  size_t i = 0;
  while (i < upstreams.size() && upstreams[i].name != name) ++i;
  if (i == upstreams.size())
    refuse(api, cfg, "upstream", "upstream \"" + name + "\" names no [module.proxy.upstream." + name + "] table");
  rs.upstream = i;
  rs.prefix = std::string(literal_prefix(pattern));
  rs.rewrite = c.get<std::string>("rewrite");
  if (!rs.rewrite.empty() && rs.rewrite[0] != '/') refuse(api, cfg, "rewrite", "rewrite must be empty or start with '/'");
  rs.host_header = c.get<std::string>("host_header");
  for (char ch : rs.host_header)
    if (static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f) refuse(api, cfg, "host_header", "host_header has a space or control byte");
  rs.connect_timeout_ms = int_in(api, cfg, "connect_timeout_ms", 1, 3600000);
  rs.first_byte_timeout_ms = int_in(api, cfg, "first_byte_timeout_ms", 1, 86400000);
  rs.idle_timeout_ms = int_in(api, cfg, "idle_timeout_ms", 1, 86400000);
  rs.retries = static_cast<uint32_t>(int_in(api, cfg, "retries", 0, 63));
  rs.retry_body_bytes = int_in(api, cfg, "retry_body_bytes", 0, 64 * 1024 * 1024);
  return rs;
}

}  // namespace axle::proxy
