// The per-worker pool shared by alloc "pool" and alloc "hugepages".
//
// Internal to the two modules (not part of the plugin ABI): each module
// compiles pool.cpp into its own .so with its own AXLE_POOL_SLAB_SHIFT and
// hands create_instance() its own SlabSource, so the pool logic exists once
// in the source tree and the modules differ only in where slabs come from.
#pragma once

#include <axle/alloc.h>

#include <cstddef>
#include <memory>

#ifndef AXLE_POOL_SLAB_SHIFT
#error "AXLE_POOL_SLAB_SHIFT must be set by the module's CMakeLists (log2 of the slab size)"
#endif

namespace axle::pool {

// A slab is the unit the pool takes from its source. It is aligned to its own
// size so a block finds its slab header by masking its address; that is why
// the size is fixed per module at build time: free() may get a NULL context
// and must still find the header without any instance state.
inline constexpr size_t kSlabBytes = size_t{1} << AXLE_POOL_SLAB_SHIFT;

// Where slabs come from. One per instance; map/unmap are called from worker
// threads concurrently, and from the control thread in destroy.
class SlabSource {
 public:
  virtual ~SlabSource() = default;
  // kSlabBytes of zero-initialised read/write memory aligned to kSlabBytes,
  // or nullptr when the system refuses.
  virtual void *map_slab() noexcept = 0;
  virtual void unmap_slab(void *slab) noexcept = 0;
  // Page-aligned [start, start + bytes) inside a slab holds no live block: the
  // source may give its pages back to the OS, keeping the range mapped (it then
  // reads as zeros). Called on the slow path when a span's runs return to their
  // slab, so an idle worker does not keep the pages of a past peak resident.
  virtual void discard(void *start, size_t bytes) noexcept = 0;
};

// Anonymous private mapping of `bytes` aligned to `align` (a power of two,
// at least a page), by over-mapping and trimming. nullptr on failure.
void *map_aligned(size_t bytes, size_t align) noexcept;

// The config key both modules declare, with the same meaning.
inline constexpr axle_config_key_t kMaxCachedBytesKey = {
    .name = "max_cached_bytes",
    .type = AXLE_CONFIG_INT,
    .default_value = "4194304",
    .doc = "Per worker, bytes of entirely free slabs kept for reuse; beyond it they go back to the OS",
};

// Reads the common keys and makes an instance that takes its slabs from
// `source`. The descriptor hooks below then operate on that instance.
axle_status_t create_instance(const axle_host_api_t *host, const axle_config_t *cfg,
                              std::unique_ptr<SlabSource> source, void **instance_out, axle_error_t *err) noexcept;
void destroy_instance(void *instance) noexcept;
axle_status_t thread_init(void *instance, axle_worker_t *worker, void **thread_ctx_out, axle_error_t *err) noexcept;
void thread_fini(void *instance, void *thread_ctx) noexcept;

// The alloc vtable (alloc, free, stats) of every pool-based module.
extern const axle_alloc_vtable_t kAllocVtable;

// Reports a failure through the host (which copies the text).
void set_error(const axle_host_api_t *host, axle_error_t *err, const char *msg) noexcept;

}  // namespace axle::pool
