/* axle plugin ABI — metrics modules (kind AXLE_KIND_METRICS).
 *
 * The kernel reports events to the metrics module through the calling
 * worker's thread_ctx, so counters live per worker and need no lock or shared
 * atomic. render() sums the workers' slots into an exposition.
 * With no metrics module configured the kernel only tests a NULL pointer.
 */
#ifndef AXLE_METRICS_H
#define AXLE_METRICS_H

#include "axle/module.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AXLE_ROUTE_NONE 0xffffffffu /* request matched no route */

typedef enum axle_timeout_kind_t {
  AXLE_TIMEOUT_HEADER = 1,
  AXLE_TIMEOUT_BODY = 2,
  AXLE_TIMEOUT_IDLE = 3,
  AXLE_TIMEOUT_WRITE = 4
} axle_timeout_kind_t;

typedef struct axle_request_record_t {
  uint32_t struct_size;
  uint32_t route_id;     /* AXLE_ROUTE_NONE if none matched */
  uint16_t status;
  uint64_t duration_ns;  /* head complete to response queued */
  uint64_t bytes_in;     /* head + body */
  uint64_t bytes_out;    /* response head + body */
} axle_request_record_t;

typedef struct axle_module_info_t {
  axle_str_t kind;    /* "io", "alloc", ... */
  axle_str_t name;
  axle_str_t version;
  axle_str_t abi;     /* "1.0" */
} axle_module_info_t;

/* What a generation is made of. OWNERSHIP: host; valid until destroy. */
typedef struct axle_metrics_generation_t {
  uint32_t struct_size;
  uint64_t generation_id;
  const axle_str_t *route_labels; /* indexed by route_id */
  uint32_t route_count;
  const axle_module_info_t *modules;
  uint32_t module_count;
  uint32_t worker_count;
} axle_metrics_generation_t;

typedef struct axle_metrics_vtable_t {
  uint32_t struct_size;

  /* Tells the module its generation, before any worker starts. Control thread. */
  axle_status_t (*describe)(void *instance, const axle_metrics_generation_t *gen, axle_error_t *err);

  /* Hot path, calling worker's thread_ctx. */
  void (*request_done)(void *thread_ctx, const axle_request_record_t *rec);
  void (*connection_opened)(void *thread_ctx);
  void (*connection_closed)(void *thread_ctx);
  void (*parse_error)(void *thread_ctx, uint16_t status);
  void (*timeout)(void *thread_ctx, axle_timeout_kind_t kind);

  /* Writes the exposition (body and Content-Type) into resp with the host's
   * response_* calls. Any worker thread, while others keep counting. */
  axle_status_t (*render)(void *instance, axle_response_t *resp);
} axle_metrics_vtable_t;

#ifdef __cplusplus
}
#endif

#endif /* AXLE_METRICS_H */
