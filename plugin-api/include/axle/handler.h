/* axle plugin ABI — handler modules (kind AXLE_KIND_HANDLER).
 *
 * A handler produces responses for the routes that name it. Each route gets
 * its own state from route_init (on the control thread, off the hot path);
 * handle() then runs on any worker, concurrently, and builds the response
 * through the host's response_* calls (axle_host_api_t).
 */
#ifndef AXLE_HANDLER_H
#define AXLE_HANDLER_H

#include "axle/module.h"
#include "axle/parser.h"
#include "axle/router.h"

#ifdef __cplusplus
extern "C" {
#endif

/* axle_request_t.flags (since 1.2) */
enum {
  /* The route streams its request body (route key stream_body = true): `body`
   * is empty and the bytes arrive through on_body after the handler kept the
   * response. A handler that answers at once instead leaves the body unread,
   * and the host closes the connection after the response. */
  AXLE_REQUEST_BODY_STREAM = 1u << 0,
  /* since 1.3: the request came through a transport that secures the
   * connection (TLS); e.g. a proxy's X-Forwarded-Proto: https. */
  AXLE_REQUEST_SECURE = 1u << 1
};

/* A parsed, routed request. OWNERSHIP: host; every pointer and slice is valid
 * only during the handle() call that receives it (copy what a kept response
 * needs later). */
typedef struct axle_request_t {
  uint32_t struct_size;
  axle_str_t method;                 /* as sent, e.g. "GET" */
  uint32_t method_bit;               /* AXLE_METHOD_* */
  axle_str_t target;                 /* request-target as sent */
  axle_str_t path;                   /* percent-decoded, dot segments removed, always starts with '/' */
  axle_str_t query;                  /* raw query, without '?' */
  uint8_t version_minor;             /* HTTP/1.<minor> */
  const axle_header_t *headers;      /* header_count entries */
  uint32_t header_count;
  const axle_route_param_t *params;  /* path parameters; "*" holds the wildcard rest */
  uint32_t param_count;
  axle_str_t body;                   /* whole request body (chunked already decoded) */
  axle_worker_t *worker;             /* the worker serving it */
  /* since 1.2 */
  uint64_t request_id;               /* unique in the process while it runs (worker index in the top 16 bits) */
  uint32_t flags;                    /* AXLE_REQUEST_* */
  uint32_t reserved;                 /* zero; names the tail padding so a later field starts past it */
} axle_request_t;

/* ---- since 1.2: responses that outlive handle() ----
 *
 * Life of a kept response:
 *   handle(req, resp) ── response_keep(resp, hooks, arg) → kept ── return AXLE_PENDING
 *   later, on the same worker: [response_set_status/add_header/body_*] ...
 *      either response_finish                      (one response, Content-Length)
 *      or     response_begin → response_write* → response_finish   (streamed)
 *   or the host calls hooks->on_abort(arg, reason): the end; the module makes
 *      no further call with that handle and the host none into arg.
 * The host calls no hook after response_finish returned or during it, and
 * on_abort at most once. Requests pipelined behind a kept one wait their
 * turn. A kept response neither begun nor finished within the config's
 * [timeouts] response_ms is aborted (AXLE_ABORT_TIMEOUT) and answered 504. */

typedef enum axle_abort_reason_t {
  AXLE_ABORT_CLIENT_GONE = 1, /* the client closed or reset the connection, or a write failed */
  AXLE_ABORT_TIMEOUT = 2,     /* response or write timeout */
  AXLE_ABORT_DRAIN = 3,       /* the serving generation's drain deadline passed */
  AXLE_ABORT_ERROR = 4        /* the host could not go on (out of memory, malformed body framing) */
} axle_abort_reason_t;

/* OWNERSHIP: module; must outlive every response kept with it. Every hook
 * runs on the request's worker thread, never from inside a host call the
 * module is making (no re-entrancy), with the arg given to response_keep. */
struct axle_response_hooks_t {
  uint32_t struct_size;
  /* Required. The request ended before the module finished it; the handle is
   * invalid from now on. Free arg here. */
  void (*on_abort)(void *arg, axle_abort_reason_t reason);
  /* A response_write answered AXLE_AGAIN; the connection takes bytes again. May be NULL. */
  void (*on_writable)(void *arg);
  /* Streamed request body: the next decoded bytes, lent for the call; last = 1
   * with the final call (len may be 0). Nothing more after last. May be NULL
   * when the route does not stream its body. */
  void (*on_body)(void *arg, const char *data, size_t len, int last);
};

typedef struct axle_handler_vtable_t {
  uint32_t struct_size;

  /* Prepares one route. route_cfg: the [[route]] table, validated against the
   * module's config_keys; valid until route_fini. pattern: borrowed for the
   * call. Control thread. Failure makes the whole generation fail to build. */
  axle_status_t (*route_init)(void *instance, const axle_config_t *route_cfg, axle_str_t pattern,
                              void **route_state_out, axle_error_t *err);

  /* Frees a route's state. Control thread, after every worker stopped using it. */
  void (*route_fini)(void *instance, void *route_state);

  /* Serves one request on the calling worker. thread_ctx: this module's
   * context for that worker (NULL if no thread_init). Returning non-OK makes
   * the host answer 500 (and log the status). If the handler sets no status,
   * it is 200. Since 1.2 it may return AXLE_PENDING after response_keep
   * (see above) to finish the response later. */
  axle_status_t (*handle)(void *route_state, void *thread_ctx, const axle_request_t *req, axle_response_t *resp);
} axle_handler_vtable_t;

/* Finds a header by case-insensitive name; NULL if absent. Header-only helper. */
static inline const axle_header_t *axle_request_find_header(const axle_request_t *req, const char *name,
                                                            size_t name_len) {
  for (uint32_t i = 0; i < req->header_count; ++i) {
    const axle_header_t *h = &req->headers[i];
    if (h->name.len != name_len) continue;
    size_t k = 0;
    for (; k < name_len; ++k) {
      char a = h->name.ptr[k], b = name[k];
      if (a >= 'A' && a <= 'Z') a = (char)(a + 32);
      if (b >= 'A' && b <= 'Z') b = (char)(b + 32);
      if (a != b) break;
    }
    if (k == name_len) return h;
  }
  return NULL;
}

#ifdef __cplusplus
}
#endif

#endif /* AXLE_HANDLER_H */
