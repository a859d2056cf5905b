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
  // implementation's own members
};

}  // namespace axle::proxy
