// alloc "malloc": the plain twin of the pools. Every block comes straight
// from the C library; a worker context only holds that worker's counters, so
// stats cost no shared atomic.
#include <axle/alloc.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>

namespace {

// The ABI promises 16-byte alignment; glibc malloc gives that on 64-bit
// targets, elsewhere fall back to aligned_alloc.
constexpr bool kMallocIs16Aligned = alignof(std::max_align_t) >= 16;

struct WorkerCounters {
  uint64_t allocated_bytes = 0;  // by this worker
  uint64_t freed_bytes = 0;      // by this worker, whoever allocated
  uint64_t allocations = 0;
};

void *malloc_alloc(void *thread_ctx, size_t size) {
  // malloc(0) may return NULL, which the ABI reads as failure.
  size_t request = size == 0 ? 1 : size;
  void *block;
  if constexpr (kMallocIs16Aligned) {
    block = std::malloc(request);
  } else {
    if (request > SIZE_MAX - 15) return nullptr;
    block = std::aligned_alloc(16, (request + 15) & ~size_t{15});
  }
  if (block && thread_ctx) {
    auto *counters = static_cast<WorkerCounters *>(thread_ctx);
    counters->allocated_bytes += size;
    ++counters->allocations;
  }
  return block;
}

void malloc_free(void *thread_ctx, void *ptr, size_t size) {
  if (!ptr) return;
  std::free(ptr);
  if (thread_ctx) static_cast<WorkerCounters *>(thread_ctx)->freed_bytes += size;
}

// Writes the fields that fit in the caller's struct_size (set by the caller).
void malloc_stats(void *thread_ctx, axle_alloc_stats_t *out) {
  if (!out) return;
  axle_alloc_stats_t stats{};
  stats.struct_size = sizeof(stats);
  if (thread_ctx) {
    const auto *counters = static_cast<const WorkerCounters *>(thread_ctx);
    // A worker that freed more than it allocated (blocks from other workers)
    // reports 0: only the sum over workers is exact.
    uint64_t in_use = counters->allocated_bytes > counters->freed_bytes
                          ? counters->allocated_bytes - counters->freed_bytes
                          : 0;
    stats.bytes_in_use = in_use;
    stats.bytes_reserved = in_use;  // malloc's own caches are not visible
    stats.slow_misses = counters->allocations;
  }
  size_t n = out->struct_size < sizeof(stats) ? out->struct_size : sizeof(stats);
  uint32_t caller_size = out->struct_size;
  std::memcpy(out, &stats, n);
  if (n >= sizeof(uint32_t)) out->struct_size = caller_size;
}

axle_status_t malloc_create(const axle_host_api_t *, const axle_config_t *, void **instance_out, axle_error_t *) {
  // No per-instance state; a non-NULL token keeps "created" distinguishable.
  static int token;
  *instance_out = &token;
  return AXLE_OK;
}

void malloc_destroy(void *) {}

axle_status_t malloc_thread_init(void *, axle_worker_t *, void **thread_ctx_out, axle_error_t *err) {
  (void)err;
  auto *counters = new (std::nothrow) WorkerCounters();
  if (!counters) return AXLE_ERR_NOMEM;
  *thread_ctx_out = counters;
  return AXLE_OK;
}

void malloc_thread_fini(void *, void *thread_ctx) { delete static_cast<WorkerCounters *>(thread_ctx); }

const axle_alloc_vtable_t kVtable = {
    .struct_size = sizeof(axle_alloc_vtable_t),
    .alloc = malloc_alloc,
    .free = malloc_free,
    .stats = malloc_stats,
};

}  // namespace

AXLE_MODULE_ENTRY {
  static const axle_module_descriptor_t descriptor = {
      .struct_size = sizeof(axle_module_descriptor_t),
      .abi_major = AXLE_ABI_MAJOR,
      .abi_minor = AXLE_ABI_MINOR,
      .kind = AXLE_KIND_ALLOC,
      .flags = 0,
      .name = "malloc",
      .version = "1.0.0",
      .description = "Plain C library malloc/free with per-worker byte counters",
      .config_keys = nullptr,
      .config_key_count = 0,
      .create = malloc_create,
      .destroy = malloc_destroy,
      .thread_init = malloc_thread_init,
      .thread_fini = malloc_thread_fini,
      .vtable = &kVtable,
      .config_sections = nullptr,
      .config_section_count = 0,
  };
  return &descriptor;
}
