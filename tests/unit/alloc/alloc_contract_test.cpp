// The allocator contract (plugin-api/include/axle/alloc.h), run against every
// alloc module: sizes and alignment, no overlap, reuse, frees from other
// workers and from the control thread (NULL context), workers that finish
// while their blocks are still out, and stats that add up.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <axle/alloc.h>
#include <doctest/doctest.h>
#include <test_host.h>

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <set>
#include <cstdio>
#include <fstream>
#include <sys/mman.h>
#include <unistd.h>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using axle::test::Instance;
using axle::test::LoadedModule;

// AXLE_ALLOC_MODULES=pool,hugepages narrows the run; default: all three.
std::vector<std::string> modules_under_test() {
  const char *env = std::getenv("AXLE_ALLOC_MODULES");
  std::string list = env && *env ? env : "malloc,pool,hugepages";
  std::vector<std::string> names;
  std::stringstream in(list);
  for (std::string name; std::getline(in, name, ',');)
    if (!name.empty()) names.push_back(name);
  return names;
}

bool is_pool(const std::string &name) { return name != "malloc"; }

struct Block {
  void *ptr;
  size_t size;
};

// A worker context made on the calling thread, like the kernel's workers do.
class WorkerCtx {
 public:
  WorkerCtx(const LoadedModule &module, void *instance) : module_(module), instance_(instance) {
    axle_error_t err;
    axle_worker_t worker;
    REQUIRE_MESSAGE(module.desc().thread_init(instance, &worker, &ctx_, &err) == AXLE_OK, err.message);
  }
  ~WorkerCtx() { finish(); }
  void finish() {
    if (instance_) module_.desc().thread_fini(instance_, ctx_);
    instance_ = nullptr;
  }
  void *get() const { return ctx_; }

 private:
  const LoadedModule &module_;
  void *instance_;
  void *ctx_ = nullptr;
};

class Allocator {
 public:
  explicit Allocator(const LoadedModule &module) : vt(module.vtable<axle_alloc_vtable_t>()) {}
  const axle_alloc_vtable_t &vt;

  Block alloc(void *ctx, size_t size) const {
    void *p = vt.alloc(ctx, size);
    REQUIRE_MESSAGE(p != nullptr, "alloc(" << size << ") failed");
    REQUIRE_MESSAGE(reinterpret_cast<uintptr_t>(p) % 16 == 0, "alloc(" << size << ") not 16-aligned");
    return {p, size};
  }
  void free(void *ctx, const Block &b) const { vt.free(ctx, b.ptr, b.size); }
  axle_alloc_stats_t stats(void *ctx) const {
    axle_alloc_stats_t s{};
    s.struct_size = sizeof(s);
    REQUIRE(reinterpret_cast<void *>(vt.stats) != nullptr);  // all three modules provide it
    vt.stats(ctx, &s);
    return s;
  }
};

// Each block gets a pattern from its index, so an overlap shows as a mismatch.
void fill(const Block &b, size_t index) { std::memset(b.ptr, static_cast<int>(index * 37 + 11) & 0xff, b.size); }
bool intact(const Block &b, size_t index) {
  auto *bytes = static_cast<const unsigned char *>(b.ptr);
  auto want = static_cast<unsigned char>(index * 37 + 11);
  for (size_t i = 0; i < b.size; ++i)
    if (bytes[i] != want) return false;
  return true;
}

// The process's mappings, from /proc/self/maps: shows that a pool gave its
// memory back to the OS (valgrind and ASan do not track mmap leaks).
class Mappings {
 public:
  Mappings() {
    std::ifstream maps("/proc/self/maps");
    for (std::string line; std::getline(maps, line);) {
      unsigned long lo = 0, hi = 0;
      if (std::sscanf(line.c_str(), "%lx-%lx", &lo, &hi) == 2) ranges_.emplace_back(lo, hi);
    }
    REQUIRE(!ranges_.empty());
  }
  bool contains(const void *p) const {
    auto addr = reinterpret_cast<uintptr_t>(p);
    return std::any_of(ranges_.begin(), ranges_.end(), [&](auto r) { return addr >= r.first && addr < r.second; });
  }

 private:
  std::vector<std::pair<uintptr_t, uintptr_t>> ranges_;
};

// Sizes around every boundary the pools care about, plus large ones.
std::vector<size_t> interesting_sizes() {
  std::vector<size_t> sizes = {0, 1, 7, 8, 15, 16, 17, 31, 32, 33, 100, 127, 128, 129};
  for (size_t pow = 256; pow <= 65536; pow *= 2)
    for (size_t at : {pow / 4 * 3, pow - 1, pow, pow + 1}) sizes.push_back(at);
  for (size_t large : {65537ul, 100000ul, size_t{1} << 20, (size_t{3} << 20) + 5}) sizes.push_back(large);
  return sizes;
}

template <class Body>
void for_each_module(Body body) {
  for (const std::string &name : modules_under_test()) {
    CAPTURE(name);
    LoadedModule module(axle::test::module_path("alloc", name));
    REQUIRE(module.desc().kind == AXLE_KIND_ALLOC);
    REQUIRE(module.desc().vtable != nullptr);
    REQUIRE(module.vtable<axle_alloc_vtable_t>().struct_size >= sizeof(axle_alloc_vtable_t));
    body(name, module);
  }
}

}  // namespace

TEST_CASE("alloc: every size is aligned, writable and disjoint; in_use returns to 0") {
  for_each_module([](const std::string &, const LoadedModule &module) {
    Instance instance(module);
    Allocator a(module);
    void *ctx = instance.thread_ctx();
    std::vector<Block> blocks;
    for (int round = 0; round < 3; ++round)
      for (size_t size : interesting_sizes()) blocks.push_back(a.alloc(ctx, size));
    for (size_t size = 1; size <= 70000; size += size / 8 + 1) blocks.push_back(a.alloc(ctx, size));
    for (size_t i = 0; i < blocks.size(); ++i) fill(blocks[i], i);
    for (size_t i = 0; i < blocks.size(); ++i) CHECK_MESSAGE(intact(blocks[i], i), "block of " << blocks[i].size);
    CHECK(a.stats(ctx).bytes_in_use > 0);
    for (const Block &b : blocks) a.free(ctx, b);
    axle_alloc_stats_t s = a.stats(ctx);
    CHECK(s.bytes_in_use == 0);
    CHECK(s.bytes_reserved >= s.bytes_in_use);
  });
}

TEST_CASE("alloc: a freed block is reused by the next allocation of its size") {
  for_each_module([](const std::string &name, const LoadedModule &module) {
    if (!is_pool(name)) return;  // malloc gives no such promise
    Instance instance(module);
    Allocator a(module);
    void *ctx = instance.thread_ctx();
    for (size_t size : {16ul, 512ul, 16384ul, 65536ul}) {
      Block first = a.alloc(ctx, size);
      a.free(ctx, first);
      Block again = a.alloc(ctx, size);
      CHECK(again.ptr == first.ptr);
      a.free(ctx, again);
    }
    axle_alloc_stats_t s = a.stats(ctx);
    CHECK(s.fast_hits > 0);
    CHECK(s.slow_misses > 0);
    CHECK(s.bytes_in_use == 0);
  });
}

TEST_CASE("alloc: NULL pointer free is a no-op; stats honours the caller's struct_size") {
  for_each_module([](const std::string &, const LoadedModule &module) {
    Instance instance(module);
    Allocator a(module);
    a.vt.free(instance.thread_ctx(), nullptr, 64);
    a.vt.free(nullptr, nullptr, 64);
    Block b = a.alloc(instance.thread_ctx(), 64);
    // A caller built against an older, shorter struct: nothing past it is written.
    struct {
      axle_alloc_stats_t stats;
      uint64_t guard;
    } out{};
    std::memset(&out, 0xAB, sizeof(out));
    out.stats.struct_size = offsetof(axle_alloc_stats_t, bytes_in_use) + sizeof(uint64_t);
    a.vt.stats(instance.thread_ctx(), &out.stats);
    CHECK(out.stats.struct_size == offsetof(axle_alloc_stats_t, bytes_in_use) + sizeof(uint64_t));
    CHECK(out.stats.bytes_in_use >= 64);
    CHECK(out.stats.fast_hits == 0xABABABABABABABABull);
    CHECK(out.guard == 0xABABABABABABABABull);
    a.free(instance.thread_ctx(), b);
  });
}

TEST_CASE("alloc: blocks freed by another worker and by the control thread come home") {
  for_each_module([](const std::string &name, const LoadedModule &module) {
    Instance instance(module);
    Allocator a(module);
    void *owner = instance.thread_ctx();
    std::vector<Block> blocks;
    for (size_t i = 0; i < 64; ++i) blocks.push_back(a.alloc(owner, i % 2 ? 512 : 16384));
    blocks.push_back(a.alloc(owner, 200000));  // large: mapped on its own
    for (size_t i = 0; i < blocks.size(); ++i) fill(blocks[i], i);
    std::set<void *> returned;
    for (const Block &b : blocks) returned.insert(b.ptr);

    std::thread other([&] {
      WorkerCtx worker(module, instance.get());
      for (size_t i = 0; i < blocks.size(); i += 2) {
        CHECK(intact(blocks[i], i));
        a.free(worker.get(), blocks[i]);
      }
    });
    other.join();
    // The control thread has no worker context.
    for (size_t i = 1; i < blocks.size(); i += 2) a.free(nullptr, blocks[i]);

    if (!is_pool(name)) return;  // malloc counts frees on the freeing worker
    // Allocating past the span's fresh blocks makes the owner drain its
    // return stack, so the returned blocks are handed out again.
    size_t reused = 0;
    std::vector<Block> again;
    for (int i = 0; i < 400 && reused == 0; ++i) {
      again.push_back(a.alloc(owner, 512));
      reused += returned.count(again.back().ptr);
    }
    CHECK(reused > 0);
    for (const Block &b : again) a.free(owner, b);
    axle_alloc_stats_t s = a.stats(owner);  // drains the rest
    CHECK(s.bytes_in_use == 0);
  });
}

TEST_CASE("alloc: a worker that finishes with blocks out; they are freed later elsewhere") {
  for_each_module([](const std::string &name, const LoadedModule &module) {
    Instance instance(module);
    Allocator a(module);
    std::vector<Block> blocks;
    std::thread worker_thread([&] {
      WorkerCtx worker(module, instance.get());
      for (size_t size : interesting_sizes()) blocks.push_back(a.alloc(worker.get(), size));
      for (size_t i = 0; i < 200; ++i) blocks.push_back(a.alloc(worker.get(), 512));
      for (size_t i = 0; i < blocks.size(); ++i) fill(blocks[i], i);
      // Some frees are still waiting in its return stack when it finishes.
      std::thread early([&] {
        for (size_t i = 0; i < blocks.size(); i += 5) a.free(nullptr, blocks[i]);
      });
      early.join();
      worker.finish();
    });
    worker_thread.join();

    // Two threads return the rest concurrently: one as a worker, one as the control thread.
    std::mutex mutex;
    std::condition_variable cv;
    bool late_worker_ready = false;
    std::thread late_worker([&] {
      WorkerCtx worker(module, instance.get());
      {
        std::lock_guard lock(mutex);
        late_worker_ready = true;
      }
      cv.notify_one();
      for (size_t i = 1; i < blocks.size(); i += 5) {
        CHECK(intact(blocks[i], i));
        a.free(worker.get(), blocks[i]);
      }
    });
    {
      // Its context exists before any memory goes back, so no new mapping
      // can land where the pool's were and fool the check below.
      std::unique_lock lock(mutex);
      cv.wait(lock, [&] { return late_worker_ready; });
    }
    for (size_t i = 0; i < blocks.size(); ++i) {
      if (i % 5 == 0 || i % 5 == 1) continue;
      CHECK(intact(blocks[i], i));
      a.free(nullptr, blocks[i]);
    }
    late_worker.join();
    if (is_pool(name)) {
      Mappings now;
      for (const Block &b : blocks) CHECK_MESSAGE(!now.contains(b.ptr), "block of " << b.size << " still mapped");
    }
    // The finished worker's heap went away with its last block; the instance
    // still serves its other workers.
    Block b = a.alloc(instance.thread_ctx(), 4096);
    a.free(instance.thread_ctx(), b);
  });
}

TEST_CASE("alloc: a finished worker with no block out releases everything at once") {
  for_each_module([](const std::string &, const LoadedModule &module) {
    Instance instance(module);
    Allocator a(module);
    std::thread worker_thread([&] {
      WorkerCtx worker(module, instance.get());
      std::vector<Block> blocks;
      for (size_t i = 0; i < 1000; ++i) blocks.push_back(a.alloc(worker.get(), 16 + i * 7));
      for (const Block &b : blocks) a.free(worker.get(), b);
      CHECK(a.stats(worker.get()).bytes_in_use == 0);
    });
    worker_thread.join();
  });
}

TEST_CASE("alloc: owner allocates while two threads return its blocks concurrently") {
  for_each_module([](const std::string &name, const LoadedModule &module) {
    Instance instance(module);
    Allocator a(module);
    void *owner = instance.thread_ctx();
    std::mutex mutex;
    std::condition_variable ready, room;
    std::deque<Block> queue;
    constexpr size_t kMaxQueued = 64;  // so blocks keep coming back while the owner allocates
    bool done = false;
    auto consumer = [&](bool as_worker) {
      std::unique_ptr<WorkerCtx> worker;
      if (as_worker) worker = std::make_unique<WorkerCtx>(module, instance.get());
      for (;;) {
        std::unique_lock lock(mutex);
        ready.wait(lock, [&] { return done || !queue.empty(); });
        if (queue.empty()) return;
        Block b = queue.front();
        queue.pop_front();
        lock.unlock();
        room.notify_one();
        CHECK(intact(b, b.size));
        a.free(worker ? worker->get() : nullptr, b);
      }
    };
    std::thread first(consumer, true), second(consumer, false);
    constexpr size_t kBlocks = 20000;
    for (size_t i = 0; i < kBlocks; ++i) {
      Block b = a.alloc(owner, i % 3 == 0 ? 16384 : 512);
      fill(b, b.size);
      {
        std::unique_lock lock(mutex);
        room.wait(lock, [&] { return queue.size() < kMaxQueued; });
        queue.push_back(b);
      }
      ready.notify_one();
    }
    {
      std::lock_guard lock(mutex);
      done = true;
    }
    ready.notify_all();
    first.join();
    second.join();
    if (!is_pool(name)) return;
    axle_alloc_stats_t s = a.stats(owner);
    CHECK(s.bytes_in_use == 0);
    // Blocks came back and were reused: a few slabs, not 20000 blocks' worth.
    CHECK(s.bytes_reserved <= 8u << 20);
  });
}

TEST_CASE("alloc: destroying the instance releases blocks the caller never freed") {
  for_each_module([](const std::string &name, const LoadedModule &module) {
    if (!is_pool(name)) return;  // malloc cannot know its blocks
    std::vector<Block> blocks;
    {
      Instance instance(module);
      Allocator a(module);
      for (size_t size : interesting_sizes()) blocks.push_back(a.alloc(instance.thread_ctx(), size));
      Mappings before;
      for (const Block &b : blocks) REQUIRE(before.contains(b.ptr));
    }  // thread_fini, then destroy
    Mappings after;
    for (const Block &b : blocks) CHECK_MESSAGE(!after.contains(b.ptr), "block of " << b.size << " still mapped");
  });
}

TEST_CASE("alloc: an impossible size fails with NULL, and the pool keeps working") {
  for_each_module([](const std::string &name, const LoadedModule &module) {
    if (!is_pool(name)) return;  // malloc's answer is libc's (or the sanitizer's)
    Instance instance(module);
    Allocator a(module);
    CHECK(a.vt.alloc(instance.thread_ctx(), SIZE_MAX) == nullptr);
    CHECK(a.vt.alloc(instance.thread_ctx(), SIZE_MAX - 4096) == nullptr);
    CHECK(a.vt.alloc(instance.thread_ctx(), size_t{1} << 50) == nullptr);
    CHECK(a.vt.alloc(nullptr, 64) == nullptr);  // only workers allocate
    Block b = a.alloc(instance.thread_ctx(), 64);
    a.free(instance.thread_ctx(), b);
    CHECK(a.stats(instance.thread_ctx()).bytes_in_use == 0);
  });
}

TEST_CASE("alloc: pool gives back the pages of a freed peak while other blocks stay live") {
  for_each_module([](const std::string &name, const LoadedModule &module) {
    if (name != "pool") return;  // hugepages keeps whole 2 MiB pages by design; malloc decides for itself
    Instance instance(module);
    Allocator a(module);
    void *ctx = instance.thread_ctx();
    const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    // A connection-sized block keeps its slab live, like idle connections do.
    Block keep = a.alloc(ctx, 88);
    std::vector<Block> peak;
    for (int i = 0; i < 64; ++i) peak.push_back(a.alloc(ctx, 16384));
    for (size_t i = 0; i < peak.size(); ++i) fill(peak[i], i);
    // Resident pages among the peak's blocks (an unmapped page counts as not resident).
    auto resident = [&] {
      std::set<uintptr_t> pages;
      for (const Block &b : peak) {
        auto start = reinterpret_cast<uintptr_t>(b.ptr) & ~(page - 1);
        for (uintptr_t p = start; p < reinterpret_cast<uintptr_t>(b.ptr) + b.size; p += page) {
          unsigned char in_core = 0;
          if (::mincore(reinterpret_cast<void *>(p), page, &in_core) == 0 && (in_core & 1)) pages.insert(p);
        }
      }
      return pages.size();
    };
    const size_t touched = resident();
    REQUIRE(touched >= peak.size() * 16384 / page);
    for (const Block &b : peak) a.free(ctx, b);
    // Only the span the class keeps allocating from may stay resident (one 64 KiB
    // run here), plus the slab header's page that a block may share.
    CHECK(resident() <= 65536 / page + 2);
    a.free(ctx, keep);
    CHECK(a.stats(ctx).bytes_in_use == 0);
  });
}
