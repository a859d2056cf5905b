#include "outgoing.h"

#include "worker.h"

#include <cerrno>
#include <cstdlib>
#include <new>
#include <string_view>

namespace axle {
namespace {

// Outgoing queues take plain heap memory, not the worker's allocator module:
// a handle the module never closed is freed after the modules' thread_fini,
// when the allocator's per-worker context is gone.
struct HeapMemory final : http::Memory {
  void *alloc(size_t size) override { return std::malloc(size); }
  void free(void *p, size_t) override { std::free(p); }
};
HeapMemory g_heap;

constexpr uint32_t kMaxIov = 16;

}  // namespace

Outgoing::Outgoing(Worker &worker, const axle_outgoing_events_t *events, void *arg)
    : worker_(worker), events_(events), arg_(arg), out_(g_heap) {}

Outgoing *Outgoing::open(Worker &worker, const axle_address_t *to, const axle_outgoing_events_t *events, void *arg,
                         std::string &error) {
  const axle_io_vtable_t *io = worker.gen.io_vt;
  if (!events || !AXLE_STRUCT_HAS(events, axle_outgoing_events_t, on_writable) || !events->on_connected ||
      !events->on_data || !events->on_eof) {
    error = "outgoing_connect: events need struct_size and on_connected, on_data and on_eof";
    return nullptr;
  }
  if (!AXLE_STRUCT_HAS(io, axle_io_vtable_t, connect) || !io->connect) {
    error = "outgoing_connect: io module '" + std::string(worker.gen.io.desc().name) +
            "' cannot open connections (ABI 1.1)";
    return nullptr;
  }
  if (!worker.loop || worker.outgoing_closing) {
    error = "outgoing_connect: the worker is stopping";
    return nullptr;
  }
  auto *o = new (std::nothrow) Outgoing(worker, events, arg);
  if (!o) {
    error = "outgoing_connect: out of memory";
    return nullptr;
  }
  axle_error_t err;
  if (io->connect(worker.loop, to, tag(o), &o->io_conn_, &err) != AXLE_OK) {
    error = "outgoing_connect: " + (err.message.empty() ? std::string("the io module refused") : err.message);
    delete o;
    return nullptr;
  }
  o->next = worker.outgoing_head;
  if (o->next) o->next->prev = o;
  worker.outgoing_head = o;
  return o;
}

// ---- module calls ----

axle_status_t Outgoing::send(const void *data, size_t len) {
  if (!module_open_ || !connected_ || dead_ || shut_wanted_ || (len > 0 && !data)) return AXLE_ERR_INVALID;
  // Same bound as a client connection's output (Engine::kept_write): a send
  // never exceeds it, and one that would is refused until the queue drained.
  const uint64_t bound = worker_.gen.config.limits.max_conn_output_bytes;
  if (len > bound) return AXLE_ERR_INVALID;
  if (!out_.empty() && out_.pending_bytes() + len > bound) {
    want_writable_ = true;
    return AXLE_AGAIN;
  }
  if (len == 0) return AXLE_OK;
  if (!out_.append_copy(std::string_view(static_cast<const char *>(data), len))) return AXLE_ERR_NOMEM;
  if (!flush()) {
    dead_ = true;  // no event from inside the module's call: the status says it
    return AXLE_ERR_IO;
  }
  return AXLE_OK;
}

void Outgoing::pause(bool paused) {
  if (paused == paused_ || !io_open_ || io_close_sent_) return;
  paused_ = paused;
  if (paused) {
    if (!io_paused_) worker_.gen.io_vt->recv_pause(worker_.loop, io_conn_);
    io_paused_ = true;
  } else if (!held_.empty() || eof_held_) {
    // Not from inside this call (no re-entrancy): when the current event ends.
    if (!delivery_queued_) {
      delivery_queued_ = true;
      worker_.request_delivery(this);
    }
  } else {
    resume_io();
  }
}

axle_status_t Outgoing::shutdown_write() {
  if (!module_open_ || !connected_ || dead_) return AXLE_ERR_INVALID;
  shut_wanted_ = true;
  return maybe_shutdown() ? AXLE_OK : AXLE_ERR_IO;
}

void Outgoing::close_by_module() {
  if (!module_open_) return;
  module_open_ = false;
  close_io();
  maybe_free();
}

// ---- io events ----

void Outgoing::on_connected(int err) {
  if (connect_reported_) return;
  connect_reported_ = true;
  connected_ = err == 0;
  if (err != 0) dead_ = true;
  if (module_open_) events_->on_connected(arg_, err);
}

void Outgoing::on_data(const char *data, size_t len) {
  if (!module_open_ || eof_reported_) return;
  if (paused_ || !held_.empty()) return hold(data, len);  // behind the held bytes, in order
  events_->on_data(arg_, data, len);
}

void Outgoing::on_eof(int err) {
  if (err != 0) dead_ = true;
  if (err == 0 && !held_.empty() && module_open_ && !eof_reported_) {
    eof_held_ = true;  // after the held bytes: no on_data follows an on_eof
    return;
  }
  report_eof(err);
}

void Outgoing::on_sent(int err) {
  if (out_.in_flight()) out_.complete_in_flight();
  if (!module_open_ || io_close_sent_) return;
  if (err != 0 || !flush()) return fail(err != 0 ? err : EIO);
  if (!maybe_shutdown()) return fail(EIO);
  if (want_writable_ && out_.pending_bytes() < worker_.gen.config.limits.max_conn_output_bytes) {
    want_writable_ = false;
    if (events_->on_writable) events_->on_writable(arg_);
  }
}

void Outgoing::on_closed() {
  io_open_ = false;
  maybe_free();
}

void Outgoing::deliver_held() {
  delivery_queued_ = false;
  if (!module_open_ || !io_open_ || io_close_sent_ || eof_reported_) {
    std::string().swap(held_);
    return maybe_free();
  }
  if (paused_) return;  // paused again meanwhile: pause(0) queues us again
  if (!held_.empty()) {
    // Moved out first: the module may pause again or close from on_data (io_open_
    // keeps this alive until the io module's on_closed, which cannot come now).
    std::string bytes = std::move(held_);
    held_.clear();
    events_->on_data(arg_, bytes.data(), bytes.size());
    if (paused_ || !module_open_ || io_close_sent_ || eof_reported_) return;
  }
  if (eof_held_) {
    eof_held_ = false;
    report_eof(0);
    return;
  }
  resume_io();
}

void Outgoing::close_by_host() {
  if (!io_open_) return;
  // The module learns it the way it learns any failure; its handle stays valid.
  if (!connect_reported_) on_connected(ECONNABORTED);
  else fail(ECONNABORTED);
  close_io();
}

void Outgoing::forget_io() {
  close_io();
  io_open_ = false;
  maybe_free();
}

void Outgoing::free_all(Outgoing *&head) {
  while (Outgoing *o = head) {
    head = o->next;
    delete o;
  }
}

// ---- internals ----

bool Outgoing::flush() {
  if (dead_ || !io_open_ || io_close_sent_) return true;
  axle_iov_t iov[kMaxIov];
  http::OutputRun run = out_.next_run(iov, kMaxIov);
  if (run.empty()) return true;  // nothing queued, or a send is in flight
  return worker_.gen.io_vt->send(worker_.loop, io_conn_, run.iov, run.iov_count) == AXLE_OK;
}

bool Outgoing::maybe_shutdown() {
  if (!shut_wanted_ || shut_sent_ || !out_.empty() || dead_) return true;
  shut_sent_ = true;
  const axle_io_vtable_t *io = worker_.gen.io_vt;
  if (!AXLE_STRUCT_HAS(io, axle_io_vtable_t, shutdown_write) || !io->shutdown_write) return false;
  return io->shutdown_write(worker_.loop, io_conn_) == AXLE_OK;
}

void Outgoing::fail(int err) {
  dead_ = true;
  report_eof(err);
}

void Outgoing::report_eof(int err) {
  if (eof_reported_) return;
  eof_reported_ = true;
  std::string().swap(held_);  // no on_data after on_eof: a failure drops what was held
  eof_held_ = false;
  if (module_open_) events_->on_eof(arg_, err);
}

void Outgoing::close_io() {
  if (!io_open_ || io_close_sent_) return;
  io_close_sent_ = true;
  worker_.gen.io_vt->close(worker_.loop, io_conn_);
}

// A failure here drops what was held (report_eof): no on_data after on_eof.
void Outgoing::hold(const char *data, size_t len) {
  if (held_.size() + len > kMaxHeld) return fail(ENOBUFS);  // far beyond what was in flight
  try {
    held_.append(data, len);
  } catch (const std::bad_alloc &) {
    fail(ENOMEM);
  }
}

void Outgoing::resume_io() {
  if (!io_paused_ || !io_open_ || io_close_sent_) return;
  io_paused_ = false;
  worker_.gen.io_vt->recv_resume(worker_.loop, io_conn_);
}

void Outgoing::maybe_free() {
  if (module_open_ || io_open_ || delivery_queued_) return;
  if (prev) prev->next = next;
  else worker_.outgoing_head = next;
  if (next) next->prev = prev;
  delete this;
}

}  // namespace axle
