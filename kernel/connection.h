// The glue between one io-module connection and its HTTP engine: hands the
// engine what the io module delivers and carries out the engine's actions
// (write, pause/resume reading, half-close, close) through the io vtable, or
// through a transport's stream vtable once wrap() stacked one on it (the same
// contract, see kernel/transport.h). It owns no HTTP rule and never touches
// the connection's descriptor.
#pragma once

#include "http/engine.h"

#include <axle/handler.h>
#include <axle/io.h>

#include <cstdint>
#include <string_view>

namespace axle {

class Worker;

class Connection {
 public:
  // io_conn: the io module's connection on the worker's loop.
  Connection(Worker &worker, void *io_conn);
  // From now on the connection is driven as (stream, ctx, tconn): a transport
  // wraps it (TLS); its requests carry AXLE_REQUEST_SECURE.
  void wrap(const axle_io_vtable_t *stream, void *ctx, void *tconn);
  bool secure() const { return secure_; }
  void *stream_conn() const { return conn_; }  // the transport's tconn once wrapped

  // io events (loop thread).
  void on_data(const char *data, size_t len);
  void on_eof(int err);
  void on_sent(int err);
  void on_tick(uint64_t now_ms);
  // The worker is draining; an idle connection is closed at once if close_idle.
  void begin_drain(bool close_idle);
  // Asks the io module to close; on_closed follows. A kept request is
  // aborted first, for `reason` (axle_abort_reason_t).
  void close(uint8_t reason = AXLE_ABORT_CLIENT_GONE);
  // Carries out what the engine asks for (after a module changed it).
  void pump();
  http::Engine &engine() { return engine_; }
  // The peer's address is asked once and kept (a proxy asks on every request).
  axle_status_t address(axle_conn_end_t end, axle_address_t &out) const;

  // The client's address as text, "-" if the io module cannot tell. buf: 64 bytes.
  std::string_view peer_text(char (&buf)[64]) const;

  Connection *prev = nullptr, *next = nullptr;  // worker's list of open connections
  bool pump_queued = false;                      // in the worker's list to pump (Worker::settle)

 private:
  Worker &worker_;
  // What carries the bytes: the io module's (vtable, loop, io_conn), or a
  // transport's (stream vtable, thread ctx, tconn).
  const axle_io_vtable_t *io_;
  void *loop_;
  void *conn_;
  http::Engine engine_;
  bool secure_ = false;
  bool closing_ = false;
  bool read_paused_ = false;
  bool eof_seen_ = false;
  mutable bool peer_known_ = false;
  mutable axle_address_t peer_{};  // valid when peer_known_
};

}  // namespace axle
