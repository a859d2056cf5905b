// The glue between one io-module connection and its HTTP engine: hands the
// engine what the io module delivers and carries out the engine's actions
// (write, pause/resume reading, half-close, close) through the io vtable.
// It owns no HTTP rule and never touches the connection's descriptor.
#pragma once

#include "http/engine.h"

#include <axle/handler.h>

#include <cstdint>
#include <string_view>

namespace axle {

class Worker;

class Connection {
 public:
  Connection(Worker &worker, void *io_conn);

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
  axle_status_t address(axle_conn_end_t end, axle_address_t &out) const;

  // The client's address as text, "-" if the io module cannot tell. buf: 64 bytes.
  std::string_view peer_text(char (&buf)[64]) const;

  Connection *prev = nullptr, *next = nullptr;  // worker's list of open connections
  bool pump_queued = false;                      // in the worker's list to pump (Worker::settle)

 private:
  Worker &worker_;
  void *io_conn_;
  http::Engine engine_;
  bool closing_ = false;
  bool read_paused_ = false;
  bool eof_seen_ = false;
};

}  // namespace axle
