#include "route_dispatcher.h"

#include "connection.h"
#include "http/error_response.h"
#include "http/request_path.h"
#include "worker.h"  // Generation's inline members need the complete Worker

#include <spdlog/spdlog.h>

#include <cstring>

namespace axle {
namespace {

[[gnu::always_inline]] inline uint32_t method_bit(axle_str_t m) {
  std::string_view s(m.ptr, m.len);
  if (s == "GET") return AXLE_METHOD_GET;
  if (s == "HEAD") return AXLE_METHOD_HEAD;
  if (s == "POST") return AXLE_METHOD_POST;
  if (s == "PUT") return AXLE_METHOD_PUT;
  if (s == "DELETE") return AXLE_METHOD_DELETE;
  if (s == "PATCH") return AXLE_METHOD_PATCH;
  if (s == "OPTIONS") return AXLE_METHOD_OPTIONS;
  return AXLE_METHOD_OTHER;
}

}  // namespace

inline axle_route_result_t RouteDispatcher::match_in(const void *table, uint32_t method, axle_str_t path,
                                                     axle_route_match_t &match) const {
  if (!table) return AXLE_ROUTE_NOT_FOUND;
  match.param_count = 0;
  axle_route_result_t found = gen_.router_vt->match(table, method, path, &match);
  if (found == AXLE_ROUTE_METHOD_NOT_ALLOWED && method == AXLE_METHOD_HEAD &&
      (match.allowed_methods & AXLE_METHOD_GET)) {
    match.param_count = 0;  // HEAD is served wherever GET is
    found = gen_.router_vt->match(table, AXLE_METHOD_GET, path, &match);
  }
  return found;
}

RouteDispatcher::RouteDispatcher(const Generation &gen, Worker &worker, const std::vector<void *> &handler_ctx)
    : gen_(gen),
      worker_(worker),
      handler_ctx_(handler_ctx),
      unscoped_table_(gen.host_routes.unscoped().table),
      scoped_(gen.host_routes.scoped()) {
  path_.reserve(256);
}

// Inline in both callers: it is most of a request's dispatch.
[[gnu::always_inline]] inline axle_route_result_t RouteDispatcher::route(const axle_request_head_t &head,
                                                                         uint32_t method, axle_route_match_t &match,
                                                                         uint16_t &error_status,
                                                                         const HostRoutes::Scope *&scope) {
  scope = nullptr;
  if (!http::normalize_request_path({head.path.ptr, head.path.len}, path_)) {
    error_status = 400;
    return AXLE_ROUTE_NOT_FOUND;
  }
  match = {};
  match.struct_size = sizeof match;
  match.params = params_;
  match.param_capacity = kMaxParams;
  axle_str_t path{path_.data(), path_.size()};
  // The request host's routes first; what they do not know (404), the
  // unscoped routes answer. Configs without host scopes skip this.
  axle_route_result_t found = AXLE_ROUTE_NOT_FOUND;
  if (scoped_ && (scope = gen_.host_routes.find(request_host(head, host_))))
    found = match_in(scope->table, method, path, match);
  if (found == AXLE_ROUTE_NOT_FOUND) found = match_in(unscoped_table_, method, path, match);
  if (found == AXLE_ROUTE_NOT_FOUND) error_status = 404;
  if (found == AXLE_ROUTE_METHOD_NOT_ALLOWED) error_status = 405;
  return found;
}

bool RouteDispatcher::streams_body(const axle_request_head_t &head) {
  axle_route_match_t match;
  uint16_t error_status = 0;
  const HostRoutes::Scope *scope;
  // A 404/405 fallback never streams (the config refuses stream_body there).
  if (route(head, method_bit(head.method), match, error_status, scope) != AXLE_ROUTE_FOUND) return false;
  return gen_.routes[match.route_id].stream_body;
}

http::DispatchResult RouteDispatcher::dispatch(const http::DispatchInput &in, http::Response &resp) {
  const axle_request_head_t &head = in.head;
  http::DispatchResult result;
  result.route_id = AXLE_ROUTE_NONE;
  uint32_t method = method_bit(head.method);
  axle_route_match_t match;
  const HostRoutes::Scope *scope;
  if (route(head, method, match, result.error_status, scope) != AXLE_ROUTE_FOUND) [[unlikely]] {
    if (result.error_status == 405) result.allow = match.allowed_methods;
    if (result.error_status == 400) return result;
    match.route_id = gen_.host_routes.fallback(scope, result.error_status);
    if (match.route_id == AXLE_ROUTE_NONE) return result;
    // A configured fallback answers instead, from this preset (it may change it).
    resp.status = result.error_status;
    if (result.allow) {
      char line[sizeof "Allow: \r\n" + http::kAllowMaxBytes];
      char *end = http::write_allow(line + 7, result.allow);
      std::memcpy(line, "Allow: ", 7);
      std::memcpy(end, "\r\n", 2);
      resp.header_lines.append(line, static_cast<size_t>(end + 2 - line));
    }
    result.error_status = 0;
    result.allow = 0;
    match.param_count = 0;
  }
  axle_str_t path{path_.data(), path_.size()};
  result.route_id = match.route_id;
  const RouteEntry &route = gen_.routes[match.route_id];
  if (in.engine.reserve() && route.handler) {
    result.error_status = 503;  // over max_connections: the reserve is for /metrics only
    return result;
  }
  axle_status_t status;
  if (!route.handler) {
    status = gen_.metrics_vt->render(gen_.metrics.instance, &resp);
  } else {
    axle_request_t req{};
    req.struct_size = sizeof req;
    req.method = head.method;
    req.method_bit = method;
    req.target = head.target;
    req.path = path;
    req.query = head.query;
    req.version_minor = head.version_minor;
    req.headers = head.headers;
    req.header_count = head.header_count;
    req.params = match.params;
    req.param_count = match.param_count;
    req.body = {in.body.data(), in.body.size()};
    req.worker = &worker_;
    req.request_id = (uint64_t{worker_.index} << 48) | (++worker_.next_request_id & 0xffffffffffffu);
    // Bodies on a streaming route always stream (Dispatcher::streams_body);
    // a request without one still says so, and its handler gets an empty last.
    result.empty_stream = route.stream_body && !in.stream_body;
    req.flags = route.stream_body ? AXLE_REQUEST_BODY_STREAM : 0u;
    worker_.dispatching = {&in.engine, match.route_id, false};
    status = route.handler->handle(route.route_state, handler_ctx_[route.handler_slot], &req, &resp);
    bool kept = worker_.dispatching.kept;
    worker_.dispatching.engine = nullptr;  // outside handle() again
    if (kept) {
      // From response_keep on, the module answers through the kept handle;
      // a failure after keeping is answered 500 once the engine aborted it.
      result.kept = true;
      if (status != AXLE_PENDING && status != AXLE_OK) {
        spdlog::error("handler '{}' for route {} failed with status {} after keeping its response",
                      route.handler_name, route.pattern, static_cast<int>(status));
        result.error_status = 500;
      }
      return result;
    }
    if (status == AXLE_PENDING) {
      spdlog::error("handler '{}' for route {} returned pending without response_keep", route.handler_name,
                    route.pattern);
      status = AXLE_ERR_INTERNAL;
    }
  }
  if (status != AXLE_OK) {
    spdlog::error("handler '{}' for route {} failed with status {}", route.handler_name, route.pattern,
                  static_cast<int>(status));
    result.error_status = 500;
  }
  return result;
}

}  // namespace axle
