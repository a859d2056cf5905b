// Bounds retries per worker: a retry is allowed while retries stay within
// `ratio_percent` of the requests seen in the last window, plus
// `min_per_second` so a quiet server can still retry. Stops a failing
// upstream from multiplying the load (Envoy's retry budget, Finagle's
// RetryBudget). No I/O; every call takes now_ms.
#pragma once

#include <cstdint>

namespace axle::proxy {

class RetryBudget {
 public:
  RetryBudget(uint32_t ratio_percent, uint32_t min_per_second);
  // A new client request (not a retry) started.
  void request(uint64_t now_ms);
  // May one more retry be made now? If so, it is counted.
  bool try_spend(uint64_t now_ms);

 private:
  // One second of the window. The window is kBuckets seconds, kept in a
  // fixed ring (bounded memory whatever the load): a bucket whose second is
  // not the one being counted is reset before use.
  static constexpr uint32_t kBuckets = 10;
  struct Bucket {
    uint64_t second = UINT64_MAX;  // now_ms / 1000 it counts; UINT64_MAX: never used
    uint64_t requests = 0;
    uint64_t retries = 0;
  };
  Bucket &bucket(uint64_t second);

  uint32_t ratio_percent_;
  uint32_t min_per_second_;
  Bucket buckets_[kBuckets];
};

}  // namespace axle::proxy
