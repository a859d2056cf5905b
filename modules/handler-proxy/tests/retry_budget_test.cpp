// The retry budget's ratio over a sliding 10-second window, and its
// per-second floor, on a fake clock.
#include "retry_budget.h"

#include <doctest/doctest.h>

using axle::proxy::RetryBudget;

namespace {

int spend_all(RetryBudget &b, uint64_t now, int at_most = 100000) {
  int n = 0;
  while (n < at_most && b.try_spend(now)) ++n;
  return n;
}

}  // namespace

TEST_SUITE("retry_budget") {

TEST_CASE("retries stay within the ratio of the window's requests") {
  RetryBudget b(20, 0);
  CHECK_FALSE(b.try_spend(0));  // no requests, no floor: nothing
  for (int i = 0; i < 100; ++i) b.request(500);
  CHECK(spend_all(b, 600) == 20);
  for (int i = 0; i < 10; ++i) b.request(700);
  CHECK(spend_all(b, 800) == 2);
}

TEST_CASE("the minimum per second lets a quiet worker retry, once per second's budget") {
  RetryBudget b(20, 3);
  CHECK(spend_all(b, 0) == 3);
  CHECK(spend_all(b, 999) == 0);
  CHECK(spend_all(b, 1000) == 3);
  // With traffic the ratio adds to it: 50 requests allow 10 retries in the
  // window, on top of the floor where the window is over the ratio.
  RetryBudget c(20, 3);
  for (int i = 0; i < 50; ++i) c.request(5000);
  CHECK(spend_all(c, 5000) == 10);
  CHECK(spend_all(c, 6000) == 3);  // over the ratio: only this second's floor
}

TEST_CASE("the window slides: requests and retries older than 10 s stop counting") {
  RetryBudget b(10, 0);
  for (int i = 0; i < 100; ++i) b.request(0);
  CHECK(spend_all(b, 0) == 10);
  CHECK(spend_all(b, 9999) == 0);     // still inside the window
  CHECK(spend_all(b, 10000) == 0);    // the requests left with the retries
  for (int i = 0; i < 100; ++i) b.request(10500);
  CHECK(spend_all(b, 10500) == 10);
  // 20 s later nothing counts; memory never grew (ten fixed buckets).
  CHECK(spend_all(b, 30000) == 0);
  for (int i = 0; i < 30; ++i) b.request(30000);
  CHECK(spend_all(b, 30001) == 3);
}

TEST_CASE("a bucket not reused yet still leaves the window after 10 s") {
  RetryBudget b(10, 0);
  for (int i = 0; i < 100; ++i) b.request(500);  // second 0
  CHECK(spend_all(b, 9999) == 10);
  b.request(11000);  // second 11: second 0's slot is still there, not counted
  CHECK(spend_all(b, 11000) == 0);
}

TEST_CASE("retries of the last seconds count against the ratio") {
  RetryBudget b(50, 0);
  for (int i = 0; i < 10; ++i) b.request(0);
  CHECK(spend_all(b, 0) == 5);
  for (int i = 0; i < 10; ++i) b.request(5000);
  // 20 requests, 5 retries made: 5 more.
  CHECK(spend_all(b, 5000) == 5);
  // At 10 s the first second's 10 requests and 5 retries leave the window.
  CHECK(spend_all(b, 10000) == 0);
  for (int i = 0; i < 2; ++i) b.request(10000);
  CHECK(spend_all(b, 10000) == 1);  // 12 requests, 5 retries: 6 allowed, 1 more
}

TEST_CASE("a clock that goes back does not trust the future bucket") {
  RetryBudget b(100, 0);
  for (int i = 0; i < 5; ++i) b.request(20000);
  CHECK(spend_all(b, 5000) == 0);
}

}  // TEST_SUITE
