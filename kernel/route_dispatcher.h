// The engine's Dispatcher in the server: normalizes the path, asks the
// generation's router, and calls the route's handler (or renders metrics).
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
  const Generation &gen_;
  // The route a head goes to: found, or the error to answer (status 400, 404, 405).
  axle_route_result_t route(const axle_request_head_t &head, uint32_t method, axle_route_match_t &match,
                            uint16_t &error_status);

  Worker &worker_;
  bool any_stream_routes_ = false;
  const std::vector<void *> &handler_ctx_;
  std::string path_;  // scratch: the normalized path
  axle_route_param_t params_[kMaxParams];
};

}  // namespace axle
