// alloc "pool": config validation and the max_cached_bytes trim.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <axle/alloc.h>
#include <doctest/doctest.h>
#include <test_host.h>

#include <string>
#include <vector>

namespace {

using axle::test::Instance;
using axle::test::LoadedModule;

constexpr uint64_t kSlabBytes = 1u << 20;  // AXLE_POOL_SLAB_SHIFT=20 in ../CMakeLists.txt

axle_alloc_stats_t stats_of(const axle_alloc_vtable_t &vt, void *ctx) {
  axle_alloc_stats_t s{};
  s.struct_size = sizeof(s);
  vt.stats(ctx, &s);
  return s;
}

// Allocates `bytes` in 512-byte blocks, frees them all, returns reserved bytes
// at the peak and after.
std::pair<uint64_t, uint64_t> reserved_peak_and_after(int64_t max_cached_bytes) {
  LoadedModule module(axle::test::module_path("alloc", "pool"));
  axle_config_t cfg;
  cfg.ints["max_cached_bytes"] = max_cached_bytes;
  Instance instance(module, cfg);
  const auto &vt = module.vtable<axle_alloc_vtable_t>();
  std::vector<void *> blocks;
  for (int i = 0; i < 8 * 2048; ++i) blocks.push_back(vt.alloc(instance.thread_ctx(), 512));  // 8 MiB
  uint64_t peak = stats_of(vt, instance.thread_ctx()).bytes_reserved;
  for (void *p : blocks) vt.free(instance.thread_ctx(), p, 512);
  return {peak, stats_of(vt, instance.thread_ctx()).bytes_reserved};
}

}  // namespace

TEST_CASE("pool: a negative max_cached_bytes is refused with a message") {
  LoadedModule module(axle::test::module_path("alloc", "pool"));
  axle_config_t cfg;
  cfg.ints["max_cached_bytes"] = -1;
  void *instance = nullptr;
  axle_error_t err;
  CHECK(module.desc().create(axle::test::host_api(), &cfg, &instance, &err) == AXLE_ERR_INVALID);
  CHECK(err.message.find("max_cached_bytes") != std::string::npos);
}

TEST_CASE("pool: declares its keys with defaults") {
  LoadedModule module(axle::test::module_path("alloc", "pool"));
  REQUIRE(module.desc().config_key_count == 1);
  CHECK(std::string(module.desc().config_keys[0].name) == "max_cached_bytes");
  CHECK(module.desc().config_keys[0].default_value != nullptr);
}

TEST_CASE("pool: free slabs beyond max_cached_bytes go back to the OS") {
  auto [peak_none, after_none] = reserved_peak_and_after(0);
  CHECK(peak_none >= 8 * kSlabBytes);
  // The span the worker allocates from stays, so at most its slab remains.
  CHECK(after_none <= kSlabBytes);

  auto [peak_some, after_some] = reserved_peak_and_after(3 * kSlabBytes);
  CHECK(after_some <= 4 * kSlabBytes);
  CHECK(after_some >= 3 * kSlabBytes);

  auto [peak_all, after_all] = reserved_peak_and_after(int64_t{1} << 30);
  CHECK(after_all == peak_all);
}
