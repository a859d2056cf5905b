#include "http/budget.h"

namespace axle::http {

bool SharedBudget::take(uint64_t n) {
  uint64_t prev = used_.fetch_add(n, std::memory_order_relaxed);
  if (prev + n <= limit_.load(std::memory_order_relaxed)) return true;
  used_.fetch_sub(n, std::memory_order_relaxed);
  return false;
}

Budget::~Budget() {
  if (shared_ && granted_) shared_->give(granted_);
}

void Budget::charge(int64_t delta) {
  held_ = static_cast<uint64_t>(static_cast<int64_t>(held_) + delta);
  if (!shared_) return;
  while (held_ > granted_ && shared_->take(kGrain)) granted_ += kGrain;
  // Keep one grain of slack while holding anything, so a connection that
  // opens and closes a buffer does not bounce on the shared counter; an idle
  // worker keeps nothing, so the others can have it.
  const uint64_t keep = held_ == 0 ? 0 : held_ + kGrain;
  while (granted_ >= keep + kGrain) {
    shared_->give(kGrain);
    granted_ -= kGrain;
  }
}

}  // namespace axle::http
