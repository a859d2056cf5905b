// Active health checks of one upstream group, on one worker: every
// interval_ms, for each server with no check in flight, connect, send
// "GET <path> HTTP/1.1", read the status line only, and feed the worker's
// Health check_passed / check_failed (a failed connect, a status other than
// the expected one, a malformed status line, a close before it, or no status
// line within timeout_ms: failed).
//
// Per worker, like every other proxy state: no lock, no atomics, verdicts
// go straight into this worker's Health. The cost: each worker checks each
// server, so a backend sees workers x servers-of-its-group checks per
// interval (e.g. 4 workers, 3 servers, 5 s: 12 short connections per 5 s),
// and two workers may briefly disagree about a server for up to one
// interval.
//
// Owned by the proxy's per-worker context: created in thread_init (on the
// worker's thread, after the group's Health, which it must not outlive),
// destroyed (or stop()ped) in thread_fini before that Health.
// Bounds: one interval timer, and per server at most one connection and one
// timeout timer in flight; 13 bytes of each answer are kept.
#pragma once

#include "health.h"

#include <axle/module.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace axle::proxy {

struct HealthCheckSettings {
  std::string path = "/";       // health_path; the config keeps it to a request target (no SP, CR, LF)
  uint16_t status = 200;        // health_status: the one status that passes
  uint64_t interval_ms = 5000;  // health_interval_ms: between two rounds (and before the first)
  uint64_t timeout_ms = 2000;   // health_timeout_ms: connect to status line, per check
};

struct HealthCheckTarget {
  axle_address_t address;  // where to connect (struct_size set)
  std::string host;        // the Host header: the server as configured, e.g. "127.0.0.1:9001"
};

class HealthChecker {
 public:
  // targets[i] is server i of `health`. log_config: the module's config, for
  // log lines when a server goes down or comes back (NULL: no log). Starts
  // the interval timer; running() says whether the host accepted it.
  HealthChecker(const axle_host_api_t *host, const axle_config_t *log_config, axle_worker_t *worker,
                std::vector<HealthCheckTarget> targets, const HealthCheckSettings &settings, Health &health);
  ~HealthChecker();  // stop()
  HealthChecker(const HealthChecker &) = delete;
  HealthChecker &operator=(const HealthChecker &) = delete;

  bool running() const { return interval_ != nullptr; }
  // Stops the timer and closes every check in flight without a verdict.
  // Idempotent; on the worker's thread.
  void stop();

 private:
  struct Check;  // one server's check in flight (or idle), the arg of its host events

  static void on_interval(void *self);
  void round();
  void start(Check &c);
  void send_request(Check &c);
  // Closes c's connection and stops its deadline: the check is over.
  void release(Check &c);
  // release, then c's verdict into the Health.
  void finish(Check &c, bool passed, std::string_view why);

  static void on_connected(void *check, int err);
  static void on_data(void *check, const char *data, size_t len);
  static void on_eof(void *check, int err);
  static void on_writable(void *check);
  static void on_timeout(void *check);

  const axle_host_api_t *host_;
  const axle_config_t *log_config_;
  axle_worker_t *worker_;
  HealthCheckSettings settings_;
  Health &health_;
  std::vector<std::unique_ptr<Check>> checks_;  // one per server; stable addresses for the host
  axle_timer_t *interval_ = nullptr;
};

}  // namespace axle::proxy
