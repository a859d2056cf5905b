/* axle plugin ABI — router modules (kind AXLE_KIND_ROUTER).
 *
 * The kernel hands the generation's routes to build() once, on the control
 * thread, before any worker serves; match() then runs on every worker at
 * once, read-only, with no lock.
 *
 * Patterns: literal segments, "{name}" segments (one whole path segment, not
 * empty) and a final "*" (the rest of the path, possibly empty; available as
 * the parameter named "*"). Literal match beats {param}, which beats "*".
 */
#ifndef AXLE_ROUTER_H
#define AXLE_ROUTER_H

#include "axle/module.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
  AXLE_METHOD_GET = 1u << 0,
  AXLE_METHOD_HEAD = 1u << 1,
  AXLE_METHOD_POST = 1u << 2,
  AXLE_METHOD_PUT = 1u << 3,
  AXLE_METHOD_DELETE = 1u << 4,
  AXLE_METHOD_PATCH = 1u << 5,
  AXLE_METHOD_OPTIONS = 1u << 6,
  AXLE_METHOD_OTHER = 1u << 7, /* any method not listed above */
  AXLE_METHOD_ANY = 0xffu
};

typedef struct axle_route_spec_t {
  uint32_t struct_size;
  axle_str_t pattern;   /* OWNERSHIP: host; valid until table destroy */
  uint32_t method_mask; /* AXLE_METHOD_* bits this route accepts */
  uint32_t route_id;    /* host's identifier, returned by match */
} axle_route_spec_t;

typedef struct axle_route_param_t {
  axle_str_t name;  /* OWNERSHIP: router table; valid until table destroy */
  axle_str_t value; /* slice of the path passed to match */
} axle_route_param_t;

typedef enum axle_route_result_t {
  AXLE_ROUTE_FOUND = 0,
  AXLE_ROUTE_NOT_FOUND = 1,         /* no pattern matches the path: 404 */
  AXLE_ROUTE_METHOD_NOT_ALLOWED = 2 /* a pattern matches, not for this method: 405 */
} axle_route_result_t;

typedef struct axle_route_match_t {
  uint32_t struct_size;
  uint32_t route_id;            /* on FOUND */
  uint32_t allowed_methods;     /* on METHOD_NOT_ALLOWED: the union of methods the path accepts */
  axle_route_param_t *params;   /* caller-provided array */
  uint32_t param_capacity;      /* set by the caller */
  uint32_t param_count;         /* set by match */
} axle_route_match_t;

typedef struct axle_router_vtable_t {
  uint32_t struct_size;

  /* Builds a lookup table from routes (in config order, which breaks ties
   * between equally specific patterns). Every entry has the same struct_size
   * and the array steps by it (a newer host's entries may be larger). Control
   * thread. On an invalid pattern, or two routes with the same pattern and
   * overlapping methods, returns AXLE_ERR_INVALID and names the route in err. */
  axle_status_t (*build)(void *instance, const axle_route_spec_t *routes, size_t count, void **table_out,
                         axle_error_t *err);

  /* Frees a table from build. Control thread, after every worker stopped using it. */
  void (*table_destroy)(void *instance, void *table);

  /* Looks up a decoded path ("/a/b", no query). method_bit: one AXLE_METHOD_*
   * bit. Any thread, concurrently. At most param_capacity params are written;
   * more params than that is NOT_FOUND. */
  axle_route_result_t (*match)(const void *table, uint32_t method_bit, axle_str_t path, axle_route_match_t *out);
} axle_router_vtable_t;

#ifdef __cplusplus
}
#endif

#endif /* AXLE_ROUTER_H */
