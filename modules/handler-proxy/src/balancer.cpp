#include "balancer.h"

#include <algorithm>
#include <cmath>

namespace axle::proxy {

namespace {

constexpr size_t kMaxServers = 64;  // one bit each in `tried`

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

// MurmurHash3's 64-bit finalizer: spreads FNV's weak low bits over the word,
// so two servers' scores for one key are independent.
uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x;
}

}  // namespace

Balancer::Balancer(Policy policy, const std::vector<ServerSpec> &servers, Health &health)
    : policy_(policy), health_(health) {
  // The config refuses more than 64; the bound is repeated here because
  // `tried` could not name a 65th server.
  const size_t n = std::min(servers.size(), kMaxServers);
  servers_.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    servers_.push_back(Server{std::clamp<uint32_t>(servers[i].weight, 1, 256), fnv1a(servers[i].text)});
  }
}

bool Balancer::eligible(size_t i, uint64_t tried, uint64_t now_ms) const {
  return ((tried >> i) & 1u) == 0 && health_.available(i, now_ms);
}

int Balancer::pick(std::string_view hash_key, uint64_t tried, uint64_t now_ms) {
  switch (policy_) {
    case Policy::round_robin:
      return pick_round_robin(tried, now_ms);
    case Policy::least_outstanding:
      return pick_least_outstanding(tried, now_ms);
    case Policy::hash:
      return pick_hash(hash_key, tried, now_ms);
  }
  return -1;
}

// Smooth weighted round robin (nginx's ngx_http_upstream_get_peer): every
// eligible server gains its weight, the one with the most is chosen and pays
// back the total. Weights 5:1:1 give a a b a c a a, never a burst of five.
// Servers left out of a pick (down, tried) neither gain nor pay.
int Balancer::pick_round_robin(uint64_t tried, uint64_t now_ms) {
  int best = -1;
  int64_t total = 0;
  for (size_t i = 0; i < servers_.size(); ++i) {
    if (!eligible(i, tried, now_ms)) continue;
    Server &s = servers_[i];
    s.current += s.weight;
    total += s.weight;
    if (best < 0 || s.current > servers_[best].current) best = static_cast<int>(i);
  }
  if (best >= 0) servers_[best].current -= total;
  return best;
}

// Fewest attempts in flight; among equals the heavier server, and among
// servers equal in both, the next one after the last choice, so an idle
// group still rotates.
int Balancer::pick_least_outstanding(uint64_t tried, uint64_t now_ms) {
  const size_t n = servers_.size();
  int best = -1;
  for (size_t k = 0; k < n; ++k) {
    const size_t i = (rotation_ + k) % n;
    if (!eligible(i, tried, now_ms)) continue;
    if (best < 0) {
      best = static_cast<int>(i);
      continue;
    }
    const Server &s = servers_[i], &b = servers_[best];
    if (s.outstanding < b.outstanding || (s.outstanding == b.outstanding && s.weight > b.weight)) {
      best = static_cast<int>(i);
    }
  }
  if (best >= 0) rotation_ = (static_cast<size_t>(best) + 1) % n;
  return best;
}

// Weighted rendezvous hashing: each server scores the key with
// weight / -ln(u), u uniform in (0,1) from hash(key, server); the highest
// eligible score wins. A key's ranking of servers never depends on other
// servers' state, so a server going down moves only the keys it had (to
// their second choice) and they come back when it does. O(servers) per pick,
// at most 64 scores, and no ring to build or keep.
int Balancer::pick_hash(std::string_view key, uint64_t tried, uint64_t now_ms) const {
  const uint64_t key_hash = fnv1a(key);
  int best = -1;
  double best_score = 0;
  for (size_t i = 0; i < servers_.size(); ++i) {
    if (!eligible(i, tried, now_ms)) continue;
    const Server &s = servers_[i];
    // 53 random bits, +0.5 so u is never 0 or 1 (ln would be -inf or 0).
    const double u = (static_cast<double>(mix(key_hash ^ s.seed) >> 11) + 0.5) * 0x1.0p-53;
    const double score = s.weight / -std::log(u);
    if (best < 0 || score > best_score) {
      best = static_cast<int>(i);
      best_score = score;
    }
  }
  return best;
}

void Balancer::started(int server) {
  if (server < 0 || static_cast<size_t>(server) >= servers_.size()) return;
  ++servers_[server].outstanding;
}

void Balancer::finished(int server) {
  if (server < 0 || static_cast<size_t>(server) >= servers_.size()) return;
  // A finish without a start is the caller's bug; never wrap to 4 billion.
  if (servers_[server].outstanding > 0) --servers_[server].outstanding;
}

uint32_t Balancer::outstanding(int server) const {
  if (server < 0 || static_cast<size_t>(server) >= servers_.size()) return 0;
  return servers_[server].outstanding;
}

}  // namespace axle::proxy
