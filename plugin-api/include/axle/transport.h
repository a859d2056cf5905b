/* axle plugin ABI — transport modules (kind AXLE_KIND_TRANSPORT), since 1.3.
 *
 * A transport is a byte-stream layer stacked on the worker's io module: TLS
 * is one. For each connection it wraps it stands between the host and the
 * io module:
 *
 *   host ──stream vtable (plaintext: send, sendfile, close...)──▶ transport
 *   transport ──lower io vtable (wire bytes)──▶ io module
 *   io module ──events──▶ host ──lower_* hooks (wire bytes)──▶ transport
 *   transport ──upper events (plaintext: on_data, on_sent...)──▶ host
 *
 * The host therefore drives a wrapped connection exactly as it drives a
 * plain io connection (the same axle_io_vtable_t contract, the same events),
 * and one transport serves any io backend. Which connections are wrapped is
 * the host's choice: those accepted on the [tls] listeners.
 *
 * Threading and re-entrancy: as in io.h. Every hook and every stream call
 * runs on the connection's worker thread. The transport raises upper events
 * only from inside a lower_* hook or a timer of its own, never from inside a
 * stream call the host is making (send() never calls on_sent before it
 * returns). It may call the lower io vtable from anywhere on that thread.
 *
 * Life of a wrapped connection:
 *   io on_accept → host conn_open(opts) → [lower_data / lower_sent / lower_eof]*
 *   host stream close() → transport calls lower close() → io on_closed →
 *   host lower_closed(tconn) → transport raises upper on_closed and frees tconn.
 * The transport may also close the lower connection itself (handshake
 * failure or timeout): it then raises upper on_eof(err) first if the host has
 * seen the connection's data, and the host answers with its stream close().
 */
#ifndef AXLE_TRANSPORT_H
#define AXLE_TRANSPORT_H

#include "axle/io.h"
#include "axle/module.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum axle_transport_role_t {
  AXLE_TRANSPORT_SERVER = 1, /* an accepted connection */
  AXLE_TRANSPORT_CLIENT = 2  /* an outgoing connection (reserved: no host opens one yet) */
} axle_transport_role_t;

/* What the host tells a transport about a connection it wraps. OWNERSHIP:
 * host; the struct is borrowed for conn_open, the pointers in it stay valid
 * until lower_closed. */
typedef struct axle_transport_conn_options_t {
  uint32_t struct_size;
  axle_transport_role_t role;
  /* SERVER: the index of the listener in [tls] listen. */
  uint32_t listener_index;
  /* The socket when the io module has one, else -1. Only for kernel offload
   * (setsockopt TCP_ULP / SOL_TLS): the transport never reads, writes or
   * closes it. */
  int fd;
  /* CLIENT: the server name to send (SNI); empty for SERVER. */
  axle_str_t server_name;
  /* The io module beneath: the transport moves the wire bytes with
   * lower->send/sendfile/recv_pause/recv_resume/shutdown_write/close on
   * (lower_loop, lower_conn). */
  const axle_io_vtable_t *lower;
  void *lower_loop;
  void *lower_conn;
  /* Plaintext events for the host: the transport calls
   * upper->on_data/on_eof/on_sent/on_closed(upper->host_ctx, conn_ctx, ...)
   * with the meaning they have in io.h. */
  const axle_io_events_t *upper;
  void *conn_ctx;
} axle_transport_conn_options_t;

/* axle_transport_info_t.flags */
enum {
  AXLE_TRANSPORT_ESTABLISHED = 1u << 0, /* the handshake completed */
  AXLE_TRANSPORT_RESUMED = 1u << 1,     /* ...by resuming an earlier session */
  AXLE_TRANSPORT_KERNEL_TX = 1u << 2,   /* the kernel encrypts what is sent (sendfile stays zero-copy) */
  AXLE_TRANSPORT_KERNEL_RX = 1u << 3    /* the kernel decrypts what is received */
};

/* A wrapped connection as the transport sees it. OWNERSHIP: transport; the
 * strings live as long as the connection. Empty strings when unknown. */
typedef struct axle_transport_info_t {
  uint32_t struct_size; /* set by the caller */
  uint32_t flags;       /* AXLE_TRANSPORT_* above */
  axle_str_t protocol;  /* e.g. "TLSv1.3" */
  axle_str_t cipher;    /* e.g. "TLS_AES_128_GCM_SHA256" */
  axle_str_t alpn;      /* the negotiated application protocol, e.g. "http/1.1" */
  axle_str_t server_name; /* the name the client asked for (SNI) */
} axle_transport_info_t;

typedef struct axle_transport_vtable_t {
  uint32_t struct_size;

  /* The plaintext side, an io vtable whose per-connection slots (send,
   * sendfile, recv_pause, recv_resume, close, shutdown_write, conn_address,
   * conn_option) the host calls with (thread_ctx, tconn) in place of
   * (loop, io_conn), under the contract of io.h: one send or sendfile in
   * flight, on_sent after the bytes were taken by the lower connection, and
   * so on. Its loop slots are NULL. OWNERSHIP: module, static. */
  const axle_io_vtable_t *stream;

  /* Wraps a new connection. thread_ctx: this module's context for the
   * worker. AXLE_AGAIN: the worker's bound of concurrent handshakes is
   * reached; the host refuses the connection (closes it) and counts it.
   * Any other error: refused likewise, with err set. */
  axle_status_t (*conn_open)(void *instance, void *thread_ctx, const axle_transport_conn_options_t *opts,
                             void **tconn_out, axle_error_t *err);

  /* The io module's events for a wrapped connection, forwarded by the host.
   * data: lent for the call only. */
  void (*lower_data)(void *tconn, const char *data, size_t len);
  void (*lower_eof)(void *tconn, int err);
  void (*lower_sent)(void *tconn, int err);
  /* The lower connection is closed: raise upper on_closed and free tconn.
   * Last call for tconn. */
  void (*lower_closed)(void *tconn);

  /* Fills out (out->struct_size set by the caller). */
  axle_status_t (*conn_info)(void *tconn, axle_transport_info_t *out);

  /* One line on what the transport offers, for the host's start log, e.g.
   * "user-space TLS (this kernel has no tls ULP)". OWNERSHIP: module, lives
   * as long as the instance. May be NULL. */
  const char *(*describe)(void *instance);
} axle_transport_vtable_t;

#ifdef __cplusplus
}
#endif

#endif /* AXLE_TRANSPORT_H */
