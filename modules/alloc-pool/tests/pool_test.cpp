// alloc "pool": config validation, the max_cached_bytes trim, its module metrics.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <axle/alloc.h>
#include <doctest/doctest.h>
#include <test_host.h>

#include <map>
#include <mutex>
#include <string>
#include <thread>
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

// A host whose metric slots record into a map by name (the kernel's registry
// is tested in tests/unit/kernel), to see what the pool publishes and when.
namespace {

struct FakeMetric {
  axle_metric_kind_t kind;
  int64_t value = 0;
};
std::mutex fake_mutex;
std::map<std::string, FakeMetric> &fake_metrics() {
  static std::map<std::string, FakeMetric> all;
  return all;
}

axle_metric_t *fake_register(const axle_config_t *, axle_metric_kind_t kind, const char *name, const char *,
                             const uint64_t *, uint32_t, axle_error_t *) {
  std::lock_guard lock(fake_mutex);
  auto [it, fresh] = fake_metrics().emplace(name, FakeMetric{kind});
  CHECK(fresh);
  return reinterpret_cast<axle_metric_t *>(&it->second);
}
void fake_add(axle_metric_t *m, int64_t delta) {
  std::lock_guard lock(fake_mutex);
  auto *f = reinterpret_cast<FakeMetric *>(m);
  if (f->kind == AXLE_METRIC_COUNTER) CHECK(delta >= 0);
  f->value += delta;
}
int64_t fake_value(const std::string &name) {
  std::lock_guard lock(fake_mutex);
  auto it = fake_metrics().find(name);
  REQUIRE_MESSAGE(it != fake_metrics().end(), name << " not registered");
  return it->second.value;
}

const axle_host_api_t *host_with_metrics() {
  static axle_host_api_t host = [] {
    axle_host_api_t h = *axle::test::host_api();
    // Grown to 1.2's metric slots (the ones filled below; those before them stay NULL).
    h.struct_size = offsetof(axle_host_api_t, response_cancel);
    h.abi_minor = 2;
    h.metric_register = fake_register;
    h.metric_add = fake_add;
    return h;
  }();
  return &host;
}

}  // namespace

TEST_CASE("pool: per class allocations and held bytes, and remote frees, through the host's metrics") {
  fake_metrics().clear();
  LoadedModule module(axle::test::module_path("alloc", "pool"));
  const auto &vt = module.vtable<axle_alloc_vtable_t>();
  axle_config_t cfg;
  void *instance = nullptr;
  axle_error_t err;
  REQUIRE(module.desc().create(host_with_metrics(), &cfg, &instance, &err) == AXLE_OK);
  // 44 classes + large, two metrics each, and the remote frees.
  CHECK(fake_metrics().size() == 2 * 45 + 1);
  CHECK(fake_metrics().at("axle_alloc_class_16_allocations_total").kind == AXLE_METRIC_COUNTER);
  CHECK(fake_metrics().at("axle_alloc_class_65536_held_bytes").kind == AXLE_METRIC_GAUGE);
  CHECK(fake_metrics().count("axle_alloc_class_large_allocations_total") == 1);

  axle_worker_t worker;
  void *ctx = nullptr;
  REQUIRE(module.desc().thread_init(instance, &worker, &ctx, &err) == AXLE_OK);
  std::vector<void *> blocks;
  for (int i = 0; i < 100; ++i) blocks.push_back(vt.alloc(ctx, 100));  // class 112
  // Published every 64 allocations: the first 64 are visible, the rest wait.
  CHECK(fake_value("axle_alloc_class_112_allocations_total") == 64);
  CHECK(fake_value("axle_alloc_class_112_held_bytes") == 64 * 112);
  for (int i = 0; i < 28; ++i) blocks.push_back(vt.alloc(ctx, 1 << 20));  // large, 128 allocations in all
  CHECK(fake_value("axle_alloc_class_112_allocations_total") == 100);
  CHECK(fake_value("axle_alloc_class_large_allocations_total") == 28);
  CHECK(fake_value("axle_alloc_class_large_held_bytes") >= 28 * (1 << 20));

  // Half the small blocks come back from another thread: remote frees.
  std::thread([&] {
    for (int i = 0; i < 50; ++i) vt.free(nullptr, blocks[i], 100);
  }).join();
  CHECK(fake_value("axle_alloc_remote_frees_total") == 50);
  for (int i = 50; i < 100; ++i) vt.free(ctx, blocks[i], 100);  // home frees: not remote
  for (int i = 100; i < 128; ++i) vt.free(ctx, blocks[i], 1 << 20);
  CHECK(fake_value("axle_alloc_remote_frees_total") == 50);

  // The worker stops: counts stay, held bytes leave the gauges.
  module.desc().thread_fini(instance, ctx);
  CHECK(fake_value("axle_alloc_class_112_allocations_total") == 100);
  CHECK(fake_value("axle_alloc_class_112_held_bytes") == 0);
  CHECK(fake_value("axle_alloc_class_large_held_bytes") == 0);
  module.desc().destroy(instance);
}

TEST_CASE("pool: a host without metric slots (1.1) is fine") {
  LoadedModule module(axle::test::module_path("alloc", "pool"));
  axle_host_api_t old = *axle::test::host_api();
  old.struct_size = offsetof(axle_host_api_t, response_keep);
  old.metric_register = fake_register;  // beyond struct_size: must not be called
  fake_metrics().clear();
  void *instance = nullptr;
  axle_config_t cfg;
  axle_error_t err;
  REQUIRE(module.desc().create(&old, &cfg, &instance, &err) == AXLE_OK);
  CHECK(fake_metrics().empty());
  module.desc().destroy(instance);
}
