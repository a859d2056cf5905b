// The process-wide registry behind the host's metric_* slots: counters, gauges
// and histograms that modules define for themselves.
//
// Updates are lock-free and do no shared read-modify-write: each thread writes
// its own cells (single writer, relaxed atomics), made on the thread's first
// touch of a metric; collect() sums every thread's cells. A thread that exits
// folds its cells into the metric's retired totals, so no count is lost.
#pragma once

#include <axle/module.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace axle::metrics {

// Memory bound: each metric holds its texts (name and help are bounded) and,
// per live thread that updated it, cells of at most ~300 B (a 32-bucket
// histogram); each such thread also holds an 8 KiB index table. Worst case:
// kMaxMetrics * 1.5 KiB + live threads * (8 KiB + kMaxMetrics * 300 B).
inline constexpr uint32_t kMaxMetrics = 1024;
inline constexpr uint32_t kMaxBuckets = 32;
inline constexpr size_t kMaxNameBytes = 200;
inline constexpr size_t kMaxHelpBytes = 1024;

// Registers (module, name), or returns the metric registered before under the
// same pair, which keeps its values. Refused (nullptr, error set) when the name
// is not [a-zA-Z_:][a-zA-Z0-9_:]*, when the pair exists with another kind or
// other buckets, when another module holds the name with another kind (one
// exposition family has one type), when a histogram's bounds are not 1..32
// ascending values, or when kMaxMetrics are registered. Any thread.
axle_metric_t *register_metric(std::string_view module, axle_metric_kind_t kind, std::string_view name,
                               std::string_view help, const uint64_t *bounds, uint32_t bucket_count,
                               std::string &error);

// Updates into the calling thread's cells; any thread. A call that does not fit
// the metric's kind (add to a histogram, a negative delta on a counter, set on
// a counter) or a null metric is ignored.
void add(axle_metric_t *metric, int64_t delta);
void set(axle_metric_t *metric, int64_t value);  // gauge: this thread's contribution
void observe(axle_metric_t *metric, uint64_t value);

// Visits every metric in registration order, summed over live and exited
// threads. visit runs without the registry lock (it may register). Any thread.
void collect(axle_metric_visit_fn visit, void *arg);

// How many metrics exist (for tests and the limit message).
uint32_t registered_count();

}  // namespace axle::metrics
