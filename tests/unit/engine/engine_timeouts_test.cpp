// Deadlines on the fake clock: each fires at its exact millisecond, not one
// before, and does what it must (408 for a stalled request, a quiet close
// otherwise).
#include "engine_driver.h"

using namespace axle;
using namespace axle::enginetest;

namespace {

Timeouts short_timeouts() {
  Timeouts t;
  t.header_ms = 1000;
  t.body_ms = 2000;
  t.idle_ms = 3000;
  t.write_ms = 4000;
  return t;
}

// Ticks one millisecond before `at` (nothing may happen), then at `at`.
void tick_up_to(Harness &h, uint64_t at) {
  h.engine().tick(at - 1);
  CHECK(h.pump() == 0);
  CHECK_FALSE(h.engine().wants_close());
  h.engine().tick(at);
}

// seen: requests dispatched before the stall.
void check_408(Harness &h, size_t seen = 0) {
  h.pump();
  WireParse w = h.responses();
  REQUIRE_MESSAGE(w.error.empty(), w.error);
  REQUIRE(w.responses.size() == 1);
  CHECK(w.responses[0].status == 408);
  CHECK(w.responses[0].closes());
  CHECK(h.dispatcher.seen.size() == seen);
  CHECK(h.shutdown_seen);
  CHECK_FALSE(h.engine().wants_close());  // lingering, until EOF or the linger deadline
  h.engine().tick(FakeClock::now + http::Engine::kLingerMs);
  CHECK(h.engine().wants_close());
}

}  // namespace

TEST_SUITE("engine") {

TEST_CASE("engine.timeouts: a head that stalls gets 408 at the header deadline") {
  each_parser([&](const char *parser) {
    {  // the first request: its deadline runs from the connection's start
      Harness h(parser, {}, short_timeouts());
      const uint64_t opened = FakeClock::now;
      FakeClock::now += 500;
      h.send("GET / HTTP/1.1\r\nHost: t\r\n");
      tick_up_to(h, opened + 1000);
      check_408(h);
    }
    {  // a later request: from its first byte
      Harness h(parser, {}, short_timeouts());
      h.send(get("/a"));
      h.pump();
      h.wire.clear();
      FakeClock::now += 2500;  // idle for a while, under the idle deadline
      h.send("GET / HTTP/1.1\r\nHost: t\r\n");
      CHECK(h.engine().deadline_kind() == AXLE_TIMEOUT_HEADER);
      tick_up_to(h, FakeClock::now + 1000);
      check_408(h, 1);
    }
  });
}

TEST_CASE("engine.timeouts: a body that stalls gets 408 at the body deadline") {
  each_parser([&](const char *parser) {
    for (std::string head : {std::string("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc"),
                             std::string("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab")}) {
      Harness h(parser, {}, short_timeouts());
      h.send(head);
      CHECK(h.engine().deadline_kind() == AXLE_TIMEOUT_BODY);
      tick_up_to(h, FakeClock::now + 2000);
      check_408(h);
    }
  });
}

TEST_CASE("engine.timeouts: an idle keep-alive connection closes quietly at the idle deadline") {
  each_parser([&](const char *parser) {
    Harness h(parser, {}, short_timeouts());
    h.send(get("/a"));
    h.pump();
    const size_t answered = h.wire.size();
    CHECK(h.engine().deadline_kind() == AXLE_TIMEOUT_IDLE);
    tick_up_to(h, FakeClock::now + 3000);
    CHECK(h.engine().wants_close());
    CHECK(h.pump() == 0);
    CHECK(h.wire.size() == answered);
  });
}

TEST_CASE("engine.timeouts: a connection that never sends closes quietly at the header deadline") {
  each_parser([&](const char *parser) {
    Harness h(parser, {}, short_timeouts());
    tick_up_to(h, FakeClock::now + 1000);
    CHECK(h.engine().wants_close());
    CHECK(h.wire.empty());
  });
}

TEST_CASE("engine.timeouts: output that is never written closes at the write deadline") {
  each_parser([&](const char *parser) {
    Harness h(parser, {}, short_timeouts());
    h.send(get("/large"));
    REQUIRE(h.take_and_stall());
    CHECK(h.engine().deadline_kind() == AXLE_TIMEOUT_WRITE);
    h.engine().tick(FakeClock::now + 3999);
    CHECK_FALSE(h.engine().wants_close());
    h.engine().tick(FakeClock::now + 4000);
    CHECK(h.engine().wants_close());
    CHECK(h.engine().take_output().empty());
  });
}

TEST_CASE("engine.timeouts: a partial head behind a written response still gets its header deadline") {
  each_parser([&](const char *parser) {
    Harness h(parser, {}, short_timeouts());
    h.send(get("/a") + "GET /b HTTP/1.1\r\n");
    h.pump();
    CHECK(h.engine().deadline_kind() == AXLE_TIMEOUT_HEADER);
    h.engine().tick(FakeClock::now + 1000);
    h.pump();
    WireParse w = h.responses();
    REQUIRE_MESSAGE(w.error.empty(), w.error);
    REQUIRE(w.responses.size() == 2);
    CHECK(w.responses[0].status == 200);
    CHECK(w.responses[1].status == 408);
  });
}

}  // TEST_SUITE
