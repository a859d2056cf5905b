#include "module_metrics.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

// One thread's values of one metric. Only that thread writes them (relaxed
// load + store, no read-modify-write); collect() reads them under the
// registry lock. Histogram buckets are not cumulative; the last one counts
// values above the top bound.
struct MetricCells {
  std::atomic<int64_t> value{0};
  std::atomic<uint64_t> sum{0};
  std::unique_ptr<std::atomic<uint64_t>[]> buckets;  // bounds.size() + 1, histograms only
};

// The kernel's side of the opaque handle. Never freed: a module may keep it
// across generations, and the registry is bounded (kMaxMetrics).
struct axle_metric_t {
  uint32_t index = 0;
  axle_metric_kind_t kind = AXLE_METRIC_COUNTER;
  std::string module, name, help;
  std::vector<uint64_t> bounds;
  // Under the registry lock: the cells of live threads, and what exited
  // threads left behind (same shapes as MetricCells).
  std::vector<MetricCells *> live;
  int64_t retired_value = 0;
  uint64_t retired_sum = 0;
  std::vector<uint64_t> retired_buckets;
};

namespace axle::metrics {
namespace {

inline void bump(std::atomic<uint64_t> &cell, uint64_t by) {
  cell.store(cell.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}

struct Registry {
  std::mutex mutex;
  std::vector<std::unique_ptr<axle_metric_t>> metrics;  // index = position; at most kMaxMetrics
};

// Leaked on purpose: threads may still update or exit after static destructors ran.
Registry &registry() {
  static Registry *r = new Registry;
  return *r;
}

// A thread's cells, indexed by metric index (8 KiB per thread that touched
// any metric, plus the cells it made).
struct ThreadCells {
  MetricCells *cells[kMaxMetrics] = {};
};

thread_local ThreadCells *t_cells = nullptr;  // trivial type: the hot path reads it without a TLS guard
thread_local bool t_exited = false;

void fold(axle_metric_t &m, const MetricCells &c) {
  m.retired_value += c.value.load(std::memory_order_relaxed);
  m.retired_sum += c.sum.load(std::memory_order_relaxed);
  for (size_t b = 0; b < m.retired_buckets.size(); ++b)
    m.retired_buckets[b] += c.buckets[b].load(std::memory_order_relaxed);
}

// Folds the thread's cells into the retired totals when the thread exits.
struct ThreadExit {
  ThreadCells *table = nullptr;
  ~ThreadExit() {
    t_exited = true;
    t_cells = nullptr;
    if (!table) return;
    Registry &r = registry();
    std::lock_guard lock(r.mutex);
    for (uint32_t i = 0; i < r.metrics.size(); ++i) {
      MetricCells *c = table->cells[i];
      if (!c) continue;
      axle_metric_t &m = *r.metrics[i];
      fold(m, *c);
      m.live.erase(std::find(m.live.begin(), m.live.end(), c));
      delete c;
    }
    delete table;
  }
};
thread_local ThreadExit t_exit;

// First touch of `m` by this thread: make its cells. nullptr when the thread
// has exited or memory ran out; the caller then updates the retired totals.
[[gnu::noinline]] MetricCells *first_touch(axle_metric_t *m) {
  if (t_exited) return nullptr;
  try {
    if (!t_cells) {
      t_cells = new ThreadCells;
      t_exit.table = t_cells;
    }
    auto cells = std::make_unique<MetricCells>();
    if (m->kind == AXLE_METRIC_HISTOGRAM) {
      cells->buckets = std::make_unique<std::atomic<uint64_t>[]>(m->bounds.size() + 1);
      for (size_t b = 0; b <= m->bounds.size(); ++b) cells->buckets[b].store(0, std::memory_order_relaxed);
    }
    Registry &r = registry();
    std::lock_guard lock(r.mutex);
    m->live.push_back(cells.get());
    return t_cells->cells[m->index] = cells.release();
  } catch (const std::bad_alloc &) {
    return nullptr;
  }
}

inline MetricCells *cells_for(axle_metric_t *m) {
  if (ThreadCells *t = t_cells) [[likely]]
    if (MetricCells *c = t->cells[m->index]) [[likely]]
      return c;
  return first_touch(m);
}

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes) return false;
  auto ok = [](char c, bool first) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || (!first && c >= '0' && c <= '9');
  };
  for (size_t i = 0; i < name.size(); ++i)
    if (!ok(name[i], i == 0)) return false;
  return true;
}

const char *kind_label(axle_metric_kind_t kind) {
  switch (kind) {
    case AXLE_METRIC_COUNTER: return "counter";
    case AXLE_METRIC_GAUGE: return "gauge";
    case AXLE_METRIC_HISTOGRAM: return "histogram";
  }
  return "unknown";
}

}  // namespace

axle_metric_t *register_metric(std::string_view module, axle_metric_kind_t kind, std::string_view name,
                               std::string_view help, const uint64_t *bounds, uint32_t bucket_count,
                               std::string &error) {
  std::string who = "metric '" + std::string(name.substr(0, kMaxNameBytes)) + "'";
  if (module.empty()) {
    error = who + ": no module config given (pass the config create() received)";
    return nullptr;
  }
  if (!valid_name(name)) {
    error = who + ": a name is 1 to " + std::to_string(kMaxNameBytes) + " characters of [a-zA-Z_:][a-zA-Z0-9_:]*";
    return nullptr;
  }
  if (kind != AXLE_METRIC_COUNTER && kind != AXLE_METRIC_GAUGE && kind != AXLE_METRIC_HISTOGRAM) {
    error = who + ": unknown kind " + std::to_string(static_cast<int>(kind));
    return nullptr;
  }
  if (help.size() > kMaxHelpBytes) {
    error = who + ": help longer than " + std::to_string(kMaxHelpBytes) + " bytes";
    return nullptr;
  }
  std::vector<uint64_t> buckets;
  if (kind == AXLE_METRIC_HISTOGRAM) {
    if (bucket_count == 0 || bucket_count > kMaxBuckets || !bounds) {
      error = who + ": a histogram takes 1 to " + std::to_string(kMaxBuckets) + " bucket bounds, got " +
              std::to_string(bucket_count);
      return nullptr;
    }
    buckets.assign(bounds, bounds + bucket_count);
    if (std::adjacent_find(buckets.begin(), buckets.end(), std::greater_equal<>()) != buckets.end()) {
      error = who + ": bucket bounds must be strictly ascending";
      return nullptr;
    }
  }

  Registry &r = registry();
  std::lock_guard lock(r.mutex);
  for (const auto &m : r.metrics) {
    if (m->name != name) continue;
    if (m->module == module) {
      if (m->kind != kind) {
        error = who + ": registered before as a " + kind_label(m->kind) + ", now as a " + kind_label(kind);
        return nullptr;
      }
      if (m->bounds != buckets) {
        error = who + ": registered before with other bucket bounds";
        return nullptr;
      }
      return m.get();  // a later generation: same metric, values kept
    }
    if (m->kind != kind) {
      error = who + ": module '" + m->module + "' registered it as a " + kind_label(m->kind) + ", one name has one type";
      return nullptr;
    }
  }
  if (r.metrics.size() >= kMaxMetrics) {
    error = who + ": the process holds its maximum of " + std::to_string(kMaxMetrics) + " metrics";
    return nullptr;
  }
  auto m = std::make_unique<axle_metric_t>();
  m->index = static_cast<uint32_t>(r.metrics.size());
  m->kind = kind;
  m->module.assign(module);
  m->name.assign(name);
  m->help.assign(help);
  m->bounds = std::move(buckets);
  if (kind == AXLE_METRIC_HISTOGRAM) m->retired_buckets.assign(m->bounds.size() + 1, 0);
  r.metrics.push_back(std::move(m));
  return r.metrics.back().get();
}

void add(axle_metric_t *m, int64_t delta) {
  if (!m || (m->kind == AXLE_METRIC_COUNTER ? delta < 0 : m->kind != AXLE_METRIC_GAUGE)) return;
  if (MetricCells *c = cells_for(m)) [[likely]] {
    c->value.store(c->value.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
    return;
  }
  std::lock_guard lock(registry().mutex);
  m->retired_value += delta;
}

// On a thread that already exited the contribution is gone, so set is dropped.
void set(axle_metric_t *m, int64_t value) {
  if (!m || m->kind != AXLE_METRIC_GAUGE) return;
  if (MetricCells *c = cells_for(m)) [[likely]]
    c->value.store(value, std::memory_order_relaxed);
}

void observe(axle_metric_t *m, uint64_t value) {
  if (!m || m->kind != AXLE_METRIC_HISTOGRAM) return;
  // Bucket b holds values in (bounds[b-1], bounds[b]]: Prometheus' "le".
  size_t b = std::lower_bound(m->bounds.begin(), m->bounds.end(), value) - m->bounds.begin();
  if (MetricCells *c = cells_for(m)) [[likely]] {
    bump(c->buckets[b], 1);
    bump(c->sum, value);
    return;
  }
  std::lock_guard lock(registry().mutex);
  ++m->retired_buckets[b];
  m->retired_sum += value;
}

void collect(axle_metric_visit_fn visit, void *arg) {
  if (!visit) return;
  struct Snapshot {
    const axle_metric_t *metric;
    int64_t value;
    uint64_t sum;
    std::vector<uint64_t> buckets;  // cumulative
  };
  std::vector<Snapshot> shots;
  Registry &r = registry();
  {
    std::lock_guard lock(r.mutex);
    shots.reserve(r.metrics.size());
    for (const auto &m : r.metrics) {
      Snapshot s{m.get(), m->retired_value, m->retired_sum, m->retired_buckets};
      for (const MetricCells *c : m->live) {
        s.value += c->value.load(std::memory_order_relaxed);
        s.sum += c->sum.load(std::memory_order_relaxed);
        for (size_t b = 0; b < s.buckets.size(); ++b) s.buckets[b] += c->buckets[b].load(std::memory_order_relaxed);
      }
      for (size_t b = 1; b < s.buckets.size(); ++b) s.buckets[b] += s.buckets[b - 1];
      shots.push_back(std::move(s));
    }
  }
  for (const Snapshot &s : shots) {
    const axle_metric_t &m = *s.metric;
    axle_metric_sample_t sample{};
    sample.struct_size = sizeof sample;
    sample.kind = m.kind;
    sample.module = {m.module.data(), m.module.size()};
    sample.name = {m.name.data(), m.name.size()};
    sample.help = {m.help.data(), m.help.size()};
    sample.value = s.value;
    sample.sum = s.sum;
    if (m.kind == AXLE_METRIC_HISTOGRAM) {
      sample.bucket_bounds = m.bounds.data();
      sample.bucket_counts = s.buckets.data();
      sample.bucket_count = static_cast<uint32_t>(m.bounds.size());
      sample.count = s.buckets.back();  // the +Inf bucket, cumulative
    }
    visit(arg, &sample);
  }
}

uint32_t registered_count() {
  Registry &r = registry();
  std::lock_guard lock(r.mutex);
  return static_cast<uint32_t>(r.metrics.size());
}

}  // namespace axle::metrics
