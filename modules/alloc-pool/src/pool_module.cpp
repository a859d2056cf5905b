// alloc "pool": the per-worker pool (pool.cpp) on plain anonymous mappings.
#include <sys/mman.h>

#include <memory>
#include <new>

#include "pool.h"

namespace {

using axle::pool::kSlabBytes;

class MmapSlabSource final : public axle::pool::SlabSource {
 public:
  void *map_slab() noexcept override { return axle::pool::map_aligned(kSlabBytes, kSlabBytes); }
  void unmap_slab(void *slab) noexcept override { ::munmap(slab, kSlabBytes); }
  void discard(void *start, size_t bytes) noexcept override { ::madvise(start, bytes, MADV_DONTNEED); }
};

axle_status_t pool_create(const axle_host_api_t *host, const axle_config_t *cfg, void **instance_out,
                          axle_error_t *err) {
  auto source = std::unique_ptr<axle::pool::SlabSource>(new (std::nothrow) MmapSlabSource());
  if (!source) {
    axle::pool::set_error(host, err, "out of memory creating the pool");
    return AXLE_ERR_NOMEM;
  }
  return axle::pool::create_instance(host, cfg, std::move(source), instance_out, err);
}

const axle_config_key_t kConfigKeys[] = {axle::pool::kMaxCachedBytesKey};

}  // namespace

AXLE_MODULE_ENTRY {
  static const axle_module_descriptor_t descriptor = {
      .struct_size = sizeof(axle_module_descriptor_t),
      .abi_major = AXLE_ABI_MAJOR,
      .abi_minor = AXLE_ABI_MINOR,
      .kind = AXLE_KIND_ALLOC,
      .flags = 0,
      .name = "pool",
      .version = "1.0.0",
      .description = "Per-worker size-class pool on 1 MiB slabs, lock-free cross-worker frees",
      .config_keys = kConfigKeys,
      .config_key_count = sizeof(kConfigKeys) / sizeof(kConfigKeys[0]),
      .create = pool_create,
      .destroy = axle::pool::destroy_instance,
      .thread_init = axle::pool::thread_init,
      .thread_fini = axle::pool::thread_fini,
      .vtable = &axle::pool::kAllocVtable,
      .config_sections = nullptr,
      .config_section_count = 0,
  };
  return &descriptor;
}
