// The kernel side of a transport module (axle/transport.h): wraps the
// connections accepted on [tls] listeners, carries the io module's events for
// them to the transport's lower_* hooks, and hands the transport's plaintext
// events straight to the Connection, which then drives the transport's stream
// vtable as it drives the io vtable. Cleartext connections never come here.
#pragma once

#include <axle/transport.h>

#include "log_throttle.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace axle {

class Connection;
class Worker;

namespace transport {

// The conn_ctx a wrapped connection has in the io module: its Connection
// tagged with bit 1 (Outgoing uses bit 0; both are at least 8-aligned).
inline void *tag(Connection *c) { return reinterpret_cast<void *>(reinterpret_cast<uintptr_t>(c) | 2u); }
inline bool is_tagged(void *conn_ctx) { return (reinterpret_cast<uintptr_t>(conn_ctx) & 2u) != 0; }
inline Connection *untag(void *conn_ctx) {
  return reinterpret_cast<Connection *>(reinterpret_cast<uintptr_t>(conn_ctx) & ~uintptr_t{2});
}

// The plaintext events a transport raises for a worker's wrapped connections
// (host_ctx = the Worker, conn_ctx = the Connection).
axle_io_events_t upper_events(Worker &w);

// Wraps c, just accepted as (io_conn, fd) on [tls] listen[listener_index]:
// conn_open, then c drives the stream vtable. False, with why: refused (the
// caller frees c and lets the io module close the socket).
bool wrap(Worker &w, Connection &c, void *io_conn, int fd, uint32_t listener_index, std::string &why);

// The io module's events for a wrapped connection, forwarded to the transport.
void lower_data(Worker &w, Connection &c, const char *data, size_t len);
void lower_eof(Worker &w, Connection &c, int err);
void lower_sent(Worker &w, Connection &c, int err);
// Last call: the transport raises the upper on_closed, which frees c.
void lower_closed(Worker &w, Connection &c);

// Connections a worker's transport refused: counted in axle_tls_refused_total
// and logged at most once a second, each line saying how many it covers.
class Refusals {
 public:
  void note(uint32_t worker, std::string why, uint64_t now_ms);
  void flush(uint32_t worker, uint64_t now_ms);  // on the worker's tick

 private:
  LogThrottle log_;
  std::string last_why_;
};

}  // namespace transport
}  // namespace axle
