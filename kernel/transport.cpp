#include "transport.h"

#include "connection.h"
#include "host_api.h"
#include "module_metrics.h"
#include "worker.h"

#include <spdlog/spdlog.h>

namespace axle::transport {
namespace {

static_assert(alignof(Connection) >= 4, "tag() needs bit 1 of a Connection pointer free");

// Registered once per process like the kernel's other counters; it keeps
// counting across reloads.
axle_metric_t *refused_metric() {
  static axle_metric_t *metric = [] {
    std::string error;
    return metrics::register_metric("kernel", AXLE_METRIC_COUNTER, "axle_tls_refused_total",
                                    "Connections on a [tls] listener the transport refused to open (its bound of "
                                    "concurrent handshakes, or an error) and closed at once",
                                    nullptr, 0, error);
  }();
  return metric;
}

// The transport raises these only from inside a lower_* hook or a timer of its
// own, both inside a worker event that settles when it ends.
void up_data(void *, void *conn, const char *data, size_t len) { static_cast<Connection *>(conn)->on_data(data, len); }
void up_eof(void *, void *conn, int err) { static_cast<Connection *>(conn)->on_eof(err); }
void up_sent(void *, void *conn, int err) { static_cast<Connection *>(conn)->on_sent(err); }
void up_closed(void *host, void *conn) { static_cast<Worker *>(host)->connection_closed(static_cast<Connection *>(conn)); }

}  // namespace

axle_io_events_t upper_events(Worker &w) {
  axle_io_events_t ev{};
  ev.struct_size = sizeof ev;
  ev.host_ctx = &w;
  ev.on_data = up_data;
  ev.on_eof = up_eof;
  ev.on_sent = up_sent;
  ev.on_closed = up_closed;
  return ev;  // loop events (tick, wake, timer, connected) are never raised by a transport
}

bool wrap(Worker &w, Connection &c, void *io_conn, int fd, uint32_t listener_index, std::string &why) {
  const axle_transport_vtable_t *vt = w.gen.transport_vt;
  axle_transport_conn_options_t opts{};
  opts.struct_size = sizeof opts;
  opts.role = AXLE_TRANSPORT_SERVER;
  opts.listener_index = listener_index;
  opts.fd = fd;
  opts.lower = w.gen.io_vt;
  opts.lower_loop = w.loop;
  opts.lower_conn = io_conn;
  opts.upper = &w.upper_events;
  opts.conn_ctx = &c;
  void *tconn = nullptr;
  axle_error_t err;
  axle_status_t status = vt->conn_open(w.gen.transport.instance, w.transport_ctx, &opts, &tconn, &err);
  if (status == AXLE_OK && tconn) {
    c.wrap(vt->stream, w.transport_ctx, tconn);
    return true;
  }
  why = status == AXLE_AGAIN ? std::string("its bound of concurrent handshakes is reached")
        : status == AXLE_OK  ? std::string("conn_open gave no connection")
                             : (err.message.empty() ? "status " + std::to_string(status) : err.message);
  return false;
}

void lower_data(Worker &w, Connection &c, const char *data, size_t len) {
  w.gen.transport_vt->lower_data(c.stream_conn(), data, len);
}
void lower_eof(Worker &w, Connection &c, int err) { w.gen.transport_vt->lower_eof(c.stream_conn(), err); }
void lower_sent(Worker &w, Connection &c, int err) { w.gen.transport_vt->lower_sent(c.stream_conn(), err); }
void lower_closed(Worker &w, Connection &c) { w.gen.transport_vt->lower_closed(c.stream_conn()); }

void Refusals::note(uint32_t worker, std::string why, uint64_t now_ms) {
  metrics::add(refused_metric(), 1);
  log_.add();
  last_why_ = std::move(why);
  flush(worker, now_ms);
}

void Refusals::flush(uint32_t worker, uint64_t now_ms) {
  if (uint32_t n = log_.take(now_ms))
    spdlog::warn("worker {}: {} TLS connection(s) refused by the transport and closed (last: {})", worker, n,
                 last_why_);
}

}  // namespace axle::transport
