// One worker's state for one module instance, made in thread_init: per
// upstream group its balancer, health view, retry budget and one idle pool
// per server; a timer that ages out idle connections; the error-log rate
// limit. Used only on that worker's thread: no lock anywhere.
#pragma once

#include "balancer.h"
#include "health.h"
#include "health_checker.h"
#include "instance.h"
#include "pool.h"
#include "retry_budget.h"

#include <axle/module.h>

#include <memory>
#include <string_view>
#include <vector>

namespace axle::proxy {

struct UpstreamState {
  UpstreamState(const Instance &instance, const UpstreamConfig &cfg, axle_worker_t *worker);
  const UpstreamConfig &cfg;
  Health health;
  Balancer balancer;  // refers to health: this object never moves
  RetryBudget budget;
  std::vector<std::unique_ptr<Pool>> pools;  // one per server
  // When health_path is set; feeds `health`. Declared last: destroyed first,
  // before the health it feeds.
  std::unique_ptr<HealthChecker> checker;
};

class WorkerContext {
 public:
  WorkerContext(const Instance &instance, axle_worker_t *worker);
  ~WorkerContext();  // stops the timer, closes idle connections
  WorkerContext(const WorkerContext &) = delete;
  WorkerContext &operator=(const WorkerContext &) = delete;

  const Instance &instance() const { return instance_; }
  const axle_host_api_t *api() const { return instance_.api; }
  axle_worker_t *worker() const { return worker_; }
  UpstreamState &upstream(size_t i) { return *upstreams_[i]; }
  uint64_t now_ms() const { return api()->now_ns() / 1000000; }

  // One error line about an upstream failure; at most max_lines_per_second
  // per worker, the rest counted and reported with the next line let through.
  void log_failure(std::string_view line);

 private:
  static constexpr unsigned max_lines_per_second = 10;
  static void sweep(void *arg);

  const Instance &instance_;
  axle_worker_t *worker_;
  std::vector<std::unique_ptr<UpstreamState>> upstreams_;
  axle_timer_t *sweep_timer_ = nullptr;
  uint64_t log_second_ = 0;
  unsigned log_lines_ = 0;
  uint64_t log_suppressed_ = 0;
};

}  // namespace axle::proxy
