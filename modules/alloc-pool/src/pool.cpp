// Per-worker size-class pool. See README.md for the design; in short:
// - a worker's heap owns slabs (kSlabBytes, aligned to their size) cut into
//   64 KiB runs; a span of runs serves one size class with its own free list;
// - alloc and a free on the owning worker touch only that worker's heap: no
//   lock, no atomic;
// - a free from any other thread (or with a NULL context) pushes the block on
//   the owner's lock-free return stack; the owner takes the whole stack back
//   with one exchange on its slow path;
// - once the owner has finished, the heap lives on until its last block comes
//   back, under the instance mutex.
// - per size class, allocations and bytes held are counted in the heap (plain
//   fields, owner only) and handed to the host's module metrics every
//   kPublishEvery allocations; remote frees are counted as they happen.
#include "pool.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <new>
#include <string>

namespace axle::pool {
namespace {

constexpr size_t kRunShift = 16;
constexpr size_t kRunBytes = size_t{1} << kRunShift;
constexpr size_t kRunsPerSlab = kSlabBytes / kRunBytes;
static_assert(kRunsPerSlab >= 2 && kRunsPerSlab <= 64, "slab must hold 2..64 runs (one 64-bit run mask)");

// Classes: 16..128 by 16, then four steps per doubling (128 -> 64 KiB is nine
// doublings), so rounding wastes at most 15 bytes up to 128 and under 20% above.
constexpr size_t kSmallClassCount = 8;
constexpr size_t kClassCount = kSmallClassCount + 4 * 9;
constexpr size_t kMaxClassBytes = 65536;

constexpr size_t class_bytes(size_t cls) {
  if (cls < kSmallClassCount) return (cls + 1) * 16;
  size_t base = size_t{128} << ((cls - kSmallClassCount) / 4);
  return base + ((cls - kSmallClassCount) % 4 + 1) * (base / 4);
}
static_assert(class_bytes(kClassCount - 1) == kMaxClassBytes);

inline size_t class_of(size_t size) {
  if (size <= 128) return size == 0 ? 0 : (size - 1) >> 4;
  size_t s = size - 1;
  size_t top_bit = std::bit_width(s) - 1;  // >= 7
  return kSmallClassCount + (top_bit - 7) * 4 + ((s >> (top_bit - 2)) & 3);
}

// Runs per span: the fewest runs whose tail waste stays within 1/8.
constexpr size_t span_runs_for(size_t bytes) {
  for (size_t runs = 1; runs < kRunsPerSlab; ++runs) {
    size_t span = runs * kRunBytes;
    if (span >= bytes && span % bytes <= span / 8) return runs;
  }
  return (bytes + kRunBytes - 1) / kRunBytes;
}

constexpr auto kSpanRuns = [] {
  std::array<uint8_t, kClassCount> runs{};
  for (size_t cls = 0; cls < kClassCount; ++cls) runs[cls] = static_cast<uint8_t>(span_runs_for(class_bytes(cls)));
  return runs;
}();
// A fresh slab must always fit a span of any class after run 0.
static_assert(std::ranges::max(kSpanRuns) < kRunsPerSlab);

// Bits [0, runs) set; runs < 64.
constexpr uint64_t run_mask(size_t runs) { return (uint64_t{1} << runs) - 1; }

// Entries of the return stack are block addresses (16-aligned) with tags in
// the low bits; kFinishedTag only ever sits in the stack head.
constexpr uintptr_t kFinishedTag = 1;
constexpr uintptr_t kLargeTag = 2;
constexpr uintptr_t kTagMask = 15;

// Blocks above the largest class are mapped on their own, after a header.
constexpr size_t kLargeHeaderBytes = 64;
constexpr size_t kMaxLargeBytes = size_t{1} << 46;

// Module metrics (host ABI 1.2): per class, and one more "class" for large blocks.
constexpr size_t kMetricClasses = kClassCount + 1;
constexpr size_t kLargeClass = kClassCount;
// The owner publishes its class counts once per this many allocations, so the
// fast path pays one decrement; the exposition lags by at most this many.
constexpr uint32_t kPublishEvery = 64;

struct Heap;
struct Slab;

struct Span {
  void *free_list;  // freed blocks, next pointer in the first word
  char *bump;       // first never-handed-out block
  char *end;        // end of the last whole block
  uint32_t live;    // blocks handed out and not yet back
  uint32_t block_bytes;
  uint16_t cls;
  uint8_t first_run;
  uint8_t runs;
  bool listed;  // in its heap's avail list for cls
  Span *prev, *next;
  Slab *slab;
};

struct Slab {
  Heap *owner;
  Slab *prev, *next;  // owner's slab list
  uint64_t free_runs;  // bit i set: run i belongs to no span
  uint32_t live_spans;
  uint8_t span_of_run[kRunsPerSlab];  // index of the span's first run
  Span spans[kRunsPerSlab];           // indexed by first run
};

constexpr size_t kSlabHeaderBytes = (sizeof(Slab) + 63) & ~size_t{63};
static_assert(kSlabHeaderBytes < kRunBytes / 2, "slab header must leave room in run 0");

struct LargeHeader {
  Heap *owner;
  size_t mapped_bytes;
  LargeHeader *prev, *next;  // owner's list, so a dying heap can unmap them
};
static_assert(sizeof(LargeHeader) <= kLargeHeaderBytes);

struct Instance;

struct Heap {
  // Owner-only state (or, after thread_fini, only under the instance mutex).
  Span *avail[kClassCount] = {};  // spans that may have room; alloc looks at the head
  Instance *instance = nullptr;
  Slab *slabs = nullptr;
  LargeHeader *large = nullptr;
  uint64_t live_blocks = 0;
  uint64_t cached_bytes = 0;  // slabs with no live span
  uint64_t reserved_bytes = 0;
  uint64_t in_use_bytes = 0;
  uint64_t fast_hits = 0;
  uint64_t slow_misses = 0;
  // Per class: allocations and bytes of live blocks, and what was published.
  uint64_t class_allocs[kMetricClasses] = {};
  int64_t class_held[kMetricClasses] = {};
  uint64_t published_allocs[kMetricClasses] = {};
  int64_t published_held[kMetricClasses] = {};
  uint32_t publish_countdown = kPublishEvery;
  bool finished = false;
  Heap *prev = nullptr, *next = nullptr;  // instance list, under the instance mutex

  // Written by other threads: kept on its own cache line.
  alignas(64) std::atomic<uintptr_t> returned{0};
};

// Handles of the module's metrics; null when the host has none (before 1.2)
// or refused one: that figure is then not published.
struct PoolMetrics {
  const axle_host_api_t *host = nullptr;
  axle_metric_t *allocs[kMetricClasses] = {};
  axle_metric_t *held[kMetricClasses] = {};
  axle_metric_t *remote_frees = nullptr;

  void add(axle_metric_t *m, int64_t delta) const {
    if (m && delta) host->metric_add(m, delta);
  }
};

struct Instance {
  const axle_host_api_t *host = nullptr;
  const axle_config_t *cfg = nullptr;
  PoolMetrics metrics;
  std::unique_ptr<SlabSource> source;
  uint64_t max_cached_bytes = 0;
  std::mutex mutex;  // heap list, and every heap whose owner has finished
  Heap *heaps = nullptr;
};

size_t page_bytes() {
  static const size_t bytes = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  return bytes;
}

inline Slab *slab_of(const void *block) {
  return reinterpret_cast<Slab *>(reinterpret_cast<uintptr_t>(block) & ~(uintptr_t{kSlabBytes} - 1));
}

inline Span *span_of(Slab *slab, const void *block) {
  size_t run = (reinterpret_cast<uintptr_t>(block) - reinterpret_cast<uintptr_t>(slab)) >> kRunShift;
  return &slab->spans[slab->span_of_run[run]];
}

inline LargeHeader *large_header_of(void *block) {
  return reinterpret_cast<LargeHeader *>(static_cast<char *>(block) - kLargeHeaderBytes);
}

// ---- span lists ----

void unlist(Heap *heap, Span *span) {
  if (span->prev) span->prev->next = span->next;
  else heap->avail[span->cls] = span->next;
  if (span->next) span->next->prev = span->prev;
  span->prev = span->next = nullptr;
  span->listed = false;
}

// Right behind the head: the head keeps serving, and a span that is entirely
// free and not the head can be given back.
void list_behind_head(Heap *heap, Span *span) {
  Span *head = heap->avail[span->cls];
  span->listed = true;
  if (!head) {
    span->prev = span->next = nullptr;
    heap->avail[span->cls] = span;
    return;
  }
  span->prev = head;
  span->next = head->next;
  if (head->next) head->next->prev = span;
  head->next = span;
}

void list_as_head(Heap *heap, Span *span) {
  Span *head = heap->avail[span->cls];
  span->listed = true;
  span->prev = nullptr;
  span->next = head;
  if (head) head->prev = span;
  heap->avail[span->cls] = span;
}

// ---- slabs ----

void unlink_slab(Heap *heap, Slab *slab) {
  if (slab->prev) slab->prev->next = slab->next;
  else heap->slabs = slab->next;
  if (slab->next) slab->next->prev = slab->prev;
}

void unmap_slab(Heap *heap, Slab *slab) {
  unlink_slab(heap, slab);
  heap->reserved_bytes -= kSlabBytes;
  heap->instance->source->unmap_slab(slab);
}

void slab_now_empty(Heap *heap, Slab *slab) {
  if (!heap->finished && heap->cached_bytes + kSlabBytes <= heap->instance->max_cached_bytes) {
    heap->cached_bytes += kSlabBytes;
    return;
  }
  unmap_slab(heap, slab);
}

void release_span(Heap *heap, Span *span) {
  if (span->listed) unlist(heap, span);
  Slab *slab = span->slab;
  // The runs' pages go back to the OS (run 0 keeps the page of the slab header).
  char *base = reinterpret_cast<char *>(slab);
  size_t page = page_bytes();
  size_t begin = span->first_run == 0 ? (kSlabHeaderBytes + page - 1) & ~(page - 1) : span->first_run * kRunBytes;
  size_t end = (size_t{span->first_run} + span->runs) * kRunBytes;
  if (end > begin) heap->instance->source->discard(base + begin, end - begin);
  slab->free_runs |= run_mask(span->runs) << span->first_run;
  if (--slab->live_spans == 0) slab_now_empty(heap, slab);
}

char *run_start(Slab *slab, size_t run) {
  char *start = reinterpret_cast<char *>(slab) + run * kRunBytes;
  return run == 0 ? start + kSlabHeaderBytes : start;
}

size_t span_capacity(Slab *slab, size_t first_run, size_t runs, size_t block_bytes) {
  char *end = reinterpret_cast<char *>(slab) + (first_run + runs) * kRunBytes;
  return static_cast<size_t>(end - run_start(slab, first_run)) / block_bytes;
}

// First `runs` consecutive free runs in `slab` that hold at least one block.
bool find_runs(Slab *slab, size_t runs, size_t block_bytes, size_t *first_out) {
  uint64_t want = run_mask(runs);
  for (size_t first = 0; first + runs <= kRunsPerSlab; ++first) {
    if (((slab->free_runs >> first) & want) != want) continue;
    if (span_capacity(slab, first, runs, block_bytes) == 0) continue;
    *first_out = first;
    return true;
  }
  return false;
}

Slab *new_slab(Heap *heap) {
  void *memory = heap->instance->source->map_slab();
  if (!memory) return nullptr;
  auto *slab = new (memory) Slab{};
  slab->owner = heap;
  slab->free_runs = kRunsPerSlab == 64 ? ~uint64_t{0} : run_mask(kRunsPerSlab);
  slab->next = heap->slabs;
  if (heap->slabs) heap->slabs->prev = slab;
  heap->slabs = slab;
  heap->reserved_bytes += kSlabBytes;
  return slab;
}

Span *new_span(Heap *heap, size_t cls) {
  size_t runs = kSpanRuns[cls];
  size_t block_bytes = class_bytes(cls);
  size_t first = 0;
  Slab *slab = heap->slabs;
  while (slab && !find_runs(slab, runs, block_bytes, &first)) slab = slab->next;
  if (!slab) {
    slab = new_slab(heap);
    if (!slab || !find_runs(slab, runs, block_bytes, &first)) return nullptr;
  } else if (slab->live_spans == 0) {
    heap->cached_bytes -= kSlabBytes;
  }
  slab->free_runs &= ~(run_mask(runs) << first);
  ++slab->live_spans;
  for (size_t run = first; run < first + runs; ++run) slab->span_of_run[run] = static_cast<uint8_t>(first);
  Span *span = &slab->spans[first];
  char *start = run_start(slab, first);
  *span = Span{
      .free_list = nullptr,
      .bump = start,
      .end = start + span_capacity(slab, first, runs, block_bytes) * block_bytes,
      .live = 0,
      .block_bytes = static_cast<uint32_t>(block_bytes),
      .cls = static_cast<uint16_t>(cls),
      .first_run = static_cast<uint8_t>(first),
      .runs = static_cast<uint8_t>(runs),
      .listed = false,
      .prev = nullptr,
      .next = nullptr,
      .slab = slab,
  };
  list_as_head(heap, span);
  return span;
}

// ---- blocks ----

inline void *take_block(Span *span) {
  if (void *block = span->free_list) {
    span->free_list = *static_cast<void **>(block);
    return block;
  }
  if (span->bump != span->end) {
    void *block = span->bump;
    span->bump += span->block_bytes;
    return block;
  }
  return nullptr;
}

// ---- module metrics ----

// Owner only (or under the instance mutex once finished): hands the class
// counts gathered since the last call to the host.
[[gnu::noinline]] void publish_metrics(Heap *heap) {
  heap->publish_countdown = kPublishEvery;
  const PoolMetrics &m = heap->instance->metrics;
  if (!m.host) return;
  for (size_t cls = 0; cls < kMetricClasses; ++cls) {
    m.add(m.allocs[cls], static_cast<int64_t>(heap->class_allocs[cls] - heap->published_allocs[cls]));
    m.add(m.held[cls], heap->class_held[cls] - heap->published_held[cls]);
    heap->published_allocs[cls] = heap->class_allocs[cls];
    heap->published_held[cls] = heap->class_held[cls];
  }
}

// The worker stops: its counts stay, its blocks leave the held gauges (a block
// freed later, under the mutex, is not published).
void retire_metrics(Heap *heap) {
  publish_metrics(heap);
  const PoolMetrics &m = heap->instance->metrics;
  for (size_t cls = 0; cls < kMetricClasses && m.host; ++cls) m.add(m.held[cls], -heap->published_held[cls]);
}

inline void count_class_alloc(Heap *heap, size_t cls, size_t bytes) {
  ++heap->class_allocs[cls];
  heap->class_held[cls] += static_cast<int64_t>(bytes);
  if (--heap->publish_countdown == 0) [[unlikely]]
    publish_metrics(heap);
}

inline void count_alloc(Heap *heap, Span *span) {
  ++span->live;
  ++heap->live_blocks;
  heap->in_use_bytes += span->block_bytes;
  count_class_alloc(heap, span->cls, span->block_bytes);
}

// A span was full or is now empty: list it again, or give its runs back.
[[gnu::noinline]] void span_needs_care(Heap *heap, Span *span) {
  if (!span->listed) list_behind_head(heap, span);
  if (span->live == 0 && (heap->finished || heap->avail[span->cls] != span)) release_span(heap, span);
}

// A block of this heap comes back (owner thread, or under the mutex once finished).
inline void free_small_home(Heap *heap, void *block) {
  Span *span = span_of(slab_of(block), block);
  *static_cast<void **>(block) = span->free_list;
  span->free_list = block;
  --span->live;
  --heap->live_blocks;
  heap->in_use_bytes -= span->block_bytes;
  heap->class_held[span->cls] -= span->block_bytes;
  if (!span->listed || span->live == 0) [[unlikely]]
    span_needs_care(heap, span);
}

void unmap_large(Heap *heap, LargeHeader *header) {
  if (header->prev) header->prev->next = header->next;
  else heap->large = header->next;
  if (header->next) header->next->prev = header->prev;
  heap->reserved_bytes -= header->mapped_bytes;
  ::munmap(header, header->mapped_bytes);
}

void free_large_home(Heap *heap, LargeHeader *header) {
  --heap->live_blocks;
  heap->in_use_bytes -= header->mapped_bytes;
  heap->class_held[kLargeClass] -= static_cast<int64_t>(header->mapped_bytes);
  unmap_large(heap, header);
}

void free_returned(Heap *heap, uintptr_t entries) {
  while (entries) {
    void *block = reinterpret_cast<void *>(entries & ~kTagMask);
    bool large = (entries & kLargeTag) != 0;
    entries = *static_cast<uintptr_t *>(block);
    if (large) free_large_home(heap, large_header_of(block));
    else free_small_home(heap, block);
  }
}

// Owner only: takes back every block other threads returned so far.
void drain_returned(Heap *heap) {
  if (heap->returned.load(std::memory_order_relaxed) == 0) return;
  free_returned(heap, heap->returned.exchange(0, std::memory_order_acquire));
}

void destroy_heap(Heap *heap) {
  Instance *instance = heap->instance;
  while (heap->slabs) unmap_slab(heap, heap->slabs);
  while (heap->large) unmap_large(heap, heap->large);
  if (heap->prev) heap->prev->next = heap->next;
  else instance->heaps = heap->next;
  if (heap->next) heap->next->prev = heap->prev;
  delete heap;
}

// The owner has finished: free the block here, and the heap with its last block.
void free_orphaned(Heap *heap, void *block, bool large) {
  Instance *instance = heap->instance;  // alive: this block still counts in heap
  std::lock_guard lock(instance->mutex);
  if (large) free_large_home(heap, large_header_of(block));
  else free_small_home(heap, block);
  if (heap->live_blocks == 0) destroy_heap(heap);
}

// Any thread but the owner: push onto the owner's return stack (Treiber push;
// no ABA since only the owner pops, and it takes the whole stack at once).
[[gnu::noinline]] void free_remote(Heap *owner, void *block, bool large) {
  const PoolMetrics &m = owner->instance->metrics;  // alive: this block still counts in owner
  if (m.host) m.add(m.remote_frees, 1);
  uintptr_t entry = reinterpret_cast<uintptr_t>(block) | (large ? kLargeTag : 0);
  uintptr_t head = owner->returned.load(std::memory_order_relaxed);
  do {
    if (head & kFinishedTag) {
      free_orphaned(owner, block, large);
      return;
    }
    *static_cast<uintptr_t *>(block) = head;
  } while (!owner->returned.compare_exchange_weak(head, entry, std::memory_order_release, std::memory_order_relaxed));
}

[[gnu::noinline]] void *alloc_large(Heap *heap, size_t size) {
  drain_returned(heap);
  if (size > kMaxLargeBytes) return nullptr;
  size_t page = page_bytes();
  size_t mapped = (size + kLargeHeaderBytes + page - 1) & ~(page - 1);
  void *memory = ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) return nullptr;
  auto *header = static_cast<LargeHeader *>(memory);
  *header = LargeHeader{.owner = heap, .mapped_bytes = mapped, .prev = nullptr, .next = heap->large};
  if (heap->large) heap->large->prev = header;
  heap->large = header;
  ++heap->live_blocks;
  heap->in_use_bytes += mapped;
  heap->reserved_bytes += mapped;
  ++heap->slow_misses;
  count_class_alloc(heap, kLargeClass, mapped);
  return static_cast<char *>(memory) + kLargeHeaderBytes;
}

[[gnu::noinline]] void *alloc_slow(Heap *heap, size_t cls) {
  for (int pass = 0; pass < 2; ++pass) {
    while (Span *span = heap->avail[cls]) {
      if (void *block = take_block(span)) {
        count_alloc(heap, span);
        ++heap->fast_hits;
        return block;
      }
      unlist(heap, span);  // full: listed again when one of its blocks comes back
    }
    if (pass == 0) drain_returned(heap);
  }
  Span *span = new_span(heap, cls);
  if (!span) return nullptr;
  void *block = take_block(span);
  count_alloc(heap, span);
  ++heap->slow_misses;
  return block;
}

// ---- vtable ----

void *pool_alloc(void *thread_ctx, size_t size) {
  auto *heap = static_cast<Heap *>(thread_ctx);
  if (!heap) return nullptr;  // only workers allocate: see README
  if (size > kMaxClassBytes) return alloc_large(heap, size);
  size_t cls = class_of(size);
  if (Span *span = heap->avail[cls]) {
    if (void *block = take_block(span)) {
      count_alloc(heap, span);
      ++heap->fast_hits;
      return block;
    }
  }
  return alloc_slow(heap, cls);
}

void pool_free(void *thread_ctx, void *ptr, size_t size) {
  if (!ptr) return;
  auto *heap = static_cast<Heap *>(thread_ctx);
  if (size > kMaxClassBytes) {
    LargeHeader *header = large_header_of(ptr);
    if (header->owner == heap) free_large_home(heap, header);
    else free_remote(header->owner, ptr, true);
    return;
  }
  Heap *owner = slab_of(ptr)->owner;
  if (owner == heap) free_small_home(heap, ptr);
  else free_remote(owner, ptr, false);
}

// Fills the fields that fit in out->struct_size (set by the caller). Drains
// returned blocks first so in_use is exact for this worker.
void pool_stats(void *thread_ctx, axle_alloc_stats_t *out) {
  if (!out) return;
  axle_alloc_stats_t stats{};
  if (auto *heap = static_cast<Heap *>(thread_ctx)) {
    drain_returned(heap);
    stats.bytes_reserved = heap->reserved_bytes;
    stats.bytes_in_use = heap->in_use_bytes;
    stats.fast_hits = heap->fast_hits;
    stats.slow_misses = heap->slow_misses;
  }
  uint32_t caller_size = out->struct_size;
  size_t n = caller_size < sizeof(stats) ? caller_size : sizeof(stats);
  std::memcpy(out, &stats, n);
  if (n >= sizeof(uint32_t)) out->struct_size = caller_size;
}

}  // namespace

const axle_alloc_vtable_t kAllocVtable = {
    .struct_size = sizeof(axle_alloc_vtable_t),
    .alloc = pool_alloc,
    .free = pool_free,
    .stats = pool_stats,
};

void set_error(const axle_host_api_t *host, axle_error_t *err, const char *msg) noexcept {
  if (host && host->error_set && err) host->error_set(err, msg, std::strlen(msg));
}

void *map_aligned(size_t bytes, size_t align) noexcept {
  size_t span = bytes + align;
  void *raw = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  uintptr_t start = reinterpret_cast<uintptr_t>(raw);
  uintptr_t aligned = (start + align - 1) & ~(uintptr_t{align} - 1);
  if (aligned > start) ::munmap(raw, aligned - start);
  uintptr_t tail = start + span - (aligned + bytes);
  if (tail) ::munmap(reinterpret_cast<void *>(aligned + bytes), tail);
  return reinterpret_cast<void *>(aligned);
}

namespace {

// Per class: axle_alloc_class_<bytes>_allocations_total and
// axle_alloc_class_<bytes>_held_bytes ("large" above the biggest class), and
// axle_alloc_remote_frees_total. The module's name is the metrics' label.
// Out of memory here leaves the pool without metrics, not without memory.
void register_metrics(Instance &instance) noexcept try {
  const axle_host_api_t *host = instance.host;
  if (!AXLE_STRUCT_HAS(host, axle_host_api_t, metrics_collect) || !host->metric_register || !host->metric_add) return;
  std::string refused;
  auto reg = [&](axle_metric_kind_t kind, const std::string &name, const char *help) {
    axle_metric_t *m = host->metric_register(instance.cfg, kind, name.c_str(), help, nullptr, 0, nullptr);
    if (!m) refused += (refused.empty() ? "" : ", ") + name;
    return m;
  };
  PoolMetrics &m = instance.metrics;
  for (size_t cls = 0; cls < kMetricClasses; ++cls) {
    std::string base = "axle_alloc_class_" + (cls == kLargeClass ? std::string("large") : std::to_string(class_bytes(cls)));
    m.allocs[cls] = reg(AXLE_METRIC_COUNTER, base + "_allocations_total", "Blocks allocated in this size class.");
    m.held[cls] = reg(AXLE_METRIC_GAUGE, base + "_held_bytes",
                      "Bytes of live blocks of this size class, as of each worker's last publication.");
  }
  m.remote_frees = reg(AXLE_METRIC_COUNTER, "axle_alloc_remote_frees_total",
                       "Blocks freed by another thread than the worker that allocated them.");
  m.host = host;
  if (!refused.empty() && host->log) {
    std::string msg = "metrics not published (refused by the host): " + refused;
    host->log(instance.cfg, AXLE_LOG_WARN, msg.data(), msg.size());
  }
} catch (const std::bad_alloc &) {
}

}  // namespace

axle_status_t create_instance(const axle_host_api_t *host, const axle_config_t *cfg,
                              std::unique_ptr<SlabSource> source, void **instance_out,
                              axle_error_t *err) noexcept {
  try {
    int64_t max_cached = 0;
    switch (host->config_get_int(cfg, kMaxCachedBytesKey.name, &max_cached)) {
      case AXLE_OK:
        break;
      case AXLE_ERR_NOT_FOUND:  // a host that does not apply declared defaults
        max_cached = std::stoll(kMaxCachedBytesKey.default_value);
        break;
      default:
        set_error(host, err, "max_cached_bytes: not an integer");
        return AXLE_ERR_INVALID;
    }
    if (max_cached < 0) {
      set_error(host, err, "max_cached_bytes: must be >= 0");
      return AXLE_ERR_INVALID;
    }
    auto *instance = new Instance();
    instance->host = host;
    instance->cfg = cfg;
    register_metrics(*instance);
    instance->source = std::move(source);
    instance->max_cached_bytes = static_cast<uint64_t>(max_cached);
    *instance_out = instance;
    return AXLE_OK;
  } catch (const std::bad_alloc &) {
    set_error(host, err, "out of memory creating the pool");
    return AXLE_ERR_NOMEM;
  } catch (...) {
    set_error(host, err, "internal error creating the pool");
    return AXLE_ERR_INTERNAL;
  }
}

void destroy_instance(void *instance_ptr) noexcept {
  auto *instance = static_cast<Instance *>(instance_ptr);
  if (!instance) return;
  uint64_t leaked_blocks = 0;
  {
    std::lock_guard lock(instance->mutex);
    while (Heap *heap = instance->heaps) {
      leaked_blocks += heap->live_blocks;
      destroy_heap(heap);
    }
  }
  if (leaked_blocks && instance->host->log) {
    std::string msg = "destroyed with " + std::to_string(leaked_blocks) +
                      " blocks never freed; their memory went back to the OS";
    instance->host->log(instance->cfg, AXLE_LOG_WARN, msg.data(), msg.size());
  }
  delete instance;
}

axle_status_t thread_init(void *instance_ptr, axle_worker_t *, void **thread_ctx_out, axle_error_t *err) noexcept {
  auto *instance = static_cast<Instance *>(instance_ptr);
  auto *heap = new (std::nothrow) Heap();
  if (!heap) {
    set_error(instance->host, err, "out of memory creating a worker heap");
    return AXLE_ERR_NOMEM;
  }
  heap->instance = instance;
  std::lock_guard lock(instance->mutex);
  heap->next = instance->heaps;
  if (instance->heaps) instance->heaps->prev = heap;
  instance->heaps = heap;
  *thread_ctx_out = heap;
  return AXLE_OK;
}

void thread_fini(void *instance_ptr, void *thread_ctx) noexcept {
  auto *instance = static_cast<Instance *>(instance_ptr);
  auto *heap = static_cast<Heap *>(thread_ctx);
  if (!heap) return;
  retire_metrics(heap);  // on the worker's thread, before the heap may go
  std::lock_guard lock(instance->mutex);
  // From here on, returning threads see the tag and free under the mutex.
  heap->finished = true;
  free_returned(heap, heap->returned.exchange(kFinishedTag, std::memory_order_acq_rel));
  for (size_t cls = 0; cls < kClassCount; ++cls) {
    for (Span *span = heap->avail[cls]; span;) {
      Span *next = span->next;
      if (span->live == 0) release_span(heap, span);
      span = next;
    }
  }
  // Cached empty slabs were kept for a future that will not come.
  for (Slab *slab = heap->slabs; slab;) {
    Slab *next = slab->next;
    if (slab->live_spans == 0) unmap_slab(heap, slab);
    slab = next;
  }
  heap->cached_bytes = 0;
  if (heap->live_blocks == 0) destroy_heap(heap);
}

}  // namespace axle::pool
