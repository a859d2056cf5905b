#include "worker_context.h"

#include <algorithm>
#include <string>

namespace axle::proxy {

UpstreamState::UpstreamState(const Instance &instance, const UpstreamConfig &c, axle_worker_t *worker)
    : cfg(c),
      health(c.health, c.servers.size()),
      balancer(c.policy, c.servers, health),
      budget(c.retry_budget_percent, c.retry_min_per_second) {
  pools.reserve(c.servers.size());
  for (size_t i = 0; i < c.servers.size(); ++i)
    pools.push_back(std::make_unique<Pool>(instance.api, c.pool_max_idle, c.pool_idle_timeout_ms,
                                           instance.metrics.pool_idle));
  if (c.health_path.empty()) return;
  std::vector<HealthCheckTarget> targets;
  for (size_t i = 0; i < c.servers.size(); ++i) targets.push_back({c.addresses[i], c.servers[i].text});
  HealthCheckSettings hs{.path = c.health_path,
                         .status = static_cast<uint16_t>(c.health_status),
                         .interval_ms = c.health_interval_ms,
                         .timeout_ms = c.health_timeout_ms};
  checker = std::make_unique<HealthChecker>(instance.api, instance.cfg, worker, std::move(targets), hs, health);
}


WorkerContext::WorkerContext(const Instance &instance, axle_worker_t *worker) : instance_(instance), worker_(worker) {
  uint64_t period = 1000;
  for (const UpstreamConfig &up : instance.upstreams) {
    upstreams_.push_back(std::make_unique<UpstreamState>(instance, up, worker));
    period = std::min(period, std::max<uint64_t>(up.pool_idle_timeout_ms / 2, 10));
  }
  // Idle connections live at most pool_idle_timeout_ms plus this period.
  if (!upstreams_.empty()) sweep_timer_ = api()->timer_start(worker, period, period, &sweep, this);
}

WorkerContext::~WorkerContext() {
  if (sweep_timer_) api()->timer_stop(sweep_timer_);
}

void WorkerContext::sweep(void *arg) {
  auto *self = static_cast<WorkerContext *>(arg);
  uint64_t now = self->now_ms();
  for (auto &up : self->upstreams_)
    for (auto &pool : up->pools) pool->sweep(now);
}

void WorkerContext::log_failure(std::string_view line) {
  uint64_t second = now_ms() / 1000;
  if (second != log_second_) {
    log_second_ = second;
    log_lines_ = 0;
  }
  if (log_lines_ >= max_lines_per_second) {
    ++log_suppressed_;
    return;
  }
  ++log_lines_;
  std::string text(line);
  if (log_suppressed_) {
    text += " (" + std::to_string(log_suppressed_) + " similar lines suppressed)";
    log_suppressed_ = 0;
  }
  api()->log(instance_.cfg, AXLE_LOG_ERROR, text.data(), text.size());
}

}  // namespace axle::proxy
