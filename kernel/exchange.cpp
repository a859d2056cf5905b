#include "exchange.h"

#include "connection.h"
#include "http/module_fields.h"
#include "worker.h"

#include <spdlog/spdlog.h>

#include <cstring>

namespace axle {

// ---- handles ----

// Handle bits, above the low 1: slot index (23), worker index (16), generation (24).
ExchangeTable::Parts ExchangeTable::parts(const axle_response_t *handle) {
  uint64_t value = reinterpret_cast<uintptr_t>(handle) >> 1;
  return {static_cast<uint32_t>(value & 0x7fffffu), static_cast<uint32_t>((value >> 23) & 0xffffu),
          static_cast<uint32_t>(value >> 39)};
}

axle_response_t *ExchangeTable::add(Exchange *ex) {
  uint32_t index;
  if (!free_.empty()) {
    index = free_.back();
    free_.pop_back();
  } else {
    if (slots_.size() >= kMaxSlots) return nullptr;
    index = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Slot &s = slots_[index];
  s.ex = ex;
  uint64_t value = (uint64_t{s.generation} << 39 | uint64_t{worker_} << 23 | index) << 1 | 1u;
  return reinterpret_cast<axle_response_t *>(static_cast<uintptr_t>(value));
}

Exchange *ExchangeTable::find(axle_response_t *handle) const {
  Parts p = parts(handle);
  if (p.worker != worker_ || p.index >= slots_.size() || slots_[p.index].generation != p.generation) return nullptr;
  return slots_[p.index].ex;
}

void ExchangeTable::remove(axle_response_t *handle) {
  Parts p = parts(handle);
  if (p.worker != worker_ || p.index >= slots_.size() || slots_[p.index].generation != p.generation) return;
  slots_[p.index].ex = nullptr;
  slots_[p.index].generation = (slots_[p.index].generation + 1) & 0xffffffu;
  free_.push_back(p.index);
}

// ---- the kept request ----

Exchange::Exchange(Worker &worker, Connection &conn, const axle_response_hooks_t *hooks, void *arg)
    : worker(worker), conn(conn), response(worker.memory()), hooks_(hooks), arg_(arg) {}

bool Exchange::begun() const { return conn.engine().kept_begun(); }

void Exchange::release() {
  worker.exchanges.remove(handle);
  delete this;
}

void Exchange::abort(uint8_t reason) {
  worker.exchanges.remove(handle);  // calls with this handle are refused from now on
  const axle_response_hooks_t *hooks = hooks_;
  void *arg = arg_;
  delete this;
  hooks->on_abort(arg, static_cast<axle_abort_reason_t>(reason));
}

void Exchange::writable() {
  if (AXLE_STRUCT_HAS(hooks_, axle_response_hooks_t, on_writable) && hooks_->on_writable) hooks_->on_writable(arg_);
}

bool Exchange::takes_body() const {
  return AXLE_STRUCT_HAS(hooks_, axle_response_hooks_t, on_body) && hooks_->on_body;
}

void Exchange::body(const char *data, size_t len, bool last) {
  if (takes_body()) hooks_->on_body(arg_, data, len, last ? 1 : 0);
}

// ---- host calls ----

namespace exchange_api {
namespace {

void misuse(const char *call, const char *why) { spdlog::error("module called {}: {}", call, why); }

// A kept handle's exchange, or null after logging why.
Exchange *kept(axle_response_t *r, const char *call) {
  Worker *w = Worker::current();
  if (!w) {
    misuse(call, "not on a worker thread");
    return nullptr;
  }
  if (!ExchangeTable::is_kept_handle(r)) {
    misuse(call, "the handle is not a kept response (response_keep returns one)");
    return nullptr;
  }
  Exchange *ex = w->exchanges.find(r);
  if (!ex) misuse(call, "the response was already finished or aborted, or belongs to another worker");
  return ex;
}

axle_status_t status_of(http::Engine::Write w) {
  switch (w) {
    case http::Engine::Write::Ok: return AXLE_OK;
    case http::Engine::Write::Again: return AXLE_AGAIN;
    case http::Engine::Write::Invalid: return AXLE_ERR_INVALID;
    case http::Engine::Write::Failed: break;
  }
  return AXLE_ERR_NOMEM;
}

// The engine of the request a call means: the kept one's, or the one a
// handle() on this thread is serving.
http::Engine *engine_of(axle_response_t *r, const char *call, Connection **conn) {
  if (ExchangeTable::is_kept_handle(r)) {
    Exchange *ex = kept(r, call);
    if (!ex) return nullptr;
    *conn = &ex->conn;
    return &ex->conn.engine();
  }
  Worker *w = Worker::current();
  if (!w || !w->dispatching.engine || r != static_cast<axle_response_t *>(&w->engine_ctx->response)) {
    misuse(call, "outside handle() with a handle that is not kept");
    return nullptr;
  }
  *conn = static_cast<Connection *>(w->dispatching.engine->conn());
  return w->dispatching.engine;
}

}  // namespace

http::Response *resolve_kept(axle_response_t *r, const char *call, Exchange **out) {
  Exchange *ex = kept(r, call);
  if (!ex) return nullptr;
  if (ex->begun()) {
    misuse(call, "the response has begun: its status, headers and body are on their way");
    return nullptr;
  }
  if (out) *out = ex;
  return &ex->response;
}

axle_response_t *keep(axle_response_t *resp, const axle_response_hooks_t *hooks, void *arg) {
  Worker *w = Worker::current();
  if (!w || !w->dispatching.engine || ExchangeTable::is_kept_handle(resp) ||
      resp != static_cast<axle_response_t *>(&w->engine_ctx->response)) {
    misuse("response_keep", "only inside handle(), with the response it was given");
    return nullptr;
  }
  if (!hooks || !AXLE_STRUCT_HAS(hooks, axle_response_hooks_t, on_abort) || !hooks->on_abort) {
    misuse("response_keep", "hooks with an on_abort are required");
    return nullptr;
  }
  if (w->dispatching.kept) {
    misuse("response_keep", "the response is already kept");
    return nullptr;
  }
  auto *ex = new (std::nothrow) Exchange(*w, *static_cast<Connection *>(w->dispatching.engine->conn()), hooks, arg);
  if (!ex) return nullptr;
  ex->handle = w->exchanges.add(ex);
  if (!ex->handle) {
    delete ex;
    return nullptr;
  }
  if (!w->dispatching.engine->keep(ex, w->dispatching.route_id)) {
    ex->release();
    misuse("response_keep", "the request cannot be kept");
    return nullptr;
  }
  ex->response.take_from(w->engine_ctx->response);  // what handle() set so far
  w->dispatching.kept = true;
  return ex->handle;
}

axle_status_t begin(axle_response_t *resp, int64_t content_length) {
  Exchange *ex = kept(resp, "response_begin");
  if (!ex) return AXLE_ERR_INVALID;
  if (ex->begun()) {
    misuse("response_begin", "the response has already begun");
    return AXLE_ERR_INVALID;
  }
  axle_status_t s = status_of(ex->conn.engine().kept_begin(ex->response, content_length));
  ex->worker.request_pump(&ex->conn);
  return s;
}

axle_status_t write(axle_response_t *resp, const void *data, size_t len) {
  Exchange *ex = kept(resp, "response_write");
  if (!ex) return AXLE_ERR_INVALID;
  if (!ex->begun() || (!data && len)) {
    misuse("response_write", ex->begun() ? "no data" : "response_begin comes first");
    return AXLE_ERR_INVALID;
  }
  axle_status_t s = status_of(ex->conn.engine().kept_write({static_cast<const char *>(data), len}));
  if (s == AXLE_OK || s == AXLE_ERR_NOMEM) ex->worker.request_pump(&ex->conn);
  else if (s == AXLE_ERR_INVALID) misuse("response_write", "more than the connection may hold at once, "
                                                           "past the announced length, or a body where none may be");
  return s;
}

axle_status_t finish(axle_response_t *resp, const axle_header_t *trailers, uint32_t count) {
  Exchange *ex = kept(resp, "response_finish");
  if (!ex) return AXLE_ERR_INVALID;
  if (!http::valid_module_fields(trailers, count)) {
    misuse("response_finish", "a trailer field is malformed or one the host writes itself");
    return AXLE_ERR_INVALID;
  }
  http::Engine &engine = ex->conn.engine();
  bool complete = ex->begun() ? engine.kept_finish(trailers, count) : engine.kept_respond(ex->response);
  Worker &w = ex->worker;
  Connection &conn = ex->conn;
  ex->release();
  w.request_pump(&conn);
  if (!complete) {
    misuse("response_finish", "the body is shorter than its announced length; the connection closes");
    return AXLE_ERR_INVALID;
  }
  return AXLE_OK;
}

axle_status_t cancel(axle_response_t *resp) {
  Exchange *ex = kept(resp, "response_cancel");
  if (!ex) return AXLE_ERR_INVALID;
  ex->conn.engine().kept_cancel();
  Worker &w = ex->worker;
  Connection &conn = ex->conn;
  ex->release();
  w.request_pump(&conn);
  return AXLE_OK;
}

axle_status_t switch_protocols(axle_response_t *resp) {
  Exchange *ex = kept(resp, "response_switch_protocols");
  if (!ex) return AXLE_ERR_INVALID;
  if (!ex->takes_body()) {
    misuse("response_switch_protocols", "the response's hooks have no on_body to take the tunnel's bytes");
    return AXLE_ERR_INVALID;
  }
  axle_status_t s = status_of(ex->conn.engine().kept_switch(ex->response));
  if (s == AXLE_ERR_INVALID)
    misuse("response_switch_protocols", "only for a kept response not begun, whose request is HTTP/1.1 with "
                                        "Upgrade and Connection: upgrade and whose body was read whole");
  else ex->worker.request_pump(&ex->conn);
  return s;
}

axle_status_t close_connection(axle_response_t *resp) {
  Connection *conn = nullptr;
  http::Engine *engine = engine_of(resp, "response_close_connection", &conn);
  if (!engine) return AXLE_ERR_INVALID;
  if (ExchangeTable::is_kept_handle(resp)) engine->kept_close_connection();
  else static_cast<http::Response *>(resp)->close = true;
  return AXLE_OK;
}

axle_status_t early_hints(axle_response_t *resp, const axle_header_t *headers, uint32_t count) {
  Connection *conn = nullptr;
  http::Engine *engine = engine_of(resp, "response_early_hints", &conn);
  if (!engine) return AXLE_ERR_INVALID;
  if (!http::valid_module_fields(headers, count)) {
    misuse("response_early_hints", "a field is malformed or one the host writes itself");
    return AXLE_ERR_INVALID;
  }
  axle_status_t s = status_of(engine->early_hints(headers, count));
  if (s == AXLE_OK) Worker::current()->request_pump(conn);
  return s;
}

axle_status_t body_pause(axle_response_t *resp, int paused) {
  Exchange *ex = kept(resp, "request_body_pause");
  if (!ex) return AXLE_ERR_INVALID;
  ex->conn.engine().kept_body_pause(paused != 0);
  ex->worker.request_pump(&ex->conn);
  return AXLE_OK;
}

axle_status_t address(axle_response_t *resp, axle_conn_end_t end, axle_address_t *out) {
  Connection *conn = nullptr;
  if (!out || !engine_of(resp, "request_address", &conn)) return AXLE_ERR_INVALID;
  return conn->address(end, *out);
}

}  // namespace exchange_api
}  // namespace axle
