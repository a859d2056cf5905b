// The engine's one call out to the rest of the server: route a parsed
// request and let its handler fill the worker's Response. The engine knows
// nothing of routers, handlers or modules beyond this.
#pragma once

#include "http/response.h"

#include <axle/parser.h>

#include <cstdint>
#include <string_view>

namespace axle::http {

struct DispatchResult {
  uint16_t error_status = 0;  // non-zero: no handler answered; the engine sends this error
  uint32_t allow = 0;         // 405: AXLE_METHOD_* bits of the Allow field
  uint32_t route_id = 0;      // AXLE_ROUTE_NONE when no route matched
};

class Dispatcher {
 public:
  // head: slices valid for the call; body: the whole decoded body.
  virtual DispatchResult dispatch(const axle_request_head_t &head, std::string_view body, Response &resp) = 0;

 protected:
  ~Dispatcher() = default;
};

// What the engine reports for metrics and the access log. `conn` is the
// opaque pointer the connection glue gave the engine.
class Observer {
 public:
  virtual void request_done(void *conn, const struct RequestRecord &rec) = 0;
  virtual void parse_error(uint16_t status) = 0;
  virtual void timeout(uint8_t axle_timeout_kind) = 0;

 protected:
  ~Observer() = default;
};

}  // namespace axle::http
