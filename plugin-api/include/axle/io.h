/* axle plugin ABI — io backend modules (kind AXLE_KIND_IO).
 *
 * An io module runs one event loop per worker. It is shaped for a completion
 * engine (io_uring) as much as for readiness (epoll): the host submits sends
 * and is told when they are done; received bytes arrive in the module's own
 * buffers (an io_uring buffer ring, or one scratch buffer per loop for epoll),
 * so an idle connection holds no read buffer.
 *
 * Threading: every call below except wake() is made on the loop's own worker
 * thread (loop_create, run and loop_destroy included: io_uring's single-issuer
 * mode ties a ring to one thread), and every event is delivered there.
 * The host ignores SIGPIPE (sendfile has no MSG_NOSIGNAL). Events are never delivered from
 * inside a host call into the module (no re-entrancy): send() never calls
 * on_sent before it returns, close() never calls on_closed before it returns.
 */
#ifndef AXLE_IO_H
#define AXLE_IO_H

#include "axle/module.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Same layout as struct iovec on Linux; kept here so the ABI needs no system header. */
typedef struct axle_iov_t {
  const void *base;
  size_t len;
} axle_iov_t;

/* Events the host implements. OWNERSHIP: host; valid until loop_destroy.
 * conn_ctx is whatever on_accept returned. */
typedef struct axle_io_events_t {
  uint32_t struct_size;
  void *host_ctx; /* passed back as the first argument of every event */

  /* A connection was accepted from the listener registered as listener_id.
   * fd is non-blocking and close-on-exec; the io module owns it and the host
   * never uses it (since 1.1 a module without a plain socket passes -1; the
   * host reaches the connection only through io_conn and the vtable). io_conn
   * is the module's handle for later calls. Return the host's per-connection
   * context, or NULL to refuse (the module then closes it, with no on_closed). */
  void *(*on_accept)(void *host_ctx, void *io_conn, int fd, uint32_t listener_id);

  /* Bytes arrived. data: lent for the call only (copy what must stay). */
  void (*on_data)(void *host_ctx, void *conn_ctx, const char *data, size_t len);

  /* The peer closed its side (err = 0) or the connection failed (err = errno).
   * No more on_data follows. The host still calls close() when it is done. */
  void (*on_eof)(void *host_ctx, void *conn_ctx, int err);

  /* A send()/sendfile() finished: all bytes written (err = 0) or failed
   * (err = errno; the connection should be closed). The lent memory or file is
   * free again. */
  void (*on_sent)(void *host_ctx, void *conn_ctx, int err);

  /* close() finished: the module forgot the connection and closed its fd.
   * Last event for conn_ctx; the host may free it now. */
  void (*on_closed)(void *host_ctx, void *conn_ctx);

  /* Periodic tick, every tick_ms of the loop options (timeouts, Date cache). */
  void (*on_tick)(void *host_ctx);

  /* Delivered on the loop thread after wake() was called from any thread. */
  void (*on_wake)(void *host_ctx);

  /* ---- since 1.2 (a module checks AXLE_STRUCT_HAS before raising these) ---- */

  /* The delay given to timer_arm elapsed. */
  void (*on_timer)(void *host_ctx);
  /* A connect() finished: connected (err = 0; on_data, on_eof and on_sent
   * follow as for an accepted connection) or failed (err = errno; the host
   * still calls close(), then on_closed). */
  void (*on_connected)(void *host_ctx, void *conn_ctx, int err);
} axle_io_events_t;

/* Per-connection options (conn_option). A module that cannot apply one
 * returns AXLE_ERR_UNSUPPORTED; the host treats options as best effort. */
typedef enum axle_conn_option_t {
  AXLE_CONN_OPT_NODELAY = 1, /* value 0/1: TCP_NODELAY */
  AXLE_CONN_OPT_QUICKACK = 2 /* value 0/1: TCP_QUICKACK (Linux clears it; re-arm after reads) */
} axle_conn_option_t;

typedef struct axle_io_loop_options_t {
  uint32_t struct_size;
  uint32_t tick_ms;          /* on_tick period; 0 = no ticks */
  uint32_t max_connections;  /* expected concurrent connections (sizing hint) */
} axle_io_loop_options_t;

typedef struct axle_io_vtable_t {
  uint32_t struct_size;

  /* Makes this worker's loop. events/options: borrowed; events must outlive the loop. */
  axle_status_t (*loop_create)(void *instance, void *thread_ctx, const axle_io_events_t *events,
                               const axle_io_loop_options_t *options, void **loop_out, axle_error_t *err);

  /* Frees the loop. Every connection must have been closed (on_closed seen)
   * and run() must have returned. Listening fds stay open: they are the host's. */
  void (*loop_destroy)(void *loop);

  /* Starts accepting from a listening socket. fd: owned by the host,
   * non-blocking, stays open after listen_remove (several loops, and
   * generations, share it). */
  axle_status_t (*listen_add)(void *loop, int fd, uint32_t listener_id, axle_error_t *err);

  /* Stops accepting from fd. Connections already accepted are unaffected. A
   * completion engine may still deliver on_accept for a connection the OS
   * handed over before the removal took effect: the host must serve it (it is
   * no longer in the listen queue, so refusing it would drop it). */
  void (*listen_remove)(void *loop, int fd);

  /* Dispatches events until stop() is called. */
  axle_status_t (*run)(void *loop, axle_error_t *err);

  /* Makes run() return after the current turn. Loop thread only. */
  void (*stop)(void *loop);

  /* Schedules on_wake on the loop thread. Any thread; async-signal-safe. */
  void (*wake)(void *loop);

  /* Writes all of iov[0..count) in order, then on_sent. iov array: borrowed for
   * the call; the bytes it points at: lent until on_sent. At most one send or
   * sendfile in flight per connection. */
  axle_status_t (*send)(void *loop, void *io_conn, const axle_iov_t *iov, uint32_t count);

  /* Writes length bytes of file_fd from offset, then on_sent. file_fd: lent
   * until on_sent (the host closes it). Same one-in-flight rule as send. */
  axle_status_t (*sendfile)(void *loop, void *io_conn, int file_fd, uint64_t offset, uint64_t length);

  /* Stops or resumes delivering on_data (back-pressure). */
  void (*recv_pause)(void *loop, void *io_conn);
  void (*recv_resume)(void *loop, void *io_conn);

  /* Closes the connection: cancels pending work, closes the fd, then delivers
   * on_closed. A pending send completes with an error or not at all (its
   * memory is free again once on_closed arrives). */
  void (*close)(void *loop, void *io_conn);

  /* ---- since 1.1: the host reaches a connection only through these. Check
   * AXLE_STRUCT_HAS(vtable, axle_io_vtable_t, slot) before calling. ---- */

  /* Half-close: after the sends already submitted complete, the peer sees
   * end of stream; receiving goes on (lingering close). Loop thread. */
  axle_status_t (*shutdown_write)(void *loop, void *io_conn);

  /* Fills out (struct_size set by the caller) with the connection's peer or
   * local address. AXLE_ERR_UNSUPPORTED when the transport has none. */
  axle_status_t (*conn_address)(void *loop, void *io_conn, axle_conn_end_t end, axle_address_t *out);

  /* Sets a per-connection option (axle_conn_option_t). Best effort. */
  axle_status_t (*conn_option)(void *loop, void *io_conn, axle_conn_option_t option, int64_t value);

  /* ---- since 1.2: loop timers and outgoing connections ---- */

  /* Delivers on_timer once, delay_ms from now, replacing any earlier arm
   * (the host keeps its own timers and arms only the earliest). Loop thread. */
  void (*timer_arm)(void *loop, uint64_t delay_ms);

  /* Starts a non-blocking TCP connect to `to` (borrowed for the call).
   * conn_ctx: the host's context for the connection, passed back in every
   * event, as on_accept's return value is. *io_conn_out: the module's handle
   * for later calls. Completion is on_connected. Loop thread. */
  axle_status_t (*connect)(void *loop, const axle_address_t *to, void *conn_ctx, void **io_conn_out,
                           axle_error_t *err);
} axle_io_vtable_t;

#ifdef __cplusplus
}
#endif

#endif /* AXLE_IO_H */
