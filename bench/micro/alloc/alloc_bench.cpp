// Allocator micro-benchmark driver: loads one alloc module by path and runs a
// connection-like pattern inside axle_bench_run, the only function run.sh
// tells callgrind to count. Setup and a warm-up pass (which fills the free
// lists, as a server in steady state has them) are not counted.
//
//   alloc-bench MODULE.so|none PATTERN STEPS
//
// "none" runs the same pattern on a built-in allocator that does nothing, so
// run.sh can subtract what the pattern itself costs.
//
// PATTERN, over a ring of kLiveConnections live "connections":
//   conn    each step retires the oldest connection (a 512-byte object and a
//           16 KiB read buffer) and opens a new one: 2 alloc+free pairs
//   obj512  the 512-byte objects alone: 1 pair per step
//   buf16k  the 16 KiB buffers alone: 1 pair per step
//   remote  like conn, but the old connection is freed through a second
//           worker context (a pool routes it home through its return stack)
//
// Prints "pairs=N" and, for pools, the AnonHugePages of the memory used.
#include <axle/alloc.h>
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

// The host defines the opaque types.
struct axle_error_t {
  std::string message;
};
struct axle_worker_t {};

namespace {

constexpr size_t kLiveConnections = 64;
constexpr size_t kObjectBytes = 512;
constexpr size_t kBufferBytes = 16384;

void host_log(const axle_config_t *, axle_log_level_t, const char *msg, size_t len) {
  std::fprintf(stderr, "alloc log: %.*s\n", static_cast<int>(len), msg);
}
void host_error_set(axle_error_t *err, const char *msg, size_t len) { err->message.assign(msg, len); }
// Every key resolves to the module's declared default.
axle_status_t no_string(const axle_config_t *, const char *, axle_str_t *) { return AXLE_ERR_NOT_FOUND; }
axle_status_t no_int(const axle_config_t *, const char *, int64_t *) { return AXLE_ERR_NOT_FOUND; }
axle_status_t no_bool(const axle_config_t *, const char *, int *) { return AXLE_ERR_NOT_FOUND; }

axle_host_api_t make_host() {
  axle_host_api_t host{};
  host.struct_size = sizeof host;
  host.abi_major = AXLE_ABI_MAJOR;
  host.abi_minor = AXLE_ABI_MINOR;
  host.log = host_log;
  host.error_set = host_error_set;
  host.config_get_string = no_string;
  host.config_get_int = no_int;
  host.config_get_bool = no_bool;
  return host;
}

enum class Pattern { kConn, kObject, kBuffer, kRemote };

struct Connection {
  void *object = nullptr;
  void *buffer = nullptr;
};

}  // namespace

struct Ring {
  const axle_alloc_vtable_t *vt;
  void *owner;
  void *other;  // the freeing context in kRemote
  Pattern pattern;
  Connection live[kLiveConnections];
  size_t next = 0;
};

namespace {

void open_connection(Ring &ring, Connection &c) {
  if (ring.pattern != Pattern::kBuffer) c.object = ring.vt->alloc(ring.owner, kObjectBytes);
  if (ring.pattern != Pattern::kObject) c.buffer = ring.vt->alloc(ring.owner, kBufferBytes);
  // Touch them as a server would, so page faults land in warm-up, not later.
  if (c.object) static_cast<char *>(c.object)[0] = 1;
  if (c.buffer) static_cast<char *>(c.buffer)[0] = 1;
}

void close_connection(Ring &ring, Connection &c) {
  void *ctx = ring.pattern == Pattern::kRemote ? ring.other : ring.owner;
  if (c.object) ring.vt->free(ctx, c.object, kObjectBytes);
  if (c.buffer) ring.vt->free(ctx, c.buffer, kBufferBytes);
  c = Connection{};
}

long anon_huge_kb_at(const void *p) {
  auto addr = reinterpret_cast<uintptr_t>(p);
  std::ifstream smaps("/proc/self/smaps");
  bool inside = false;
  for (std::string line; std::getline(smaps, line);) {
    unsigned long lo, hi;
    char perms[8];
    if (std::sscanf(line.c_str(), "%lx-%lx %7s", &lo, &hi, perms) == 3) inside = addr >= lo && addr < hi;
    else if (inside && line.rfind("AnonHugePages:", 0) == 0) return std::atol(line.c_str() + 14);
  }
  return -1;
}

// The "none" allocator: one static block for every request, frees ignored.
alignas(64) char null_block[kBufferBytes];
void *null_alloc(void *, size_t) { return null_block; }
void null_free(void *, void *, size_t) {}
const axle_alloc_vtable_t kNullVtable = {
    .struct_size = sizeof(axle_alloc_vtable_t), .alloc = null_alloc, .free = null_free, .stats = nullptr};

// `steps` times, retire the oldest connection and open a new one.
void run_steps(Ring &ring, size_t steps) {
  for (size_t i = 0; i < steps; ++i) {
    Connection &c = ring.live[ring.next];
    close_connection(ring, c);
    open_connection(ring, c);
    ring.next = (ring.next + 1) % kLiveConnections;
  }
}

}  // namespace

// The only function callgrind counts (run.sh: --toggle-collect).
extern "C" __attribute__((noinline)) void axle_bench_run(Ring *ring, size_t steps) { run_steps(*ring, steps); }

int main(int argc, char **argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s MODULE.so conn|obj512|buf16k|remote STEPS\n", argv[0]);
    return 2;
  }
  std::string pattern_name = argv[2];
  Pattern pattern;
  if (pattern_name == "conn") pattern = Pattern::kConn;
  else if (pattern_name == "obj512") pattern = Pattern::kObject;
  else if (pattern_name == "buf16k") pattern = Pattern::kBuffer;
  else if (pattern_name == "remote") pattern = Pattern::kRemote;
  else {
    std::fprintf(stderr, "unknown pattern %s\n", argv[2]);
    return 2;
  }
  size_t steps = std::strtoull(argv[3], nullptr, 10);

  if (std::strcmp(argv[1], "none") == 0) {
    Ring ring{};
    ring.vt = &kNullVtable;
    ring.pattern = pattern;
    run_steps(ring, 4 * kLiveConnections);
    axle_bench_run(&ring, steps);
    std::printf("pairs=%zu\n", steps * (pattern == Pattern::kConn || pattern == Pattern::kRemote ? 2 : 1));
    return 0;
  }

  void *lib = ::dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    std::fprintf(stderr, "dlopen: %s\n", ::dlerror());
    return 1;
  }
  auto entry = reinterpret_cast<axle_module_entry_fn>(::dlsym(lib, AXLE_ENTRY_SYMBOL));
  const axle_module_descriptor_t *desc = entry ? entry() : nullptr;
  if (!desc || desc->kind != AXLE_KIND_ALLOC || desc->abi_major != AXLE_ABI_MAJOR) {
    std::fprintf(stderr, "%s: not an alloc module of ABI %d\n", argv[1], AXLE_ABI_MAJOR);
    return 1;
  }
  axle_host_api_t host = make_host();
  axle_error_t err;
  void *instance = nullptr;
  if (desc->create(&host, nullptr, &instance, &err) != AXLE_OK) {
    std::fprintf(stderr, "create: %s\n", err.message.c_str());
    return 1;
  }
  axle_worker_t owner_worker, other_worker;
  Ring ring{};
  ring.vt = static_cast<const axle_alloc_vtable_t *>(desc->vtable);
  ring.pattern = pattern;
  if (desc->thread_init && (desc->thread_init(instance, &owner_worker, &ring.owner, &err) != AXLE_OK ||
                            desc->thread_init(instance, &other_worker, &ring.other, &err) != AXLE_OK)) {
    std::fprintf(stderr, "thread_init: %s\n", err.message.c_str());
    return 1;
  }

  for (Connection &c : ring.live) open_connection(ring, c);
  run_steps(ring, 4 * kLiveConnections);  // warm-up, not counted
  axle_bench_run(&ring, steps);

  size_t pairs_per_step = pattern == Pattern::kConn || pattern == Pattern::kRemote ? 2 : 1;
  std::printf("pairs=%zu\n", steps * pairs_per_step);
  const void *sample = ring.live[0].buffer ? ring.live[0].buffer : ring.live[0].object;
  std::printf("anon_huge_kb=%ld\n", anon_huge_kb_at(sample));

  for (Connection &c : ring.live) close_connection(ring, c);
  if (desc->thread_fini) {
    desc->thread_fini(instance, ring.other);
    desc->thread_fini(instance, ring.owner);
  }
  desc->destroy(instance);
  ::dlclose(lib);
  return 0;
}
