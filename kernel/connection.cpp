#include "connection.h"

#include "worker.h"

#include <arpa/inet.h>
#include <spdlog/spdlog.h>

#include <cstring>

namespace axle {

Connection::Connection(Worker &worker, void *io_conn)
    : worker_(worker), io_(worker.gen.io_vt), loop_(worker.loop), conn_(io_conn), engine_(*worker.engine_ctx, this) {}

void Connection::wrap(const axle_io_vtable_t *stream, void *ctx, void *tconn) {
  io_ = stream;
  loop_ = ctx;
  conn_ = tconn;
  secure_ = true;
}

void Connection::on_data(const char *data, size_t len) {
  engine_.receive(data, len);
  pump();
}

void Connection::on_eof(int err) {
  eof_seen_ = true;
  engine_.peer_closed(err);
  pump();
}

void Connection::on_sent(int err) {
  engine_.output_done(err);
  pump();
}

void Connection::on_tick(uint64_t now_ms) {
  if (closing_) return;
  bool write_expires = engine_.deadline_kind() == AXLE_TIMEOUT_WRITE && now_ms >= engine_.deadline_ms();
  engine_.tick(now_ms);
  if (write_expires && engine_.wants_close()) {
    // One line per connection cut off: the operator sees who stopped reading
    // and how much of what was queued had gone out.
    char peer[64];
    uint64_t sent = engine_.sent_bytes();
    spdlog::warn("write timeout: client {} read nothing for {} ms; {} of {} bytes written, connection closed",
                 peer_text(peer), worker_.gen.config.timeouts.write_ms, sent, sent + engine_.queued_output_bytes());
  }
  pump();
}

void Connection::begin_drain(bool close_idle) {
  engine_.drain(close_idle);
  pump();
}

void Connection::close(uint8_t reason) {
  if (closing_) return;
  engine_.abort_kept(reason);
  engine_.connection_ending();  // while the peer's address can still be read for the access log
  closing_ = true;
  io_->close(loop_, conn_);
}

void Connection::pump() {
  if (closing_) return;
  engine_.resume();
  if (engine_.wants_close()) {
    close();
    return;
  }
  const axle_io_vtable_t *io = io_;
  http::OutputRun run = engine_.take_output();
  if (!run.empty()) {
    axle_status_t sent = run.file_fd >= 0
                             ? io->sendfile(loop_, conn_, run.file_fd, run.file_offset, run.file_length)
                             : io->send(loop_, conn_, run.iov, run.iov_count);
    if (sent != AXLE_OK) {
      close();
      return;
    }
  }
  if (engine_.take_shutdown_write()) {
    // An io module without half-close (ABI 1.0) gets a plain close instead.
    if (!AXLE_STRUCT_HAS(io, axle_io_vtable_t, shutdown_write) || !io->shutdown_write ||
        io->shutdown_write(loop_, conn_) != AXLE_OK) {
      close();
      return;
    }
  }
  // After end of stream the io module delivers nothing more: leave it be.
  bool pause = !engine_.reading();
  if (pause != read_paused_ && !eof_seen_) {
    read_paused_ = pause;
    if (pause) io->recv_pause(loop_, conn_);
    else io->recv_resume(loop_, conn_);
  }
}

axle_status_t Connection::address(axle_conn_end_t end, axle_address_t &out) const {
  const axle_io_vtable_t *io = io_;
  if (!AXLE_STRUCT_HAS(io, axle_io_vtable_t, conn_address) || !io->conn_address) return AXLE_ERR_UNSUPPORTED;
  if (end == AXLE_CONN_PEER && peer_known_) {
    out.family = peer_.family;
    out.port = peer_.port;
    std::memcpy(out.addr, peer_.addr, sizeof out.addr);
    return AXLE_OK;
  }
  axle_status_t s = io->conn_address(loop_, conn_, end, &out);
  if (s == AXLE_OK && end == AXLE_CONN_PEER) {
    peer_ = out;
    peer_known_ = true;
  }
  return s;
}

std::string_view Connection::peer_text(char (&buf)[64]) const {
  axle_address_t addr{};
  addr.struct_size = sizeof addr;
  if (address(AXLE_CONN_PEER, addr) != AXLE_OK) return "-";
  int family = addr.family == AXLE_ADDR_IPV4 ? AF_INET : addr.family == AXLE_ADDR_IPV6 ? AF_INET6 : 0;
  if (!family || !::inet_ntop(family, addr.addr, buf, sizeof buf)) return "-";
  return buf;
}

}  // namespace axle
