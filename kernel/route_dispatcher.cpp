#include "route_dispatcher.h"

#include "connection.h"
#include "http/error_response.h"
#include "http/request_path.h"
#include "worker.h"  // Generation's inline members need the complete Worker

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <string>

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

// An Allow header line for a response a route or the server itself answers.
void append_allow(http::Response &resp, const http::Allow &allow) {
  std::string line(sizeof "Allow: \r\n" + http::kAllowMaxBytes + 2 + allow.extension_names.size(), '\0');
  std::memcpy(line.data(), "Allow: ", 7);
  char *end = http::write_allow(line.data() + 7, allow);
  std::memcpy(end, "\r\n", 2);
  resp.header_lines.append(line.data(), static_cast<size_t>(end + 2 - line.data()));
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
      scoped_(gen.host_routes.scoped()),
      implemented_(gen.host_routes.implemented()) {
  path_.reserve(256);
}

// Inline in both callers: it is most of a request's dispatch.
[[gnu::always_inline]] inline axle_route_result_t RouteDispatcher::route(const axle_request_head_t &head,
                                                                         uint32_t method, axle_route_match_t &match,
                                                                         uint16_t &error_status,
                                                                         const HostRoutes::Scope *&scope) {
  scope = nullptr;
  allow_names_ = {};
  if (!(method & implemented_) || (method == AXLE_METHOD_OTHER &&
                                   !gen_.host_routes.implements_extension({head.method.ptr, head.method.len})))
      [[unlikely]] {  // RFC 9110 9.1: not 405, no resource has it
    error_status = 501;
    return AXLE_ROUTE_NOT_FOUND;
  }
  // "*" (asterisk-form) is only for a server-wide OPTIONS (answered in
  // dispatch): with any other method it does not decode as a path, 400.
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
  const void *table = nullptr;
  if (scoped_ && (scope = gen_.host_routes.find(request_host(head, host_)))) {
    table = scope->table;
    found = match_in(table, method, path, match);
  }
  if (found == AXLE_ROUTE_NOT_FOUND) {
    table = unscoped_table_;
    found = match_in(table, method, path, match);
  }
  if (method == AXLE_METHOD_OTHER ||
      (found == AXLE_ROUTE_METHOD_NOT_ALLOWED && (match.allowed_methods & AXLE_METHOD_OTHER))) [[unlikely]]
    found = settle_extension(head.method, table, path, found, match);
  if (found == AXLE_ROUTE_NOT_FOUND) error_status = 404;
  if (found == AXLE_ROUTE_METHOD_NOT_ALLOWED) error_status = 405;
  return found;
}

axle_route_result_t RouteDispatcher::settle_extension(axle_str_t method, const void *table, axle_str_t path,
                                                      axle_route_result_t found, axle_route_match_t &match) {
  // The router knows one bit for every extension method, so at most one
  // route per path has them (overlapping methods are refused at build).
  auto names_method = [&](const RouteEntry &r) {
    return r.extension_methods.empty() ||
           std::find(r.extension_methods.begin(), r.extension_methods.end(),
                     std::string_view(method.ptr, method.len)) != r.extension_methods.end();
  };
  if (found == AXLE_ROUTE_FOUND && names_method(gen_.routes[match.route_id])) return found;
  axle_route_match_t probe = match;
  uint32_t extension_route = AXLE_ROUTE_NONE;
  if (found == AXLE_ROUTE_FOUND) {
    // Its route names other extension methods: the path's Allow is every
    // standard method some route of it takes, and that route's names.
    extension_route = match.route_id;
    match.allowed_methods = 0;
    for (uint32_t bit = AXLE_METHOD_GET; bit < AXLE_METHOD_OTHER; bit <<= 1)
      if (match_in(table, bit, path, probe) == AXLE_ROUTE_FOUND) match.allowed_methods |= bit;
  } else if (found == AXLE_ROUTE_METHOD_NOT_ALLOWED &&
             match_in(table, AXLE_METHOD_OTHER, path, probe) == AXLE_ROUTE_FOUND) {
    extension_route = probe.route_id;
  }
  if (extension_route != AXLE_ROUTE_NONE) allow_names_ = gen_.routes[extension_route].allow_names;
  return found == AXLE_ROUTE_NOT_FOUND ? found : AXLE_ROUTE_METHOD_NOT_ALLOWED;
}

bool RouteDispatcher::streams_body(const axle_request_head_t &head) {
  axle_route_match_t match;
  uint16_t error_status = 0;
  const HostRoutes::Scope *scope;
  // A 404/405 fallback never streams (the config refuses stream_body there).
  if (route(head, method_bit(head.method), match, error_status, scope) != AXLE_ROUTE_FOUND) return false;
  return gen_.routes[match.route_id].stream_body;
}

http::DispatchResult RouteDispatcher::answer_options_asterisk(http::Response &resp) const {
  // RFC 9110 9.3.7: about the server, not a resource. A body, if any, was
  // framed and read like any other and is ignored.
  resp.status = 200;
  append_allow(resp, http::Allow(implemented_, gen_.host_routes.extension_names()));
  http::DispatchResult result;
  result.route_id = AXLE_ROUTE_NONE;
  return result;
}

http::DispatchResult RouteDispatcher::dispatch(const http::DispatchInput &in, http::Response &resp) {
  const axle_request_head_t &head = in.head;
  uint32_t method = method_bit(head.method);
  // The parser lets "*" through only as the whole target.
  if (head.target.len == 1 && head.target.ptr[0] == '*' && method == AXLE_METHOD_OPTIONS) [[unlikely]]
    return answer_options_asterisk(resp);
  http::DispatchResult result;
  result.route_id = AXLE_ROUTE_NONE;
  axle_route_match_t match;
  const HostRoutes::Scope *scope;
  if (route(head, method, match, result.error_status, scope) != AXLE_ROUTE_FOUND) [[unlikely]] {
    if (result.error_status == 405) result.allow = http::Allow(match.allowed_methods, allow_names_);
    if (result.error_status == 400 || result.error_status == 501) return result;  // no fallback answers these
    match.route_id = gen_.host_routes.fallback(scope, result.error_status);
    if (match.route_id == AXLE_ROUTE_NONE) return result;
    // A configured fallback answers instead, from this preset (it may change it).
    resp.status = result.error_status;
    if (!result.allow.empty()) append_allow(resp, result.allow);
    result.error_status = 0;
    result.allow = {};
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
    req.flags = route.stream_body ? uint32_t{AXLE_REQUEST_BODY_STREAM} : 0u;
    if (static_cast<const Connection *>(in.engine.conn())->secure()) req.flags |= AXLE_REQUEST_SECURE;
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
