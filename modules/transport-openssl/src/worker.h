// Per-worker state: the count of handshakes in progress (max_handshakes) and
// the deadline list swept by one repeating timer (handshake_timeout_ms, and
// the linger of a close_notify being flushed), so no connection owns a timer.
#pragma once

#include <axle/module.h>

#include <cstdint>
#include <string>

namespace axle::tls {

struct Instance;
class Connection;

class Worker {
 public:
  Worker(Instance &instance, axle_worker_t *worker) : instance_(instance), worker_(worker) {}
  ~Worker();
  bool start(std::string *error);  // the sweep timer

  Instance &instance() const { return instance_; }
  axle_worker_t *host_worker() const { return worker_; }

  bool handshake_slot_free() const { return handshakes_ < max_handshakes(); }
  void handshake_begin() { ++handshakes_; }
  void handshake_end() { --handshakes_; }

  // Puts c at the back of the deadline list (every deadline is now + the
  // same timeout, so the list stays sorted); watch again = move to the back.
  void watch(Connection *c);
  void unwatch(Connection *c);

 private:
  uint32_t max_handshakes() const;
  static void sweep(void *self);

  Instance &instance_;
  axle_worker_t *worker_;
  axle_timer_t *timer_ = nullptr;
  uint32_t handshakes_ = 0;
  Connection *head_ = nullptr, *tail_ = nullptr;
};

}  // namespace axle::tls
