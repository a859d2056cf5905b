// The `proxy` handler module: its descriptor, config tables and lifecycle.
// Written on the raw C ABI where the C++ SDK has no wrapper (thread
// contexts, config sections and string lists, protocol switch, and a
// request that waits on two event sources at once); the SDK's config,
// error and exception guard helpers are used where they fit.
#include "instance.h"
#include "proxy_request.h"
#include "upstream_config.h"
#include "worker_context.h"

#include <axle/handler.h>
#include <axle/module.h>
#include <axle/sdk/config.hpp>
#include <axle/sdk/guard.hpp>

#include <memory>
#include <string>

namespace axle::proxy {
namespace {

using sdk::int_key;
using sdk::string_key;

constexpr axle_config_key_t route_keys[] = {
    string_key("upstream", sdk::required, "Upstream group: the NAME of a [module.proxy.upstream.NAME] table"),
    string_key("rewrite", "", "Replaces the route's literal prefix (before '*') in the target; \"\" = sent as is"),
    string_key("host_header", "", "Host header sent upstream; \"\" = the client's"),
    int_key("connect_timeout_ms", "1000", "Milliseconds to connect to a server before trying the next"),
    int_key("first_byte_timeout_ms", "30000", "Milliseconds from the request's end to the response's first byte"),
    int_key("idle_timeout_ms", "60000", "Milliseconds without a byte either way before the exchange is cut"),
    int_key("retries", "2", "Extra attempts on other servers after a failure (0..63)"),
    int_key("retry_body_bytes", "65536", "Request body bytes kept so a request that was sent can be retried"),
};

constexpr axle_config_key_t upstream_keys[] = {
    {.name = "servers", .type = AXLE_CONFIG_STRING_LIST, .default_value = nullptr,
     .doc = "1..64 servers: \"IP:PORT\" or \"[IPV6]:PORT\", optionally \" weight=N\" (1..256)"},
    string_key("balance", "round_robin", "round_robin (weighted), least_outstanding or hash"),
    string_key("hash_key", "path", "For balance = hash: \"path\" or \"header:NAME\""),
    int_key("pool_max_idle", "32", "Idle keep-alive connections per worker per server"),
    int_key("pool_idle_timeout_ms", "60000", "Milliseconds an idle pooled connection is kept"),
    int_key("max_fails", "3", "Consecutive failures that eject a server (0 = never)"),
    int_key("eject_ms", "1000", "First ejection's length; doubles per ejection in a row"),
    int_key("eject_max_ms", "30000", "Longest ejection"),
    string_key("health_path", "", "Path of active health checks; \"\" = none"),
    int_key("health_interval_ms", "2000", "Milliseconds between active checks of a server"),
    int_key("health_timeout_ms", "1000", "Milliseconds an active check may take"),
    int_key("health_status", "200", "Status an active check expects"),
    int_key("rise", "2", "Passed checks that bring a down server back"),
    int_key("fall", "3", "Failed checks that take a server down"),
    int_key("retry_budget_percent", "20", "Retries allowed as a percentage of requests"),
    int_key("retry_min_per_second", "3", "Retries allowed per second whatever the percentage"),
};

constexpr axle_config_section_t sections[] = {
    {.name = "upstream", .doc = "An upstream group [module.proxy.upstream.NAME] that routes name",
     .keys = upstream_keys, .key_count = std::size(upstream_keys)},
};

void report(const axle_host_api_t *api, axle_error_t *err, const char *what) {
  sdk::detail::Message m("proxy", what);
  api->error_set(err, m.text, m.len);
}

axle_status_t create(const axle_host_api_t *api, const axle_config_t *cfg, void **out, axle_error_t *err) {
  if (!AXLE_STRUCT_HAS(api, axle_host_api_t, response_switch_protocols) || !api->config_section_count ||
      !api->config_get_string_list || !api->config_position) {
    report(api, err, "needs a host with ABI 1.3 (config sections and string lists)");
    return AXLE_ERR_UNSUPPORTED;
  }
  return sdk::detail::guarded(
      [&] {
        auto inst = std::make_unique<Instance>(Instance{api, cfg, read_upstreams(api, cfg), {}});
        auto reg = [&](axle_metric_kind_t kind, const char *name, const char *help) {
          return api->metric_register(cfg, kind, name, help, nullptr, 0, nullptr);
        };
        Metrics &m = inst->metrics;
        m.requests = reg(AXLE_METRIC_COUNTER, "axle_proxy_requests_total", "Requests the proxy took");
        m.failures = reg(AXLE_METRIC_COUNTER, "axle_proxy_upstream_failures_total",
                         "Failed upstream attempts (connect, reset, timeout, malformed, 502/503)");
        m.retries = reg(AXLE_METRIC_COUNTER, "axle_proxy_retries_total", "Attempts retried on another server");
        m.generated_5xx = reg(AXLE_METRIC_COUNTER, "axle_proxy_responses_5xx_generated_total",
                              "502/503/504 answers the proxy made itself");
        m.connects = reg(AXLE_METRIC_COUNTER, "axle_proxy_upstream_connects_total", "Connections opened to servers");
        m.pool_idle = reg(AXLE_METRIC_GAUGE, "axle_proxy_pool_idle", "Idle pooled upstream connections");
        *out = inst.release();
      },
      [&](const char *what) { report(api, err, what); });
}

void destroy(void *instance) { delete static_cast<Instance *>(instance); }

axle_status_t thread_init(void *instance, axle_worker_t *worker, void **ctx_out, axle_error_t *err) {
  auto *inst = static_cast<Instance *>(instance);
  return sdk::detail::guarded([&] { *ctx_out = new WorkerContext(*inst, worker); },
                              [&](const char *what) { report(inst->api, err, what); });
}

void thread_fini(void *, void *ctx) { delete static_cast<WorkerContext *>(ctx); }

axle_status_t route_init(void *instance, const axle_config_t *route_cfg, axle_str_t pattern, void **state_out,
                         axle_error_t *err) {
  auto *inst = static_cast<Instance *>(instance);
  return sdk::detail::guarded(
      [&] {
        std::string_view pat = pattern.len ? std::string_view(pattern.ptr, pattern.len) : std::string_view();
        *state_out = new Route{inst, read_route(inst->api, route_cfg, pat, inst->upstreams)};
      },
      [&](const char *what) { report(inst->api, err, what); });
}

void route_fini(void *, void *state) { delete static_cast<Route *>(state); }

axle_status_t handle(void *route_state, void *thread_ctx, const axle_request_t *req, axle_response_t *resp) {
  if (!thread_ctx) return AXLE_ERR_INTERNAL;
  return ProxyRequest::start(*static_cast<const Route *>(route_state), *static_cast<WorkerContext *>(thread_ctx),
                             req, resp);
}

constexpr axle_handler_vtable_t vtable = {
    .struct_size = sizeof(axle_handler_vtable_t),
    .route_init = route_init,
    .route_fini = route_fini,
    .handle = handle,
};

constexpr axle_module_descriptor_t descriptor = {
    .struct_size = sizeof(axle_module_descriptor_t),
    .abi_major = AXLE_ABI_MAJOR,
    .abi_minor = AXLE_ABI_MINOR,
    .kind = AXLE_KIND_HANDLER,
    .flags = AXLE_MODULE_FLAG_STREAM_BODY,
    .name = "proxy",
    .version = "1.0.0",
    .description = "Reverse proxy to upstream groups: pools, balancing, health, retries, streaming, WebSocket",
    .config_keys = route_keys,
    .config_key_count = std::size(route_keys),
    .create = create,
    .destroy = destroy,
    .thread_init = thread_init,
    .thread_fini = thread_fini,
    .vtable = &vtable,
    .config_sections = sections,
    .config_section_count = std::size(sections),
};

}  // namespace
}  // namespace axle::proxy

AXLE_MODULE_ENTRY { return &axle::proxy::descriptor; }
