// alloc "hugepages": the per-worker pool of alloc-pool (compiled from
// ../alloc-pool/src/pool.cpp) carved from 2 MiB pages, so connection objects
// and buffers of a worker sit on few TLB entries.
#include <sys/mman.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <new>
#include <string_view>

#include "pool.h"

namespace {

using axle::pool::kSlabBytes;
static_assert(kSlabBytes % (size_t{2} << 20) == 0, "slabs must be whole 2 MiB pages");

// MAP_HUGE_2MB lives in <linux/mman.h>; the page size is log2 in these bits.
constexpr int kMapHuge2Mb = 21 << MAP_HUGE_SHIFT;

// In order of preference; each falls back to the next.
enum class Backing { kHugetlb = 0, kThp = 1, kPlain = 2 };

constexpr const char *kBackingNames[] = {"hugetlb", "thp", "plain"};
constexpr const char *kBackingLogs[] = {
    "slabs backed by hugetlb 2 MiB pages (MAP_HUGETLB)",
    "slabs backed by transparent huge pages (MADV_HUGEPAGE); hugetlb pages unavailable",
    "slabs backed by plain 4 KiB pages; no huge pages available",
};

class HugeSlabSource final : public axle::pool::SlabSource {
 public:
  HugeSlabSource(const axle_host_api_t *host, const axle_config_t *cfg, Backing first)
      : host_(host), cfg_(cfg), first_(first) {}

  void *map_slab() noexcept override {
    if (first_ == Backing::kHugetlb) {
      void *slab = ::mmap(nullptr, kSlabBytes, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | kMapHuge2Mb, -1, 0);
      if (slab != MAP_FAILED) return note(slab, Backing::kHugetlb);
    }
    void *slab = axle::pool::map_aligned(kSlabBytes, kSlabBytes);
    if (!slab) return nullptr;
    if (first_ != Backing::kPlain && ::madvise(slab, kSlabBytes, MADV_HUGEPAGE) == 0)
      return note(slab, Backing::kThp);
    return note(slab, Backing::kPlain);
  }

  void unmap_slab(void *slab) noexcept override { ::munmap(slab, kSlabBytes); }
  // Kept: a slab is one 2 MiB page, resident as a whole; discarding part of a
  // transparent huge page would split it and lose what this module is for.
  void discard(void *, size_t) noexcept override {}

 private:
  // Logs each backing the first time this instance gets it.
  void *note(void *slab, Backing backing) {
    unsigned bit = 1u << static_cast<unsigned>(backing);
    if (!(logged_.fetch_or(bit, std::memory_order_relaxed) & bit) && host_->log) {
      const char *msg = kBackingLogs[static_cast<unsigned>(backing)];
      host_->log(cfg_, AXLE_LOG_INFO, msg, std::strlen(msg));
    }
    return slab;
  }

  const axle_host_api_t *host_;
  const axle_config_t *cfg_;
  Backing first_;
  std::atomic<unsigned> logged_{0};
};

constexpr axle_config_key_t kBackingKey = {
    .name = "backing",
    .type = AXLE_CONFIG_STRING,
    .default_value = "hugetlb",
    .doc = "Best backing to try per slab: hugetlb, thp or plain; each falls back to the next",
};

axle_status_t hugepages_create(const axle_host_api_t *host, const axle_config_t *cfg, void **instance_out,
                               axle_error_t *err) {
  axle_str_t value{};
  std::string_view backing_name = kBackingKey.default_value;
  switch (host->config_get_string(cfg, kBackingKey.name, &value)) {
    case AXLE_OK:
      backing_name = std::string_view(value.ptr, value.len);
      break;
    case AXLE_ERR_NOT_FOUND:  // a host that does not apply declared defaults
      break;
    default:
      axle::pool::set_error(host, err, "backing: not a string");
      return AXLE_ERR_INVALID;
  }
  int first = -1;
  for (int i = 0; i < 3; ++i)
    if (backing_name == kBackingNames[i]) first = i;
  if (first < 0) {
    axle::pool::set_error(host, err, "backing: expected \"hugetlb\", \"thp\" or \"plain\"");
    return AXLE_ERR_INVALID;
  }
  auto source = std::unique_ptr<axle::pool::SlabSource>(
      new (std::nothrow) HugeSlabSource(host, cfg, static_cast<Backing>(first)));
  if (!source) {
    axle::pool::set_error(host, err, "out of memory creating the pool");
    return AXLE_ERR_NOMEM;
  }
  return axle::pool::create_instance(host, cfg, std::move(source), instance_out, err);
}

const axle_config_key_t kConfigKeys[] = {axle::pool::kMaxCachedBytesKey, kBackingKey};

}  // namespace

AXLE_MODULE_ENTRY {
  static const axle_module_descriptor_t descriptor = {
      .struct_size = sizeof(axle_module_descriptor_t),
      .abi_major = AXLE_ABI_MAJOR,
      .abi_minor = AXLE_ABI_MINOR,
      .kind = AXLE_KIND_ALLOC,
      .flags = 0,
      .name = "hugepages",
      .version = "1.0.0",
      .description = "Per-worker size-class pool on 2 MiB huge pages (hugetlb, else THP, else plain)",
      .config_keys = kConfigKeys,
      .config_key_count = sizeof(kConfigKeys) / sizeof(kConfigKeys[0]),
      .create = hugepages_create,
      .destroy = axle::pool::destroy_instance,
      .thread_init = axle::pool::thread_init,
      .thread_fini = axle::pool::thread_fini,
      .vtable = &axle::pool::kAllocVtable,
      .config_sections = nullptr,
      .config_section_count = 0,
  };
  return &descriptor;
}
