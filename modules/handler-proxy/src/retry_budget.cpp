#include "retry_budget.h"

namespace axle::proxy {

RetryBudget::RetryBudget(uint32_t ratio_percent, uint32_t min_per_second)
    : ratio_percent_(ratio_percent), min_per_second_(min_per_second) {}

RetryBudget::Bucket &RetryBudget::bucket(uint64_t second) {
  Bucket &b = buckets_[second % kBuckets];
  if (b.second != second) b = Bucket{second, 0, 0};
  return b;
}

void RetryBudget::request(uint64_t now_ms) { ++bucket(now_ms / 1000).requests; }

// Allowed while the window's retries stay under ratio_percent of its
// requests, or while this second has made fewer than min_per_second retries
// (the floor that lets a quiet worker retry at all).
bool RetryBudget::try_spend(uint64_t now_ms) {
  const uint64_t now_s = now_ms / 1000;
  Bucket &current = bucket(now_s);
  uint64_t requests = 0, retries = 0;
  for (const Bucket &b : buckets_) {
    // Counted when within the last kBuckets seconds; a bucket "from the
    // future" (a clock that went back) is left out rather than trusted.
    if (b.second <= now_s && now_s - b.second < kBuckets) {
      requests += b.requests;
      retries += b.retries;
    }
  }
  const bool within_ratio = retries * 100 < requests * ratio_percent_;
  if (!within_ratio && current.retries >= min_per_second_) return false;
  ++current.retries;
  return true;
}

}  // namespace axle::proxy
