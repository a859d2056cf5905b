// The engine's one call out to the rest of the server: route a parsed
// request and let its handler fill the worker's Response. The engine knows
// nothing of routers, handlers or modules beyond this.
#pragma once

#include "http/error_response.h"
#include "http/response.h"

#include <axle/parser.h>

#include <cstdint>
#include <string_view>

namespace axle::http {

class Engine;

struct DispatchResult {
  uint16_t error_status = 0;  // non-zero: no handler answered; the engine sends this error
  Allow allow;                // 405: the Allow field
  uint32_t route_id = 0;      // AXLE_ROUTE_NONE when no route matched
  bool kept = false;          // the handler kept the request (Engine::keep) to answer later
  bool empty_stream = false;  // a route that streams bodies got none: its handler still gets `last`
};

// A request whose handler answers later: what the engine tells it. The
// engine calls these only from its own events (never from inside one of the
// kept_* calls the handler side makes), and nothing after abort.
class KeptRequest {
 public:
  virtual void abort(uint8_t axle_abort_reason) = 0;  // the last call
  virtual void writable() = 0;                         // a refused write may be retried
  virtual void body(const char *data, size_t len, bool last) = 0;  // streamed request body
 protected:
  ~KeptRequest() = default;
};

// What the engine knows about the request it dispatches.
struct DispatchInput {
  const axle_request_head_t &head;  // slices valid for the call
  std::string_view body;            // the whole decoded body (empty when streamed)
  bool stream_body = false;         // the body arrives later, through KeptRequest::body
  Engine &engine;                   // the connection's engine, for Engine::keep
};

class Dispatcher {
 public:
  virtual DispatchResult dispatch(const DispatchInput &in, Response &resp) = 0;
  // Whether the route this head goes to takes its body as it arrives.
  virtual bool streams_body(const axle_request_head_t &head) = 0;

 protected:
  ~Dispatcher() = default;
};

// What the engine reports for metrics and the access log. `conn` is the
// opaque pointer the connection glue gave the engine.
class Observer {
 public:
  // A request's response was written whole, or its connection ended first
  // (rec.bytes_out < rec.bytes_queued).
  virtual void request_done(void *conn, const struct RequestRecord &rec) = 0;
  virtual void parse_error(uint16_t status) = 0;
  virtual void timeout(uint8_t axle_timeout_kind) = 0;

 protected:
  ~Observer() = default;
};

}  // namespace axle::http
