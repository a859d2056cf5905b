// The balancer's three policies over a Health view: exact counts, not
// tolerances, wherever the policy is deterministic.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN  // this executable's one main
#include "balancer.h"

#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

using axle::proxy::Balancer;
using axle::proxy::Health;
using axle::proxy::HealthSettings;
using axle::proxy::Policy;
using axle::proxy::ServerSpec;

namespace {

std::vector<ServerSpec> servers(std::vector<uint32_t> weights) {
  std::vector<ServerSpec> out;
  for (size_t i = 0; i < weights.size(); ++i) out.push_back({"127.0.0.1:" + std::to_string(9001 + i), weights[i]});
  return out;
}

// Active-check verdicts with the default fall = 3 and rise = 2.
void take_down(Health &health, size_t server) {
  for (int i = 0; i < 3; ++i) health.check_failed(server);  // fall = 3
  REQUIRE_FALSE(health.available(server, 0));
}

void bring_up(Health &health, size_t server) {
  for (int i = 0; i < 2; ++i) health.check_passed(server);  // rise = 2
  REQUIRE(health.available(server, 0));
}

}  // namespace

TEST_SUITE("balancer") {

TEST_CASE("round robin: picks follow the weights exactly over whole cycles") {
  Health health(HealthSettings{}, 3);
  Balancer b(Policy::round_robin, servers({5, 1, 3}), health);
  std::vector<int> counts(3, 0);
  for (int i = 0; i < 9 * 100; ++i) {
    const int s = b.pick("", 0, 0);
    REQUIRE(s >= 0);
    ++counts[s];
  }
  CHECK(counts == std::vector<int>{500, 100, 300});
}

TEST_CASE("round robin is smooth: 5:1:1 is nginx's a a b a c a a, and 1:1:1 never repeats") {
  Health health(HealthSettings{}, 3);
  Balancer b(Policy::round_robin, servers({5, 1, 1}), health);
  std::vector<int> seq;
  for (int i = 0; i < 7; ++i) seq.push_back(b.pick("", 0, 0));
  CHECK(seq == std::vector<int>{0, 0, 1, 0, 2, 0, 0});

  Health health3(HealthSettings{}, 3);
  Balancer even(Policy::round_robin, servers({1, 1, 1}), health3);
  int last = -1;
  std::vector<int> counts(3, 0);
  for (int i = 0; i < 300; ++i) {
    const int s = even.pick("", 0, 0);
    CHECK(s != last);
    ++counts[s];
    last = s;
  }
  CHECK(counts == std::vector<int>{100, 100, 100});
}

TEST_CASE("round robin: a down server gets nothing and the rest keep their ratio") {
  Health health(HealthSettings{}, 3);
  Balancer b(Policy::round_robin, servers({2, 1, 1}), health);
  take_down(health, 0);
  std::vector<int> counts(3, 0);
  for (int i = 0; i < 100; ++i) ++counts[b.pick("", 0, 0)];
  CHECK(counts == std::vector<int>{0, 50, 50});
  bring_up(health, 0);
  counts.assign(3, 0);
  for (int i = 0; i < 400; ++i) ++counts[b.pick("", 0, 0)];
  CHECK(counts == std::vector<int>{200, 100, 100});
}

TEST_CASE("every policy skips the servers in `tried` and answers -1 when none is left") {
  for (Policy policy : {Policy::round_robin, Policy::least_outstanding, Policy::hash}) {
    CAPTURE(static_cast<int>(policy));
    Health health(HealthSettings{}, 3);
    Balancer b(policy, servers({1, 1, 1}), health);
    for (int i = 0; i < 50; ++i) {
      const std::string key = "key" + std::to_string(i);
      CHECK(b.pick(key, 0b011, 0) == 2);
      CHECK(b.pick(key, 0b101, 0) == 1);
      const int s = b.pick(key, 0b001, 0);
      CHECK((s == 1 || s == 2));
      CHECK(b.pick(key, 0b111, 0) == -1);
    }
  }
}

TEST_CASE("every policy answers -1 when every server is down, and uses them again when back") {
  for (Policy policy : {Policy::round_robin, Policy::least_outstanding, Policy::hash}) {
    CAPTURE(static_cast<int>(policy));
    Health health(HealthSettings{}, 3);
    Balancer b(policy, servers({1, 2, 3}), health);
    for (size_t i = 0; i < 3; ++i) take_down(health, i);
    CHECK(b.pick("k", 0, 0) == -1);
    bring_up(health, 1);
    for (int i = 0; i < 10; ++i) CHECK(b.pick("k" + std::to_string(i), 0, 0) == 1);
  }
}

TEST_CASE("every policy skips a passively ejected server until its ejection ends") {
  for (Policy policy : {Policy::round_robin, Policy::least_outstanding, Policy::hash}) {
    CAPTURE(static_cast<int>(policy));
    HealthSettings settings;
    settings.max_fails = 1;
    settings.eject_ms = 100;
    Health health(settings, 2);
    Balancer b(policy, servers({1, 1}), health);
    health.request_failed(0, 1000);
    for (int i = 0; i < 20; ++i) CHECK(b.pick("k" + std::to_string(i), 0, 1050) == 1);
    std::map<int, int> counts;
    for (int i = 0; i < 200; ++i) ++counts[b.pick("k" + std::to_string(i), 0, 1100)];
    CHECK(counts[0] > 0);
    CHECK(counts[1] > 0);
  }
}

TEST_CASE("no servers: -1, and out-of-range bookkeeping is ignored") {
  Health health(HealthSettings{}, 0);
  Balancer b(Policy::least_outstanding, {}, health);
  CHECK(b.pick("k", 0, 0) == -1);
  b.started(3);
  b.finished(-1);
  CHECK(b.outstanding(3) == 0);
}

TEST_CASE("least outstanding: the idlest server, ties by weight then in rotation") {
  Health health(HealthSettings{}, 3);
  Balancer b(Policy::least_outstanding, servers({1, 1, 1}), health);
  // All idle and equal: rotation.
  std::vector<int> seq;
  for (int i = 0; i < 6; ++i) seq.push_back(b.pick("", 0, 0));
  CHECK(seq == std::vector<int>{0, 1, 2, 0, 1, 2});

  // Attempts that stay in flight spread one per server, then two per server.
  std::vector<int> counts(3, 0);
  for (int i = 0; i < 6; ++i) {
    const int s = b.pick("", 0, 0);
    b.started(s);
    ++counts[s];
  }
  CHECK(counts == std::vector<int>{2, 2, 2});
  for (int s = 0; s < 3; ++s) CHECK(b.outstanding(s) == 2);

  // Server 1 finishes both: it takes the next two, then all are even again.
  b.finished(1);
  b.finished(1);
  CHECK(b.outstanding(1) == 0);
  CHECK(b.pick("", 0, 0) == 1);
  b.started(1);
  CHECK(b.pick("", 0, 0) == 1);
  b.started(1);
  b.finished(0);
  CHECK(b.pick("", 0, 0) == 0);

  // A finish without a start never wraps below zero.
  Balancer c(Policy::least_outstanding, servers({1, 1, 1}), health);
  c.finished(2);
  CHECK(c.outstanding(2) == 0);
}

TEST_CASE("least outstanding: equal load goes to the heavier server") {
  Health health(HealthSettings{}, 3);
  Balancer b(Policy::least_outstanding, servers({1, 4, 2}), health);
  for (int i = 0; i < 5; ++i) CHECK(b.pick("", 0, 0) == 1);
  b.started(1);
  CHECK(b.pick("", 0, 0) == 2);
  b.started(2);
  CHECK(b.pick("", 0, 0) == 0);
  b.started(0);
  CHECK(b.pick("", 0, 0) == 1);
  // Skipping a tried server still picks the least loaded of the rest.
  b.started(1);
  CHECK(b.pick("", 0b010, 0) == 2);
}

TEST_CASE("hash: a key always goes to the same server, and weights set the shares") {
  Health health(HealthSettings{}, 3);
  Balancer b(Policy::hash, servers({1, 1, 2}), health);
  std::vector<int> first(10000);
  std::vector<int> counts(3, 0);
  for (int k = 0; k < 10000; ++k) {
    first[k] = b.pick("/user/" + std::to_string(k), 0, 0);
    ++counts[first[k]];
  }
  for (int k = 0; k < 10000; ++k) CHECK(b.pick("/user/" + std::to_string(k), 0, 0) == first[k]);
  // Shares 1/4, 1/4, 1/2: 2500, 2500, 5000 give or take a few standard
  // deviations (about 50 keys here).
  CHECK(counts[0] > 2200);
  CHECK(counts[0] < 2800);
  CHECK(counts[1] > 2200);
  CHECK(counts[1] < 2800);
  CHECK(counts[2] > 4700);
  CHECK(counts[2] < 5300);

  // Another balancer over the same servers (another worker, a reload) agrees.
  Balancer other(Policy::hash, servers({1, 1, 2}), health);
  for (int k = 0; k < 10000; ++k) CHECK(other.pick("/user/" + std::to_string(k), 0, 0) == first[k]);
}

TEST_CASE("hash: a server going down moves only its own keys, and they come back") {
  Health health(HealthSettings{}, 4);
  Balancer b(Policy::hash, servers({1, 1, 1, 1}), health);
  std::vector<int> before(10000);
  for (int k = 0; k < 10000; ++k) before[k] = b.pick("id-" + std::to_string(k), 0, 0);
  take_down(health, 2);
  int moved = 0, owned = 0;
  for (int k = 0; k < 10000; ++k) {
    const int now = b.pick("id-" + std::to_string(k), 0, 0);
    CHECK(now != 2);
    if (before[k] == 2) ++owned;
    if (now != before[k]) {
      ++moved;
      CHECK(before[k] == 2);  // nobody else's key moved
    }
  }
  CHECK(moved == owned);
  CHECK(owned > 2200);  // about a quarter
  CHECK(owned < 2800);
  bring_up(health, 2);
  for (int k = 0; k < 10000; ++k) CHECK(b.pick("id-" + std::to_string(k), 0, 0) == before[k]);

  // A retry (tried = the first choice) also lands on the key's second choice,
  // the same one it gets while the first is down.
  take_down(health, 2);
  std::vector<int> second(10000);
  for (int k = 0; k < 10000; ++k) second[k] = b.pick("id-" + std::to_string(k), 0, 0);
  bring_up(health, 2);
  for (int k = 0; k < 10000; ++k) {
    if (before[k] == 2) CHECK(b.pick("id-" + std::to_string(k), uint64_t{1} << 2, 0) == second[k]);
  }
}

}  // TEST_SUITE
