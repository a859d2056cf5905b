#include "route_dispatcher.h"

#include "http/request_path.h"
#include "worker.h"  // Generation's inline members need the complete Worker

#include <spdlog/spdlog.h>

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

RouteDispatcher::RouteDispatcher(const Generation &gen, axle_worker_t *worker, const std::vector<void *> &handler_ctx)
    : gen_(gen), worker_(worker), handler_ctx_(handler_ctx) {
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
  axle_route_result_t found = gen_.router_vt->match(gen_.router_table, method, path, &match);
  if (found == AXLE_ROUTE_METHOD_NOT_ALLOWED && method == AXLE_METHOD_HEAD &&
      (match.allowed_methods & AXLE_METHOD_GET)) {
    match.param_count = 0;  // HEAD is served wherever GET is
    found = gen_.router_vt->match(gen_.router_table, AXLE_METHOD_GET, path, &match);
  }
  if (found == AXLE_ROUTE_NOT_FOUND) {
    result.error_status = 404;
    return result;
  }
  if (found == AXLE_ROUTE_METHOD_NOT_ALLOWED) {
    result.error_status = 405;
    result.allow = match.allowed_methods;
    return result;
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
