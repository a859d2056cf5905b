/* axle plugin ABI — allocator modules (kind AXLE_KIND_ALLOC).
 *
 * The kernel takes connection objects and read/write buffers from the
 * allocator of its generation. Calls take the calling worker's thread_ctx
 * (from thread_init), so a pool needs no lock on its fast path.
 */
#ifndef AXLE_ALLOC_H
#define AXLE_ALLOC_H

#include "axle/module.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct axle_alloc_stats_t {
  uint32_t struct_size;    /* set by the caller; the module fills only the fields that fit */
  uint64_t bytes_reserved; /* obtained from the OS, including free lists */
  uint64_t bytes_in_use;   /* handed out and not yet freed */
  uint64_t fast_hits;      /* allocations served from a free list */
  uint64_t slow_misses;    /* allocations that went to the OS or malloc */
} axle_alloc_stats_t;

typedef struct axle_alloc_vtable_t {
  uint32_t struct_size;

  /* Returns at least `size` bytes aligned to 16, or NULL. Called on the worker
   * owning thread_ctx. OWNERSHIP: the caller, until it calls free. */
  void *(*alloc)(void *thread_ctx, size_t size);

  /* Gives back a block from alloc with the same size. thread_ctx is the CALLING
   * worker's, which may not be the worker that allocated the block: a pool
   * must route such a block home (e.g. through a lock-free return queue). */
  void (*free)(void *thread_ctx, void *ptr, size_t size);

  /* Optional (may be NULL): fills stats for this worker. */
  void (*stats)(void *thread_ctx, axle_alloc_stats_t *out);
} axle_alloc_vtable_t;

#ifdef __cplusplus
}
#endif

#endif /* AXLE_ALLOC_H */
