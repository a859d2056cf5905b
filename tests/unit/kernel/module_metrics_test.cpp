// The module metrics registry through the host table, as a module sees it:
// per-thread sums, thread exit, re-registration and every refusal.
#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

#include "host_api.h"
#include "module_config.h"
#include "module_metrics.h"

namespace {

const axle_host_api_t &host() { return *axle::host_api(); }

axle_config_t config_of(const std::string &owner) {
  axle_config_t cfg;
  cfg.owner = owner;
  return cfg;
}

struct Seen {
  std::string module, help;
  axle_metric_kind_t kind{};
  int64_t value = 0;
  std::vector<uint64_t> bounds, counts;
  uint64_t count = 0, sum = 0;
  int visits = 0;
};

// What metrics_collect reports for (module, name).
Seen collect(const std::string &module, const std::string &name) {
  struct Query {
    std::string module, name;
    Seen seen;
  } q{module, name, {}};
  host().metrics_collect(
      [](void *arg, const axle_metric_sample_t *s) {
        auto &q = *static_cast<Query *>(arg);
        if (std::string(s->module.ptr, s->module.len) != q.module || std::string(s->name.ptr, s->name.len) != q.name)
          return;
        Seen &seen = q.seen;
        ++seen.visits;
        seen.module.assign(s->module.ptr, s->module.len);
        seen.help.assign(s->help.ptr, s->help.len);
        seen.kind = s->kind;
        seen.value = s->value;
        seen.bounds.assign(s->bucket_bounds, s->bucket_bounds + s->bucket_count);
        seen.counts.assign(s->bucket_counts, s->bucket_counts + s->bucket_count);
        seen.count = s->count;
        seen.sum = s->sum;
      },
      &q);
  return q.seen;
}

axle_metric_t *reg(const axle_config_t &cfg, axle_metric_kind_t kind, const char *name, axle_error_t &err,
                   const uint64_t *bounds = nullptr, uint32_t n = 0) {
  return host().metric_register(&cfg, kind, name, "help text", bounds, n, &err);
}

}  // namespace

TEST_SUITE("module_metrics") {
  TEST_CASE("the host table carries the five metric slots") {
    REQUIRE(AXLE_STRUCT_HAS(&host(), axle_host_api_t, metrics_collect));
    const bool all_filled = host().metric_register && host().metric_add && host().metric_set &&
                            host().metric_observe && host().metrics_collect;
    CHECK(all_filled);
  }

  TEST_CASE("a counter sums every thread's cells, exited threads included") {
    axle_config_t cfg = config_of("sumtest");
    axle_error_t err;
    axle_metric_t *m = reg(cfg, AXLE_METRIC_COUNTER, "axle_test_sum_total", err);
    REQUIRE_MESSAGE(m, err.message);
    constexpr int kThreads = 4, kAdds = 100000;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([m] {
        for (int i = 0; i < kAdds; ++i) host().metric_add(m, 1);
      });
    // Collecting while they count: a value never exceeds the final total.
    for (int i = 0; i < 20; ++i) CHECK(collect("sumtest", "axle_test_sum_total").value <= int64_t{kThreads} * kAdds);
    for (auto &t : threads) t.join();  // every thread exited: only retired totals remain
    host().metric_add(m, 5);            // and the calling thread's own cells
    Seen s = collect("sumtest", "axle_test_sum_total");
    CHECK(s.visits == 1);
    CHECK(s.kind == AXLE_METRIC_COUNTER);
    CHECK(s.help == "help text");
    CHECK(s.value == int64_t{kThreads} * kAdds + 5);
  }

  TEST_CASE("a counter ignores negative deltas, set and observe") {
    axle_config_t cfg = config_of("neg");
    axle_error_t err;
    axle_metric_t *m = reg(cfg, AXLE_METRIC_COUNTER, "axle_test_neg_total", err);
    REQUIRE(m);
    host().metric_add(m, 3);
    host().metric_add(m, -2);
    host().metric_set(m, 100);
    host().metric_observe(m, 7);
    CHECK(collect("neg", "axle_test_neg_total").value == 3);
    // A null metric (a refused registration) is ignored, not a crash.
    host().metric_add(nullptr, 1);
    host().metric_set(nullptr, 1);
    host().metric_observe(nullptr, 1);
  }

  TEST_CASE("a gauge: set is the thread's contribution, add moves it, contributions sum") {
    axle_config_t cfg = config_of("gauge");
    axle_error_t err;
    axle_metric_t *g = reg(cfg, AXLE_METRIC_GAUGE, "axle_test_gauge", err);
    REQUIRE(g);
    host().metric_set(g, 10);
    host().metric_set(g, 7);  // replaces this thread's 10
    std::thread([g] {
      host().metric_set(g, 5);
      host().metric_add(g, -8);  // this thread now contributes -3, kept after it exits
    }).join();
    CHECK(collect("gauge", "axle_test_gauge").value == 4);
  }

  TEST_CASE("a histogram: le buckets, cumulative, count and sum, over threads") {
    axle_config_t cfg = config_of("histo");
    axle_error_t err;
    const uint64_t bounds[] = {10, 100, 1000};
    axle_metric_t *h = reg(cfg, AXLE_METRIC_HISTOGRAM, "axle_test_latency", err, bounds, 3);
    REQUIRE_MESSAGE(h, err.message);
    auto feed = [h] {
      for (uint64_t v : {0u, 10u, 11u, 100u, 999u, 1000u, 1001u, 50000u}) host().metric_observe(h, v);
    };
    std::thread(feed).join();
    feed();
    Seen s = collect("histo", "axle_test_latency");
    CHECK(s.kind == AXLE_METRIC_HISTOGRAM);
    CHECK(s.bounds == std::vector<uint64_t>{10, 100, 1000});
    CHECK(s.counts == std::vector<uint64_t>{4, 8, 12});  // per thread: {0,10} {11,100} {999,1000}
    CHECK(s.count == 16);
    CHECK(s.sum == 2 * (0 + 10 + 11 + 100 + 999 + 1000 + 1001 + 50000));
  }

  TEST_CASE("registering again returns the same metric with its values; a route's config names its module") {
    axle_config_t first = config_of("again");
    axle_config_t route = config_of("again /some/path");
    axle_error_t err;
    axle_metric_t *a = reg(first, AXLE_METRIC_COUNTER, "axle_test_again_total", err);
    REQUIRE(a);
    host().metric_add(a, 2);
    axle_metric_t *b = reg(route, AXLE_METRIC_COUNTER, "axle_test_again_total", err);
    CHECK(b == a);
    host().metric_add(b, 3);
    Seen s = collect("again", "axle_test_again_total");
    CHECK(s.visits == 1);
    CHECK(s.value == 5);
    // Another module may use the same name with the same kind: another series.
    axle_config_t other = config_of("again2");
    axle_metric_t *c = reg(other, AXLE_METRIC_COUNTER, "axle_test_again_total", err);
    REQUIRE(c);
    CHECK(c != a);
    CHECK(collect("again2", "axle_test_again_total").value == 0);
  }

  TEST_CASE("refusals: kind clash, other buckets, bad names, bad buckets, no config") {
    axle_config_t cfg = config_of("refuse");
    axle_error_t err;
    const uint64_t bounds[] = {1, 2, 3};
    REQUIRE(reg(cfg, AXLE_METRIC_COUNTER, "axle_test_clash", err));
    REQUIRE(reg(cfg, AXLE_METRIC_HISTOGRAM, "axle_test_h", err, bounds, 3));

    CHECK_FALSE(reg(cfg, AXLE_METRIC_GAUGE, "axle_test_clash", err));
    CHECK(err.message.find("registered before as a counter, now as a gauge") != std::string::npos);

    CHECK_FALSE(reg(cfg, AXLE_METRIC_HISTOGRAM, "axle_test_h", err, bounds, 2));
    CHECK(err.message.find("other bucket bounds") != std::string::npos);

    axle_config_t other = config_of("refuse2");
    CHECK_FALSE(reg(other, AXLE_METRIC_GAUGE, "axle_test_clash", err));
    CHECK(err.message.find("module 'refuse' registered it as a counter") != std::string::npos);

    for (const char *bad : {"", "9lives", "has space", "dash-ed", "ünïcode", "a{b}"}) {
      err.message.clear();
      CHECK_FALSE(reg(cfg, AXLE_METRIC_COUNTER, bad, err));
      CHECK(err.message.find("[a-zA-Z_:][a-zA-Z0-9_:]*") != std::string::npos);
    }
    CHECK_FALSE(host().metric_register(&cfg, AXLE_METRIC_COUNTER, nullptr, nullptr, nullptr, 0, &err));
    CHECK(reg(cfg, AXLE_METRIC_COUNTER, "_ok:name_9", err));
    CHECK_FALSE(reg(cfg, AXLE_METRIC_COUNTER, std::string(axle::metrics::kMaxNameBytes + 1, 'x').c_str(), err));

    uint64_t many[33];
    for (uint64_t i = 0; i < 33; ++i) many[i] = i + 1;
    CHECK_FALSE(reg(cfg, AXLE_METRIC_HISTOGRAM, "axle_test_33", err, many, 33));
    CHECK(err.message.find("1 to 32 bucket bounds, got 33") != std::string::npos);
    CHECK(reg(cfg, AXLE_METRIC_HISTOGRAM, "axle_test_32", err, many, 32));
    CHECK_FALSE(reg(cfg, AXLE_METRIC_HISTOGRAM, "axle_test_0", err, many, 0));
    const uint64_t unsorted[] = {1, 5, 5};
    CHECK_FALSE(reg(cfg, AXLE_METRIC_HISTOGRAM, "axle_test_unsorted", err, unsorted, 3));
    CHECK(err.message.find("strictly ascending") != std::string::npos);
    CHECK_FALSE(reg(cfg, static_cast<axle_metric_kind_t>(9), "axle_test_kind", err));
    CHECK(err.message.find("unknown kind") != std::string::npos);

    CHECK_FALSE(host().metric_register(nullptr, AXLE_METRIC_COUNTER, "axle_test_nocfg", "", nullptr, 0, &err));
    CHECK(err.message.find("no module config") != std::string::npos);
    // err may be NULL: refused all the same.
    CHECK_FALSE(host().metric_register(&cfg, AXLE_METRIC_COUNTER, "bad name", "", nullptr, 0, nullptr));
  }
}

// Its own process (own ctest entry): it fills the registry.
TEST_SUITE("module_metrics_limit") {
  TEST_CASE("the 1025th metric is refused; existing ones still resolve") {
    axle_config_t cfg = config_of("limit");
    axle_error_t err;
    uint32_t before = axle::metrics::registered_count();
    axle_metric_t *first = nullptr;
    for (uint32_t i = before; i < axle::metrics::kMaxMetrics; ++i) {
      axle_metric_t *m = reg(cfg, AXLE_METRIC_COUNTER, ("axle_test_limit_" + std::to_string(i)).c_str(), err);
      REQUIRE_MESSAGE(m, err.message);
      if (!first) first = m;
      host().metric_add(m, 1);
    }
    CHECK(axle::metrics::registered_count() == 1024);
    CHECK_FALSE(reg(cfg, AXLE_METRIC_COUNTER, "axle_test_limit_one_more", err));
    CHECK(err.message.find("maximum of 1024 metrics") != std::string::npos);
    // Registering an existing one is a lookup, not a new metric.
    CHECK(reg(cfg, AXLE_METRIC_COUNTER, ("axle_test_limit_" + std::to_string(before)).c_str(), err) == first);
    int visits = 0;
    host().metrics_collect([](void *arg, const axle_metric_sample_t *) { ++*static_cast<int *>(arg); }, &visits);
    CHECK(visits == 1024);
  }
}
