/* axle plugin ABI — common part: version, status codes, the module
 * descriptor, the entry symbol and the host services table.
 *
 * Pure C, C standard headers only. Read plugin-api/ABI.md for the rules
 * (versioning, ownership, threading). Name families:
 *   axle_*_t         types
 *   axle_*_vtable    hooks the MODULE implements, called by the host
 *   axle_host_api    callbacks the HOST implements, called by the module
 */
#ifndef AXLE_MODULE_H
#define AXLE_MODULE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A different major is refused; a higher minor only appends fields/slots. */
#define AXLE_ABI_MAJOR 1
#define AXLE_ABI_MINOR 3

/* True when a struct that starts with struct_size (as its writer compiled it)
 * is large enough to hold `field`. Every reader of a struct written by the
 * other side checks a field appended after 1.0 this way before reading it;
 * a struct may be larger than the reader's own sizeof (a newer writer). */
#define AXLE_STRUCT_HAS(ptr, type, field) \
  ((size_t)(ptr)->struct_size >= offsetof(type, field) + sizeof(((const type *)0)->field))

/* The one symbol every module exports. */
#define AXLE_ENTRY_SYMBOL "axle_module_entry"

#if defined(__GNUC__)
#define AXLE_EXPORT __attribute__((visibility("default")))
#else
#define AXLE_EXPORT
#endif

typedef enum axle_status_t {
  AXLE_OK = 0,
  AXLE_ERR_INVALID = 1,     /* bad argument or configuration */
  AXLE_ERR_NOMEM = 2,       /* allocation failed */
  AXLE_ERR_IO = 3,          /* system call failed; see message */
  AXLE_ERR_UNSUPPORTED = 4, /* the platform or module cannot do this */
  AXLE_ERR_NOT_FOUND = 5,   /* requested item does not exist */
  AXLE_ERR_INTERNAL = 6,    /* bug; the message says where */
  /* since 1.2 */
  AXLE_PENDING = 7, /* handle(): the module kept the response and finishes it later (handler.h) */
  AXLE_AGAIN = 8    /* not now: the queue is at its bound (after a write, on_writable follows) */
} axle_status_t;

typedef enum axle_module_kind_t {
  AXLE_KIND_IO = 1,
  AXLE_KIND_ALLOC = 2,
  AXLE_KIND_PARSER = 3,
  AXLE_KIND_ROUTER = 4,
  AXLE_KIND_METRICS = 5,
  AXLE_KIND_HANDLER = 6,
  AXLE_KIND_TRANSPORT = 7 /* since 1.3: a byte-stream layer over the io module (TLS); transport.h */
} axle_module_kind_t;

/* A byte range. Never NUL-terminated unless stated. OWNERSHIP: stated at each use. */
typedef struct axle_str_t {
  const char *ptr;
  size_t len;
} axle_str_t;

/* A header field (also in parser.h, which had it first). */
#ifndef AXLE_HEADER_T_DECLARED
#define AXLE_HEADER_T_DECLARED
typedef struct axle_header_t {
  axle_str_t name;
  axle_str_t value;
} axle_header_t;
#endif

typedef enum axle_log_level_t {
  AXLE_LOG_DEBUG = 0,
  AXLE_LOG_INFO = 1,
  AXLE_LOG_WARN = 2,
  AXLE_LOG_ERROR = 3
} axle_log_level_t;

/* ---- configuration keys a module declares (drive validation and --help-module) ---- */

typedef enum axle_config_type_t {
  AXLE_CONFIG_STRING = 1,
  AXLE_CONFIG_INT = 2,
  AXLE_CONFIG_BOOL = 3,
  /* since 1.3: an array of strings (["a", "b"]); default_value is its
   * elements joined by commas ("" = empty list). Read with config_get_string_list. */
  AXLE_CONFIG_STRING_LIST = 4
} axle_config_type_t;

typedef struct axle_config_key_t {
  const char *name;          /* OWNERSHIP: module, static. e.g. "root" */
  axle_config_type_t type;
  const char *default_value; /* OWNERSHIP: module, static. Text form ("64", "true"); NULL = required */
  const char *doc;           /* OWNERSHIP: module, static. One line of help */
} axle_config_key_t;

/* Since 1.3: a family of named sub-tables a module declares, each validated
 * against `keys`. For a module's options [module.<module>], section "upstream"
 * means tables [module.<module>.upstream.<NAME>] for any NAME; for a
 * transport, whose options are the [tls] table, [tls.<section>.<NAME>].
 * Read with config_section_count / config_section_at. No struct_size: a
 * later need gets a new descriptor field, never a longer element. */
typedef struct axle_config_section_t {
  const char *name;              /* OWNERSHIP: module, static. e.g. "upstream" */
  const char *doc;               /* OWNERSHIP: module, static. One line of help */
  const axle_config_key_t *keys; /* OWNERSHIP: module, static */
  size_t key_count;
} axle_config_section_t;

/* A connection's address, without system headers. family: AXLE_ADDR_*.
 * (Since 1.2 here; io.h used it first.) */
typedef enum axle_addr_family_t {
  AXLE_ADDR_NONE = 0, /* unknown or not an IP transport (addr and port are zero) */
  AXLE_ADDR_IPV4 = 4, /* addr[0..4) */
  AXLE_ADDR_IPV6 = 6  /* addr[0..16) */
} axle_addr_family_t;

typedef struct axle_address_t {
  uint32_t struct_size; /* set by the caller */
  uint16_t family;      /* axle_addr_family_t */
  uint16_t port;        /* host byte order */
  uint8_t addr[16];     /* network byte order */
} axle_address_t;

/* Which end of a connection an address call reports. */
typedef enum axle_conn_end_t {
  AXLE_CONN_PEER = 0,
  AXLE_CONN_LOCAL = 1
} axle_conn_end_t;

/* ---- opaque host handles ---- */

/* A validated key/value view of one config table (module options or one route). */
typedef struct axle_config_t axle_config_t;
/* Where a module reports why a call failed; the host copies the text. */
typedef struct axle_error_t axle_error_t;
/* One worker of the host: passed to thread_init, valid until thread_fini. */
typedef struct axle_worker_t axle_worker_t;
/* A response under construction; valid only during axle_handler_vtable_t.handle. */
typedef struct axle_response_t axle_response_t;

/* Called by the host when bytes it was lent are no longer needed, on the same
 * worker thread that lent them. */
typedef void (*axle_release_fn)(void *release_arg);

/* ---- since 1.2: loop services (timers, posted tasks, outgoing connections) and module metrics ---- */

/* What the host calls for a kept response (defined in handler.h). */
typedef struct axle_response_hooks_t axle_response_hooks_t;
/* A timer on one worker (host_api timer_start). */
typedef struct axle_timer_t axle_timer_t;
/* An outgoing TCP connection a module opened (host_api outgoing_connect). */
typedef struct axle_outgoing_t axle_outgoing_t;
/* A metric a module registered (host_api metric_register). */
typedef struct axle_metric_t axle_metric_t;

/* Work the host runs on a worker's thread: a timer firing or a posted task. */
typedef void (*axle_task_fn)(void *arg);

/* What the host tells a module about its outgoing connection. OWNERSHIP:
 * module, must outlive every connection that uses it (typically static).
 * Every event runs on the connection's worker thread, never from inside a
 * host call the module made (no re-entrancy), and never after outgoing_close
 * returned. arg: what the module passed to outgoing_connect. */
typedef struct axle_outgoing_events_t {
  uint32_t struct_size;
  /* The connection is up (err = 0) or could not be made (err = errno; the
   * module must still call outgoing_close). First event. */
  void (*on_connected)(void *arg, int err);
  /* Bytes arrived. data: lent for the call only. */
  void (*on_data)(void *arg, const char *data, size_t len);
  /* The peer closed its side (err = 0) or the connection failed (err = errno).
   * No on_data follows. The module still calls outgoing_close. */
  void (*on_eof)(void *arg, int err);
  /* An outgoing_send answered AXLE_AGAIN earlier; the connection takes bytes again. */
  void (*on_writable)(void *arg);
} axle_outgoing_events_t;

typedef enum axle_metric_kind_t {
  AXLE_METRIC_COUNTER = 1,   /* only grows: metric_add with delta >= 0 */
  AXLE_METRIC_GAUGE = 2,     /* metric_add with any delta, or metric_set */
  AXLE_METRIC_HISTOGRAM = 3  /* metric_observe; buckets fixed at registration */
} axle_metric_kind_t;

/* One metric as the host reports it to a metrics module (metrics_collect).
 * OWNERSHIP: host; every pointer valid for the visit call only. Values are
 * the sums over every thread that updated the metric. */
typedef struct axle_metric_sample_t {
  uint32_t struct_size;
  axle_metric_kind_t kind;
  axle_str_t module;   /* the registering module's name, e.g. "uring" */
  axle_str_t name;     /* e.g. "axle_uring_sqes_submitted_total" */
  axle_str_t help;
  int64_t value;       /* counter or gauge */
  /* Histogram: bucket_count upper bounds (ascending) with their cumulative
   * counts, plus the total count and sum of observed values. */
  const uint64_t *bucket_bounds;
  const uint64_t *bucket_counts;
  uint32_t bucket_count;
  uint64_t count;
  uint64_t sum;
} axle_metric_sample_t;

typedef void (*axle_metric_visit_fn)(void *arg, const axle_metric_sample_t *sample);

/* ---- host services: the only way a module reaches the kernel ----
 * OWNERSHIP: host; valid from create() until destroy() returns.
 * Every function is thread-safe unless it takes a worker or response handle,
 * in which case it must be called on that worker's thread. */
typedef struct axle_host_api_t {
  uint32_t struct_size; /* sizeof as the host compiled it: check before reading a newer field */
  uint16_t abi_major;
  uint16_t abi_minor;

  /* Log a line under the module's name. msg: borrowed for the call. */
  void (*log)(const axle_config_t *module_config, axle_log_level_t level, const char *msg, size_t len);

  /* Record why a call failed. msg: borrowed for the call; the host copies it. */
  void (*error_set)(axle_error_t *err, const char *msg, size_t len);

  /* Config lookups. Keys were declared by the module and validated by the host,
   * so a declared key always resolves (to its value or its default).
   * A string result points into host memory that lives as long as the config. */
  axle_status_t (*config_get_string)(const axle_config_t *cfg, const char *key, axle_str_t *out);
  axle_status_t (*config_get_int)(const axle_config_t *cfg, const char *key, int64_t *out);
  axle_status_t (*config_get_bool)(const axle_config_t *cfg, const char *key, int *out);
  /* Directory of the config file, NUL-terminated: to resolve relative paths. */
  const char *(*config_base_dir)(const axle_config_t *cfg);

  /* Monotonic clock, nanoseconds. */
  uint64_t (*now_ns)(void);
  /* The worker's cached IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT", 29 bytes),
   * refreshed once per second. OWNERSHIP: host, changes every second. */
  axle_str_t (*http_date)(const axle_worker_t *worker);
  /* Worker index in [0, worker_count). */
  uint32_t (*worker_index)(const axle_worker_t *worker);

  /* ---- response building (only inside handle(), on that worker's thread) ---- */
  void (*response_set_status)(axle_response_t *resp, uint16_t status);
  /* Adds a header. name/value: borrowed for the call; the host copies them.
   * The host writes Date, Content-Length/Transfer-Encoding and Connection itself. */
  axle_status_t (*response_add_header)(axle_response_t *resp, axle_str_t name, axle_str_t value);
  /* Body copied by the host. */
  axle_status_t (*response_body_copy)(axle_response_t *resp, const void *data, size_t len);
  /* Body lent by the module, sent without copying. The bytes must stay valid and
   * unchanged until release(release_arg) is called (release may be NULL when
   * the bytes outlive the route, e.g. built at route_init). The host calls
   * release exactly once whatever the return value, also on failure. */
  axle_status_t (*response_body_lend)(axle_response_t *resp, const void *data, size_t len,
                                      axle_release_fn release, void *release_arg);
  /* Body from a file, sent with sendfile/splice. The host takes ownership of fd
   * (closes it) whatever the return value. */
  axle_status_t (*response_body_file)(axle_response_t *resp, int fd, uint64_t offset, uint64_t length);
  /* A complete response on the wire (status line, headers, blank line, body),
   * lent like response_body_lend, sent as is. head_len: bytes up to and
   * including the blank line's CRLF; the host may insert a
   * "Connection: close" line just before that CRLF and sends only the head to
   * HEAD requests. The image carries its own Date (the module keeps it
   * current, e.g. once per second per worker) and Content-Length, and no
   * Connection header. status: the status in the image, for logs and metrics.
   * Other response_* calls made in the same handle() are ignored. Like
   * response_body_lend, release runs exactly once whatever the return value. */
  axle_status_t (*response_prebuilt)(axle_response_t *resp, const void *wire, size_t len, size_t head_len,
                                     uint16_t status, axle_release_fn release, void *release_arg);

  /* ==== since 1.2: check AXLE_STRUCT_HAS(host, axle_host_api_t, slot) first ==== */

  /* ---- responses that outlive handle() (handler.h explains the life of one) ----
   * Every call below takes either the resp of a running handle() or a kept
   * handle from response_keep, on that request's worker thread. A kept
   * handle that was finished or aborted is refused with AXLE_ERR_INVALID
   * and an error log line: misuse is an error, never memory corruption. */

  /* Keeps the response of this handle() call: returns the handle to use from
   * now on (resp itself is valid only during handle()), and handle() must
   * then return AXLE_PENDING. Status and headers set so far are kept.
   * hooks: OWNERSHIP module, must outlive the response (typically static);
   * on_abort is required. arg: the module's per-request data, passed back to
   * every hook. NULL when refused (not inside handle(), kept twice, no on_abort). */
  axle_response_t *(*response_keep)(axle_response_t *resp, const axle_response_hooks_t *hooks, void *arg);
  /* Sends the status and headers now and starts a streamed body.
   * content_length: the body's length if known, or -1: then HTTP/1.1 gets
   * chunked transfer coding and HTTP/1.0 a body delimited by closing. */
  axle_status_t (*response_begin)(axle_response_t *resp, int64_t content_length);
  /* Appends body bytes (begin first). data: borrowed for the call; the host
   * copies it. AXLE_AGAIN: the connection holds as much unsent output as it
   * may; nothing was taken, and on_writable follows when it drained. One write
   * larger than that bound ([limits] max_conn_output_bytes) is refused: split
   * it. A HEAD request's bytes are accepted and dropped. */
  axle_status_t (*response_write)(axle_response_t *resp, const void *data, size_t len);
  /* Ends the response; the handle is invalid afterwards. Without a begin, the
   * status, headers and body set so far go out as one response with a
   * Content-Length. trailers: borrowed for the call, sent only after a
   * chunked body (ignored otherwise); may be NULL. */
  axle_status_t (*response_finish)(axle_response_t *resp, const axle_header_t *trailers, uint32_t trailer_count);
  /* The connection closes after this response: announced ("Connection:
   * close") when called before begin, done after the response otherwise. */
  axle_status_t (*response_close_connection)(axle_response_t *resp);
  /* Sends "103 Early Hints" with these header lines now, before the final
   * response (skipped for HTTP/1.0 clients). headers: borrowed for the call. */
  axle_status_t (*response_early_hints)(axle_response_t *resp, const axle_header_t *headers, uint32_t count);
  /* Streamed request body (AXLE_REQUEST_BODY_STREAM): paused = 1 stops
   * on_body calls (the host stops reading from the client once its bounded
   * input buffer is full), paused = 0 resumes them. */
  axle_status_t (*request_body_pause)(axle_response_t *resp, int paused);
  /* The client connection's peer or local address (out->struct_size set by
   * the caller). AXLE_ERR_UNSUPPORTED when the transport has none. */
  axle_status_t (*request_address)(axle_response_t *resp, axle_conn_end_t end, axle_address_t *out);

  /* ---- loop services: on a worker's own thread unless stated ---- */

  /* Runs fn(arg) on `worker` once after delay_ms and then, if repeat_ms > 0,
   * every repeat_ms, until timer_stop. Call on that worker's thread. NULL when
   * refused (wrong thread, or the worker's bound of timers reached). */
  axle_timer_t *(*timer_start)(axle_worker_t *worker, uint64_t delay_ms, uint64_t repeat_ms, axle_task_fn fn,
                               void *arg);
  /* Stops a timer: fn is not called again, even if it is due. Safe on a
   * one-shot timer that already fired, and from inside its own fn. */
  void (*timer_stop)(axle_timer_t *timer);
  /* Runs fn(arg) soon on `worker`'s thread. Any thread. AXLE_AGAIN when the
   * worker's queue of posted tasks is full (the caller keeps arg),
   * AXLE_ERR_INVALID when the worker is stopping. `worker` must be one the
   * module was given and is valid until that worker's thread_fini. */
  axle_status_t (*worker_post)(axle_worker_t *worker, axle_task_fn fn, void *arg);

  /* Opens a TCP connection from `worker` (its thread) to a literal address,
   * through the serving io module. events/arg: see axle_outgoing_events_t.
   * NULL on immediate failure, with err set (err may be NULL: the host then
   * logs the reason). */
  axle_outgoing_t *(*outgoing_connect)(axle_worker_t *worker, const axle_address_t *to,
                                       const axle_outgoing_events_t *events, void *arg, axle_error_t *err);
  /* Queues bytes to send (copied). AXLE_AGAIN: the connection holds as much
   * unsent output as a client connection may; nothing was taken, on_writable
   * follows. Valid after on_connected(0). */
  axle_status_t (*outgoing_send)(axle_outgoing_t *conn, const void *data, size_t len);
  /* paused = 1: no on_data until paused = 0 (back-pressure toward the peer). */
  void (*outgoing_pause)(axle_outgoing_t *conn, int paused);
  /* Half-close after the queued bytes are sent; receiving goes on. */
  axle_status_t (*outgoing_shutdown_write)(axle_outgoing_t *conn);
  /* Closes the connection and frees the handle: no event for it after this
   * returns. Queued bytes not yet sent are dropped. */
  void (*outgoing_close)(axle_outgoing_t *conn);

  /* ---- module metrics ---- */

  /* Registers a metric of the module whose options are module_config (any
   * thread, typically create()). Registering the same name again (a later
   * generation) returns the same metric, which keeps its values; a different
   * kind is refused. name: [a-zA-Z_:][a-zA-Z0-9_:]*; name, help and bounds:
   * borrowed for the call. Histograms take bucket_count ascending upper
   * bounds (at most 32). NULL with err set when refused (the process holds
   * at most 1024 metrics). The metric lives until the process exits. */
  axle_metric_t *(*metric_register)(const axle_config_t *module_config, axle_metric_kind_t kind, const char *name,
                                    const char *help, const uint64_t *bucket_bounds, uint32_t bucket_count,
                                    axle_error_t *err);
  /* Lock-free updates into the calling thread's slot; any thread. */
  void (*metric_add)(axle_metric_t *metric, int64_t delta);
  void (*metric_set)(axle_metric_t *metric, int64_t value); /* gauge: this thread's contribution */
  void (*metric_observe)(axle_metric_t *metric, uint64_t value);
  /* For metrics modules: calls visit once per registered metric, summed over
   * threads. Any thread. */
  void (*metrics_collect)(axle_metric_visit_fn visit, void *arg);

  /* Ends a kept response unfinished (e.g. its source failed mid-body): before
   * begin the host answers 500; after begin what was written is sent and the
   * connection closes without completing the body (no last chunk), so the
   * client sees a truncated response, never a complete-looking one. The
   * handle is invalid afterwards; no on_abort follows. */
  axle_status_t (*response_cancel)(axle_response_t *resp);

  /* ==== since 1.3: check AXLE_STRUCT_HAS(host, axle_host_api_t, slot) first ==== */

  /* ---- configuration: lists, sections, positions ---- */

  /* A declared AXLE_CONFIG_STRING_LIST key: *items points at *count strings
   * in host memory that lives as long as cfg. */
  axle_status_t (*config_get_string_list)(const axle_config_t *cfg, const char *key, const axle_str_t **items,
                                          size_t *count);
  /* How many tables the config has in a declared section (0 when none). */
  size_t (*config_section_count)(const axle_config_t *cfg, const char *section);
  /* The index-th table of a section, in name order: its NAME and its
   * validated keys (defaults applied), both living as long as cfg.
   * AXLE_ERR_NOT_FOUND past the end. */
  axle_status_t (*config_section_at)(const axle_config_t *cfg, const char *section, size_t index, axle_str_t *name,
                                     const axle_config_t **table);
  /* Where a key was written, for a module's own error messages:
   * "FILE:LINE: path.to.key" (the table's own position and path when the
   * key was not written, e.g. a default; key NULL = the table itself).
   * Host memory living as long as cfg; NUL-terminated. */
  const char *(*config_position)(const axle_config_t *cfg, const char *key);

  /* ---- protocol switch (Upgrade, e.g. WebSocket) ---- */

  /* Answers "101 Switching Protocols" with the headers set so far (the host
   * adds "Connection: upgrade"; the module sets Upgrade and the rest) and
   * turns the connection into a tunnel for this kept response: from then on
   * response_write sends raw bytes (no chunking), on_body delivers every
   * byte the client sends (last = 1 at its end of stream),
   * request_body_pause applies back-pressure, and response_finish closes the
   * connection once the written bytes are sent. Only for a kept response
   * that was not begun, whose request is HTTP/1.1 with an Upgrade header
   * and whose hooks have on_body; AXLE_ERR_INVALID otherwise. The host reads
   * nothing past such a request until its response is known, so the tunnel
   * gets every byte that followed it. */
  axle_status_t (*response_switch_protocols)(axle_response_t *resp);
} axle_host_api_t;

/* ---- the descriptor a module returns from its entry symbol ---- */

enum {
  /* The module keeps state that cannot be unloaded (e.g. a library with
   * thread-local destructors); the host keeps it mapped for the process life. */
  AXLE_MODULE_FLAG_NO_UNLOAD = 1u << 0,
  /* since 1.3, handlers: a route of this module streams its request body
   * (as stream_body = true) unless the route sets stream_body = false. */
  AXLE_MODULE_FLAG_STREAM_BODY = 1u << 1
};

typedef struct axle_module_descriptor_t {
  uint32_t struct_size; /* sizeof(axle_module_descriptor_t) as the module compiled it */
  uint16_t abi_major;   /* AXLE_ABI_MAJOR the module was built with */
  uint16_t abi_minor;
  axle_module_kind_t kind;
  uint32_t flags;           /* AXLE_MODULE_FLAG_* */
  const char *name;         /* OWNERSHIP: module, static. Config name, e.g. "epoll" */
  const char *version;      /* OWNERSHIP: module, static. Module's own version, e.g. "1.0.0" */
  const char *description;  /* OWNERSHIP: module, static. One line */
  /* Keys of the module's option table ([module.<name>]); for handlers, the keys
   * allowed in a [[route]] that uses it. OWNERSHIP: module, static. */
  const axle_config_key_t *config_keys;
  size_t config_key_count;

  /* Lifecycle, common to every kind. Only create and destroy are required. */

  /* Make an instance. host: see axle_host_api_t. cfg: the module's validated
   * options, valid until destroy. On failure return non-OK and set err. */
  axle_status_t (*create)(const axle_host_api_t *host, const axle_config_t *cfg, void **instance_out,
                          axle_error_t *err);
  /* Free the instance. Called after every thread_fini, on the control thread. */
  void (*destroy)(void *instance);
  /* Per-worker state, called on the worker's thread before it serves. May be NULL. */
  axle_status_t (*thread_init)(void *instance, axle_worker_t *worker, void **thread_ctx_out, axle_error_t *err);
  /* Called on the worker's thread after it stops serving. May be NULL. */
  void (*thread_fini)(void *instance, void *thread_ctx);

  /* Kind-specific hooks: points to the axle_<kind>_vtable_t matching `kind`,
   * whose first field is its struct_size. OWNERSHIP: module, static. */
  const void *vtable;

  /* ---- since 1.3 (the host checks AXLE_STRUCT_HAS) ---- */

  /* Named sub-table families of the module's options (see
   * axle_config_section_t). OWNERSHIP: module, static. */
  const axle_config_section_t *config_sections;
  size_t config_section_count;
} axle_module_descriptor_t;

/* The entry symbol: returns a static descriptor; never NULL for a valid module. */
typedef const axle_module_descriptor_t *(*axle_module_entry_fn)(void);

/* Declares the entry point in a module's source file. */
#ifdef __cplusplus
#define AXLE_MODULE_ENTRY extern "C" AXLE_EXPORT const axle_module_descriptor_t *axle_module_entry(void)
#else
#define AXLE_MODULE_ENTRY AXLE_EXPORT const axle_module_descriptor_t *axle_module_entry(void)
#endif

#ifdef __cplusplus
}
#endif

#endif /* AXLE_MODULE_H */
