// The process-wide bound on memory held for clients (buffered request bodies
// and queued output). Workers account in grains against one shared counter,
// so the request path touches the shared cache line only once per grain.
#pragma once

#include <atomic>
#include <cstdint>

namespace axle::http {

class SharedBudget {
 public:
  explicit SharedBudget(uint64_t limit) : limit_(limit) {}
  void set_limit(uint64_t limit) { limit_.store(limit, std::memory_order_relaxed); }
  uint64_t limit() const { return limit_.load(std::memory_order_relaxed); }
  uint64_t used() const { return used_.load(std::memory_order_relaxed); }
  // Takes n bytes if they fit under the limit.
  bool take(uint64_t n);
  void give(uint64_t n) { used_.fetch_sub(n, std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> limit_;
  std::atomic<uint64_t> used_{0};
};

// One worker's account. Never refuses a charge (callers bound their own
// overshoot); exhausted() tells the engine to take no new work.
class Budget {
 public:
  static constexpr uint64_t kGrain = 256 * 1024;

  explicit Budget(SharedBudget *shared) : shared_(shared) {}  // null: unlimited
  ~Budget();
  Budget(const Budget &) = delete;
  Budget &operator=(const Budget &) = delete;

  void charge(int64_t delta);
  // No room for new work: this worker holds more than it was granted, or it
  // has less than a grain of its own left and the shared counter has none.
  bool exhausted() const {
    if (!shared_) return false;
    if (held_ > granted_) return true;
    return granted_ - held_ < kGrain && shared_->used() + kGrain > shared_->limit();
  }
  uint64_t held() const { return held_; }

 private:
  SharedBudget *shared_;
  uint64_t held_ = 0, granted_ = 0;
};

}  // namespace axle::http
