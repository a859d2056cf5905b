#include "route_dispatcher.h"

#include "http/error_response.h"
#include "http/request_path.h"
#include "worker.h"  // Generation's inline members need the complete Worker

#include <spdlog/spdlog.h>

#include <cstring>

namespace axle {
namespace {

uint32_t method_bit(axle_str_t m) {
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

RouteDispatcher::RouteDispatcher(const Generation &gen, axle_worker_t *worker, const std::vector<void *> &handler_ctx)
    : gen_(gen),
      worker_(worker),
      handler_ctx_(handler_ctx),
      unscoped_table_(gen.host_routes.unscoped().table),
      scoped_(gen.host_routes.scoped()) {
  path_.reserve(256);
}

http::DispatchResult RouteDispatcher::dispatch(const axle_request_head_t &head, std::string_view body,
                                               http::Response &resp) {
  http::DispatchResult result;
  result.route_id = AXLE_ROUTE_NONE;
  if (!http::normalize_request_path({head.path.ptr, head.path.len}, path_)) {
    result.error_status = 400;
    return result;
  }
  uint32_t method = method_bit(head.method);
  axle_route_match_t match{};
  match.struct_size = sizeof match;
  match.params = params_;
  match.param_capacity = kMaxParams;
  axle_str_t path{path_.data(), path_.size()};
  // The request host's routes first; what they do not know (404), the
  // unscoped routes answer. Configs without host scopes skip this.
  const HostRoutes &routes = gen_.host_routes;
  const HostRoutes::Scope *scope = nullptr;
  axle_route_result_t found = AXLE_ROUTE_NOT_FOUND;
  if (scoped_ && (scope = routes.find(request_host(head, host_)))) found = match_in(scope->table, method, path, match);
  if (found == AXLE_ROUTE_NOT_FOUND) found = match_in(unscoped_table_, method, path, match);
  if (found != AXLE_ROUTE_FOUND) [[unlikely]] {
    uint16_t status = found == AXLE_ROUTE_NOT_FOUND ? 404 : 405;
    uint32_t allow = found == AXLE_ROUTE_NOT_FOUND ? 0 : match.allowed_methods;
    match.route_id = routes.fallback(scope, status);
    if (match.route_id == AXLE_ROUTE_NONE) {
      result.error_status = status;
      result.allow = allow;
      return result;
    }
    // A configured fallback answers instead, from this preset (it may change it).
    resp.status = status;
    if (allow) {
      char line[sizeof "Allow: \r\n" + http::kAllowMaxBytes];
      char *end = http::write_allow(line + 7, allow);
      std::memcpy(line, "Allow: ", 7);
      std::memcpy(end, "\r\n", 2);
      resp.header_lines.append(line, static_cast<size_t>(end + 2 - line));
    }
    match.param_count = 0;
  }
  result.route_id = match.route_id;
  const RouteEntry &route = gen_.routes[match.route_id];
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
    req.body = {body.data(), body.size()};
    req.worker = worker_;
    status = route.handler->handle(route.route_state, handler_ctx_[route.handler_slot], &req, &resp);
  }
  if (status != AXLE_OK) {
    spdlog::error("handler '{}' for route {} failed with status {}", route.handler_name, route.pattern,
                  static_cast<int>(status));
    result.error_status = 500;
  }
  return result;
}

}  // namespace axle
