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

/* A parsed, routed request. OWNERSHIP: host; every pointer and slice is valid
 * only during the handle() call that receives it. */
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
} axle_request_t;

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
   * it is 200. */
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
