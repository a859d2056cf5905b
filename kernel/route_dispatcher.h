// The engine's Dispatcher in the server: normalizes the path, asks the
// generation's router (the request host's routes, then the unscoped ones),
// and calls the route's handler, a configured 404/405 fallback, or renders metrics.
// Answers 501 for a method no route implements and "OPTIONS *" itself.
#pragma once

#include "generation.h"
#include "http/dispatcher.h"

#include <string>
#include <vector>

namespace axle {

class Worker;

class RouteDispatcher final : public http::Dispatcher {
 public:
  // worker: the handle handlers see; handler_ctx: per handler slot, this
  // worker's thread contexts. Both outlive the dispatcher.
  RouteDispatcher(const Generation &gen, Worker &worker, const std::vector<void *> &handler_ctx);

  http::DispatchResult dispatch(const http::DispatchInput &in, http::Response &resp) override;
  bool streams_body(const axle_request_head_t &head) override;

  static constexpr uint32_t kMaxParams = 33;  // routers allow 32 {params} plus "*"

 private:
  // One table's answer; a HEAD that only GET routes accept is matched as GET.
  axle_route_result_t match_in(const void *table, uint32_t method, axle_str_t path, axle_route_match_t &match) const;

  const Generation &gen_;
  // "OPTIONS *": the server's own answer, 200 with Allow listing what it implements.
  http::DispatchResult answer_options_asterisk(http::Response &resp) const;
  // The route a head goes to: found, or the error to answer (status 400, 404, 405, 501);
  // scope: the request host's routes, or null (the unscoped ones).
  axle_route_result_t route(const axle_request_head_t &head, uint32_t method, axle_route_match_t &match,
                            uint16_t &error_status, const HostRoutes::Scope *&scope);
  // An extension method (AXLE_METHOD_OTHER) found, or a 405 whose path has a
  // route with extension methods: whether the route names this one, and the
  // Allow field (allow_names_) for a 405. Only on that rare path.
  axle_route_result_t settle_extension(axle_str_t method, const void *table, axle_str_t path,
                                       axle_route_result_t found, axle_route_match_t &match);

  Worker &worker_;
  const std::vector<void *> &handler_ctx_;
  const void *unscoped_table_;  // the generation's, copied so the plain path reads no more than before
  const bool scoped_;           // some route has a host: look the request's up
  const uint32_t implemented_;  // HostRoutes::implemented(): other methods get 501
  std::string path_;  // scratch: the normalized path
  std::string_view allow_names_;  // scratch: a 405's extension methods (the generation's routes own the text)
  axle_route_param_t params_[kMaxParams];
  char host_[kMaxRoutingHostBytes];  // scratch: the request host, lowercased
};

}  // namespace axle
