// Chooses the server of an upstream group for one request attempt, per
// worker (no lock, no shared state): weighted round robin, least
// outstanding requests, or consistent hashing of a key (a header or the
// path). Only servers the health state lets through are chosen.
#pragma once

#include "health.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace axle::proxy {

enum class Policy { round_robin, least_outstanding, hash };

struct ServerSpec {
  std::string text;   // "127.0.0.1:9001", as configured (for logs and metrics)
  uint32_t weight = 1; // 1..256
};

class Balancer {
 public:
  // servers: at most 64 (the config refuses more). health: this worker's
  // health view of the same servers, same order; outlives the balancer.
  Balancer(Policy policy, const std::vector<ServerSpec> &servers, Health &health);

  // A server for an attempt, never one whose bit is set in `tried` (bit i =
  // server i), or -1 when none is available (all tried or all down).
  // hash_key: the value hashed under Policy::hash (ignored otherwise); a
  // server going down moves only its own share of keys.
  int pick(std::string_view hash_key, uint64_t tried, uint64_t now_ms);

  // Outstanding requests, for least_outstanding: an attempt started on / left
  // server i (whatever its outcome).
  void started(int server);
  void finished(int server);
  uint32_t outstanding(int server) const;

 private:
  // May server i take this attempt (available, not in `tried`)?
  bool eligible(size_t i, uint64_t tried, uint64_t now_ms) const;
  int pick_round_robin(uint64_t tried, uint64_t now_ms);
  int pick_least_outstanding(uint64_t tried, uint64_t now_ms);
  int pick_hash(std::string_view key, uint64_t tried, uint64_t now_ms) const;

  struct Server {
    uint32_t weight;      // clamped to 1..256
    uint64_t seed;        // hash of the server's text: its identity under Policy::hash
    int64_t current = 0;  // smooth weighted round robin's running weight
    uint32_t outstanding = 0;
  };
  Policy policy_;
  std::vector<Server> servers_;  // at most 64: `tried` has one bit per server
  Health &health_;
  size_t rotation_ = 0;  // least_outstanding: where the next tie-break scan starts
};

}  // namespace axle::proxy
