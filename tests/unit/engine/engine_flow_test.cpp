// Flow control: a client that does not read makes the engine stop taking
// work at each bound (queued bytes, open files, responses); once it reads,
// everything is answered in order. The process-wide budget refuses bodies
// that would have to be buffered with 503 while bounded answers still go out.
#include "engine_driver.h"

using namespace axle;
using namespace axle::enginetest;

namespace {

std::string repeat(const std::string &req, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += req;
  return out;
}

// Drains the engine one run at a time, checking `bound` before every run.
template <class Bound>
void drain_checking(Harness &h, Bound &&bound) {
  do {
    bound();
  } while (h.step());
}

void check_in_order(Harness &h, size_t n, const std::string &body) {
  WireParse w = h.responses();
  REQUIRE_MESSAGE(w.error.empty(), w.error);
  REQUIRE(w.responses.size() == n);
  for (size_t i = 0; i < n; ++i) {
    CHECK(w.responses[i].header("X-Seq") == std::to_string(i + 1));
    CHECK(w.responses[i].body == (body.empty() ? "seq=" + std::to_string(i + 1) : body));
  }
  CHECK(h.dispatcher.seen.size() == n);
}

}  // namespace

TEST_SUITE("engine") {

TEST_CASE("engine.flow: queued output bytes: a client that never reads stops dispatch and reading") {
  each_parser([&](const char *parser) {
    for (const char *target : {"/large", "/a"}) {
      INFO(target);
      Limits lim;
      lim.max_conn_output_bytes = 8 * 1024;
      Harness h(parser, lim);
      const size_t n = 60;
      h.send(repeat(get(target), n));
      // One response is at most the large body plus a head.
      const uint64_t bound = lim.max_conn_output_bytes + ScriptDispatcher::kLargeBody + 512;
      CHECK(h.dispatcher.seen.size() < n);
      CHECK_FALSE(h.engine().reading());
      CHECK(h.engine().queued_output_bytes() <= bound);
      const size_t dispatched = h.dispatcher.seen.size();
      // A glue that keeps reading anyway changes nothing.
      h.send(get(target));
      CHECK(h.dispatcher.seen.size() == dispatched);
      CHECK(h.engine().queued_output_bytes() <= bound);
      // The client reads: one run at a time, never over the bound.
      drain_checking(h, [&] { CHECK(h.engine().queued_output_bytes() <= bound); });
      check_in_order(h, n + 1, std::string(target) == "/large" ? ScriptDispatcher::large_body() : "");
      CHECK(h.engine().reading());
      CHECK(h.engine().idle());
    }
  });
}

TEST_CASE("engine.flow: queued files never exceed max_conn_output_files") {
  each_parser([&](const char *parser) {
    Limits lim;
    lim.max_conn_output_files = 2;
    Harness h(parser, lim);
    const size_t n = 12;
    h.send(repeat(get("/file"), n));
    CHECK(h.engine().queued_files() <= 2);
    CHECK(h.dispatcher.seen.size() <= 2);
    CHECK_FALSE(h.engine().reading());
    drain_checking(h, [&] { CHECK(h.engine().queued_files() <= 2); });
    check_in_order(h, n, ScriptDispatcher::file_contents());
  });
}

TEST_CASE("engine.flow: max_pipelined bounds the responses queued for a client that does not read") {
  each_parser([&](const char *parser) {
    Limits lim;
    lim.max_pipelined = 3;
    Harness h(parser, lim);
    const size_t n = 10;
    h.send(repeat(get("/a"), n));
    CHECK(h.dispatcher.seen.size() == 3);
    CHECK_FALSE(h.engine().reading());
    REQUIRE(h.take_and_stall());  // the write is in flight but not done: still paused
    CHECK(h.dispatcher.seen.size() == 3);
    h.finish_stalled();
    h.pump();
    check_in_order(h, n, "");
    CHECK(h.engine().reading());
  });
}

TEST_CASE("engine.flow: a spent process budget refuses buffered bodies with 503, bounded answers still go out") {
  each_parser([&](const char *parser) {
    http::SharedBudget shared(http::Budget::kGrain);
    const std::string partial_post = "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 50000\r\n\r\n" +
                                     std::string(1000, 'x');
    {
      Harness holder(parser, {}, {}, &shared);  // holds a buffered body: the grain is spent
      holder.send(partial_post);
      CHECK(holder.engine().buffered_input() > 0);
      CHECK(holder.budget.exhausted());
      {
        Harness h(parser, {}, {}, &shared);
        h.send(partial_post);
        h.pump();
        WireParse w = h.responses();
        REQUIRE_MESSAGE(w.error.empty(), w.error);
        REQUIRE(w.responses.size() == 1);
        CHECK(w.responses[0].status == 503);
        CHECK(w.responses[0].closes());
        CHECK(w.responses[0].header("Retry-After") != "");
        CHECK(h.dispatcher.seen.empty());
      }
      {  // a fresh client without a body is answered, and so is a body that came whole
        Harness h(parser, {}, {}, &shared);
        h.send(get("/a"));
        h.pump();
        h.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc");
        h.pump();
        WireParse w = h.responses();
        REQUIRE_MESSAGE(w.error.empty(), w.error);
        REQUIRE(w.responses.size() == 2);
        CHECK(w.responses[0].status == 200);
        CHECK(w.responses[1].body == "abc");
      }
    }
    CHECK(shared.used() == 0);  // every grain came back
  });
}

TEST_CASE("engine.flow: with the budget spent, a connection holding output takes no more work until it drains") {
  each_parser([&](const char *parser) {
    http::SharedBudget shared(http::Budget::kGrain);
    Harness holder(parser, {}, {}, &shared);
    holder.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 50000\r\n\r\nx");
    REQUIRE(holder.budget.exhausted());
    Harness h(parser, {}, {}, &shared);
    h.send(repeat(get("/a"), 5));
    CHECK(h.dispatcher.seen.size() == 1);
    CHECK_FALSE(h.engine().reading());
    h.pump();
    check_in_order(h, 5, "");
  });
}

}  // TEST_SUITE
