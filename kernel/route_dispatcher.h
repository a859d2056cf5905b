// The engine's Dispatcher in the server: normalizes the path, asks the
// generation's router, and calls the route's handler (or renders metrics).
#pragma once

#include "generation.h"
#include "http/dispatcher.h"

#include <string>
#include <vector>

namespace axle {

class RouteDispatcher final : public http::Dispatcher {
 public:
  // worker: the handle handlers see; handler_ctx: per handler slot, this
  // worker's thread contexts. Both outlive the dispatcher.
  RouteDispatcher(const Generation &gen, axle_worker_t *worker, const std::vector<void *> &handler_ctx);

  http::DispatchResult dispatch(const axle_request_head_t &head, std::string_view body,
                                http::Response &resp) override;

  static constexpr uint32_t kMaxParams = 33;  // routers allow 32 {params} plus "*"

 private:
  const Generation &gen_;
  axle_worker_t *worker_;
  const std::vector<void *> &handler_ctx_;
  std::string path_;  // scratch: the normalized path
  axle_route_param_t params_[kMaxParams];
};

}  // namespace axle
