// Passive ejection with backoff and active-check verdicts, on a fake clock
// (every call takes now_ms).
#include "health.h"

#include <doctest/doctest.h>

using axle::proxy::Health;
using axle::proxy::HealthSettings;

namespace {

HealthSettings passive(uint32_t max_fails, uint64_t eject_ms, uint64_t eject_max_ms) {
  HealthSettings s;
  s.max_fails = max_fails;
  s.eject_ms = eject_ms;
  s.eject_max_ms = eject_max_ms;
  return s;
}

// Fails server 0 max_fails times at `now`; returns how long it stays ejected
// (probing millisecond by millisecond, bounded).
uint64_t eject_for(Health &h, uint32_t max_fails, uint64_t now) {
  for (uint32_t i = 0; i < max_fails; ++i) {
    REQUIRE(h.available(0, now));
    h.request_failed(0, now);
  }
  uint64_t t = now;
  while (!h.available(0, t) && t - now < 1000000) ++t;
  return t - now;
}

}  // namespace

TEST_SUITE("health") {

TEST_CASE("servers start available; out-of-range servers are never available") {
  Health h(HealthSettings{}, 2);
  CHECK(h.server_count() == 2);
  CHECK(h.available(0, 0));
  CHECK(h.available(1, 0));
  CHECK(h.up(1, 0));
  CHECK_FALSE(h.available(2, 0));
  h.request_failed(7, 0);  // ignored, no crash
  h.check_failed(7);
  h.check_passed(7);
  h.request_succeeded(7);
}

TEST_CASE("max_fails consecutive failures eject; fewer do not; a success resets the count") {
  Health h(passive(3, 1000, 30000), 2);
  h.request_failed(0, 10);
  h.request_failed(0, 11);
  CHECK(h.available(0, 12));
  h.request_succeeded(0);
  h.request_failed(0, 13);
  h.request_failed(0, 14);
  CHECK(h.available(0, 15));  // two since the success
  h.request_failed(0, 15);
  CHECK_FALSE(h.available(0, 15));
  CHECK_FALSE(h.available(0, 1014));
  CHECK(h.available(0, 1015));
  CHECK(h.available(1, 15));  // the other server is untouched
}

TEST_CASE("backoff doubles per ejection in a row, is capped, and a success resets it") {
  Health h(passive(2, 1000, 5000), 1);
  uint64_t now = 100000;
  CHECK(eject_for(h, 2, now) == 1000);
  now += 1000;
  CHECK(eject_for(h, 2, now) == 2000);
  now += 2000;
  CHECK(eject_for(h, 2, now) == 4000);
  now += 4000;
  CHECK(eject_for(h, 2, now) == 5000);  // capped
  now += 5000;
  CHECK(eject_for(h, 2, now) == 5000);
  now += 5000;
  h.request_succeeded(0);
  CHECK(eject_for(h, 2, now) == 1000);

  // Many ejections in a row never overflow the doubling.
  Health big(passive(1, 1000, 30000), 1);
  uint64_t t = 0;
  for (int i = 0; i < 200; ++i) {
    big.request_failed(0, t);
    t += 30000;
  }
  CHECK(eject_for(big, 1, t) == 30000);
}

TEST_CASE("failures reported while ejected (late attempts) do not extend the ejection") {
  Health h(passive(1, 1000, 30000), 1);
  h.request_failed(0, 0);
  h.request_failed(0, 500);
  h.request_failed(0, 999);
  CHECK(h.available(0, 1000));
  // ...and did not count as a second ejection in a row either.
  h.request_failed(0, 1000);
  CHECK_FALSE(h.available(0, 2999));
  CHECK(h.available(0, 3000));
}

TEST_CASE("max_fails = 0 never ejects") {
  Health h(passive(0, 1000, 30000), 1);
  for (int i = 0; i < 100; ++i) h.request_failed(0, i);
  CHECK(h.available(0, 100));
}

TEST_CASE("active checks: down after `fall` failures in a row, back after `rise` passes in a row") {
  HealthSettings s;
  s.active = true;
  s.fall = 3;
  s.rise = 2;
  Health h(s, 1);
  CHECK(h.available(0, 0));  // starts up
  h.check_failed(0);
  h.check_failed(0);
  h.check_passed(0);  // breaks the run
  h.check_failed(0);
  h.check_failed(0);
  CHECK(h.available(0, 0));
  h.check_failed(0);
  CHECK_FALSE(h.available(0, 0));
  CHECK_FALSE(h.up(0, 0));
  h.check_passed(0);
  h.check_failed(0);  // breaks the run
  h.check_passed(0);
  CHECK_FALSE(h.available(0, 0));
  h.check_passed(0);
  CHECK(h.available(0, 0));
  // Passed checks while up keep it up; a request success does not bring a
  // checked-down server back.
  for (int i = 0; i < 3; ++i) h.check_failed(0);
  h.request_succeeded(0);
  CHECK_FALSE(h.available(0, 0));
}

TEST_CASE("a passed check ends a passive ejection; the backoff stays until a request succeeds") {
  HealthSettings s = passive(1, 1000, 30000);
  s.active = true;
  Health h(s, 1);
  h.request_failed(0, 0);
  CHECK_FALSE(h.available(0, 10));
  h.check_passed(0);
  CHECK(h.available(0, 10));
  h.request_failed(0, 20);  // second ejection in a row: doubled
  CHECK_FALSE(h.available(0, 2019));
  CHECK(h.available(0, 2020));
  h.request_succeeded(0);
  h.request_failed(0, 3000);
  CHECK(h.available(0, 4000));  // back to eject_ms
}

}  // TEST_SUITE
