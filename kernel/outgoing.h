// Outgoing TCP connections a module opened (ABI 1.2 host_api outgoing_*),
// made through the worker's io module. One object per connection: the io
// handle, the module's events and arg, its unsent output in an OutQueue
// (one send in flight at a time, bounded like a client connection's output),
// and the bytes the io module delivered while the module had it paused.
#pragma once

#include "http/out_queue.h"

#include <axle/io.h>

#include <cstdint>
#include <string>

// The handle a module holds is the kernel object itself.
struct axle_outgoing_t {};

namespace axle {

class Worker;

class Outgoing : public axle_outgoing_t {
 public:
  // ---- conn_ctx tag: the one place that tells connection kinds apart ----
  // The worker's io events serve client connections (Connection*) and
  // outgoing ones alike; an outgoing connection's conn_ctx is its pointer
  // with the low bit set (objects are at least 8-byte aligned).
  static void *tag(Outgoing *o) { return reinterpret_cast<void *>(reinterpret_cast<uintptr_t>(o) | 1u); }
  static bool is_tagged(void *conn_ctx) { return (reinterpret_cast<uintptr_t>(conn_ctx) & 1u) != 0; }
  static Outgoing *untag(void *conn_ctx) {
    return reinterpret_cast<Outgoing *>(reinterpret_cast<uintptr_t>(conn_ctx) & ~uintptr_t{1});
  }

  // host_api outgoing_connect: NULL on immediate failure (message in error).
  static Outgoing *open(Worker &worker, const axle_address_t *to, const axle_outgoing_events_t *events, void *arg,
                        std::string &error);

  // ---- module calls (worker thread) ----
  axle_status_t send(const void *data, size_t len);
  void pause(bool paused);
  axle_status_t shutdown_write();
  // The module is done: no event after this; freed once the io module closed too.
  void close_by_module();

  // ---- io events ----
  void on_connected(int err);
  void on_data(const char *data, size_t len);
  void on_eof(int err);
  void on_sent(int err);
  void on_closed();  // may free this
  // Worker::settle, after outgoing_pause(0): the held bytes (then a held EOF),
  // and the io module's reading resumes once they are out. May free this.
  void deliver_held();

  // The worker ends: the module hears on_eof(ECONNABORTED) and the io
  // connection is closed; the handle stays valid until outgoing_close.
  void close_by_host();
  // The loop failed and delivers nothing more: the io side counts as closed.
  void forget_io();
  bool io_open() const { return io_open_; }
  Worker &worker() const { return worker_; }
  bool io_close_pending() const { return io_open_ && !io_close_sent_; }
  // After the modules' thread_fini: frees the handles a module never closed.
  static void free_all(Outgoing *&head);

  Outgoing *prev = nullptr, *next = nullptr;  // worker's list

 private:
  Outgoing(Worker &worker, const axle_outgoing_events_t *events, void *arg);
  ~Outgoing() = default;
  bool flush();           // starts the next send when none is in flight; false: the io module refused
  bool maybe_shutdown();  // half-closes once shutdown_write was asked and the queue is empty
  void fail(int err);     // the connection is dead: on_eof(err) unless an on_eof was already given
  void report_eof(int err);
  void close_io();
  void maybe_free();
  void hold(const char *data, size_t len);
  void resume_io();

  // io_uring may hand over a receive that completed before its recv_pause
  // took effect (beyond its own 1 MiB stash); module.h promises no on_data
  // while paused, so those bytes wait here. Bound: what the io module had in
  // flight at the pause; past kMaxHeld the connection fails (ENOBUFS).
  static constexpr size_t kMaxHeld = 16u << 20;

  Worker &worker_;
  const axle_outgoing_events_t *events_;
  void *arg_;
  void *io_conn_ = nullptr;
  http::OutQueue out_;
  bool io_open_ = true;        // until the io module's on_closed
  bool io_close_sent_ = false;
  bool module_open_ = true;    // until outgoing_close
  bool connect_reported_ = false;  // on_connected given (the first event)
  bool connected_ = false;
  bool dead_ = false;          // failed or aborted: nothing more is sent
  bool eof_reported_ = false;  // on_eof given: no on_data after it
  bool paused_ = false;         // the module's pause
  bool io_paused_ = false;      // the io module's: resumed only once held_ is delivered
  std::string held_;            // bytes delivered while paused, in order
  bool eof_held_ = false;       // an EOF (err 0) that came behind held_
  bool delivery_queued_ = false;  // in Worker::to_deliver_: not freed until it ran
  bool shut_wanted_ = false;   // shutdown_write once the queue is empty
  bool shut_sent_ = false;
  bool want_writable_ = false; // a send answered AXLE_AGAIN: on_writable when below the bound
};

}  // namespace axle
