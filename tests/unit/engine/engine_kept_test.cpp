// Kept requests: a handler that answers later, or streams its response.
// Pipelined requests wait their turn behind it; the framing on the wire is
// exact (chunked, Content-Length, close-delimited, HEAD, 204/304); a write
// over the connection's output bound is refused with Again and writable()
// follows the client's read; the handler hears of the client leaving, the
// response deadline and a drain exactly once, and nothing after.
#include "engine_driver.h"

#include <axle/handler.h>

#include <cerrno>

using namespace axle;
using namespace axle::enginetest;
using Write = http::Engine::Write;

namespace {

// The one response on the wire, well-formed.
WireResponse only_response(Harness &h, const std::vector<bool> &head_only = {}) {
  WireParse w = h.responses(head_only);
  REQUIRE_MESSAGE(w.error.empty(), w.error);
  REQUIRE(w.responses.size() == 1);
  return w.responses[0];
}

// After a kept request ended: the connection serves the next request.
void check_next_served(Harness &h) {
  h.wire.clear();
  h.send(get("/after"));
  h.pump();
  WireResponse r = only_response(h);
  CHECK(r.status == 200);
  CHECK(r.body == "seq=" + std::to_string(h.dispatcher.seen.size()));
}

// What the engine reports for metrics and the access log.
struct RecordingObserver final : http::Observer {
  struct Done {
    std::string method, target, user_agent;
    uint32_t route_id;
    uint16_t status;
    uint64_t bytes_in, bytes_out;
    bool refused;
  };
  void request_done(void *, const http::RequestRecord &rec) override {
    Done d{{}, {}, {}, rec.route_id, rec.status, rec.bytes_in, rec.bytes_out, rec.refused};
    if (rec.head) {
      d.method.assign(rec.head->method.ptr, rec.head->method.len);
      d.target.assign(rec.head->target.ptr, rec.head->target.len);
      for (uint32_t i = 0; i < rec.head->header_count; ++i)
        if (std::string_view(rec.head->headers[i].name.ptr, rec.head->headers[i].name.len) == "User-Agent")
          d.user_agent.assign(rec.head->headers[i].value.ptr, rec.head->headers[i].value.len);
    }
    done.push_back(d);
  }
  void parse_error(uint16_t) override {}
  void timeout(uint8_t) override {}
  std::vector<Done> done;
};

}  // namespace

TEST_SUITE("engine") {

TEST_CASE("engine.kept: a kept request is reported once when it ends, with its request line, route and bytes") {
  each_parser([&](const char *parser) {
    for (bool streamed : {false, true}) {
      INFO("streamed " << streamed);
      Harness h(parser);
      RecordingObserver observer;
      h.ctx.observer = &observer;
      const std::string req = "GET /keep?q=1 HTTP/1.1\r\nHost: t\r\nUser-Agent: kept-test\r\n\r\n";
      h.send(req);
      TestKept &k = h.dispatcher.last_kept();
      CHECK(observer.done.empty());  // not before it ends
      if (streamed) {
        REQUIRE(k.begin(202, -1) == Write::Ok);
        REQUIRE(k.write("abc") == Write::Ok);
        h.pump();
        REQUIRE(k.write("defg") == Write::Ok);
        REQUIRE(k.finish());
      } else {
        REQUIRE(k.respond(202, "abcdefg"));
      }
      h.pump();
      REQUIRE(observer.done.size() == 1);
      const RecordingObserver::Done &d = observer.done[0];
      CHECK(d.method == "GET");
      CHECK(d.target == "/keep?q=1");
      CHECK(d.user_agent == "kept-test");
      CHECK(d.route_id == ScriptDispatcher::kKeptRoute);
      CHECK(d.status == 202);
      CHECK(d.bytes_in == req.size());
      CHECK(d.bytes_out == h.wire.size());
      CHECK_FALSE(d.refused);
      h.ctx.observer = nullptr;
    }
  });
}



TEST_CASE("engine.kept: pending then respond: one Content-Length response, pipelined requests after it in order") {
  each_parser([&](const char *parser) {
    Harness h(parser);
    h.send(get("/a") + get("/keep") + get("/c"));
    REQUIRE(h.dispatcher.kept.size() == 1);
    CHECK(h.engine().kept());
    CHECK(h.dispatcher.seen.size() == 2);  // the 3rd waits for the kept one
    h.pump();
    CHECK(h.engine().reading());
    CHECK(h.dispatcher.seen.size() == 2);
    WireParse before = h.responses();
    REQUIRE(before.responses.size() == 1);  // only /a so far
    TestKept &k = h.dispatcher.last_kept();
    REQUIRE(k.respond(201, "kept!"));
    CHECK_FALSE(h.engine().kept());
    h.pump();
    WireParse w = h.responses();
    REQUIRE_MESSAGE(w.error.empty(), w.error);
    REQUIRE(w.responses.size() == 3);
    for (size_t i = 0; i < 3; ++i) CHECK(w.responses[i].header("X-Seq") == std::to_string(i + 1));
    CHECK(w.responses[1].status == 201);
    CHECK(w.responses[1].header("Content-Length") == "5");
    CHECK(w.responses[1].body == "kept!");
    CHECK_FALSE(w.responses[1].closes());
    CHECK(w.responses[2].body == "seq=3");
    CHECK(k.aborts.empty());
    CHECK(k.faults == 0);
    CHECK(h.engine().idle());
    // A second call after the end is refused, and the engine keeps serving.
    CHECK_FALSE(k.respond(200, "again"));
    check_next_served(h);
  });
}

TEST_CASE("engine.kept: requests pipelined behind a kept one are held up to kHoldInputBytes, then reading pauses") {
  each_parser([&](const char *parser) {
    Harness h(parser);
    h.send(get("/keep"));
    const std::string req = get("/p");
    size_t sent = 0;
    while (h.engine().reading() && sent < 4 * http::Engine::kHoldInputBytes / req.size()) {
      h.send(req);
      ++sent;
    }
    CHECK_FALSE(h.engine().reading());
    CHECK(h.engine().buffered_input() >= http::Engine::kHoldInputBytes);
    CHECK(h.engine().buffered_input() < http::Engine::kHoldInputBytes + req.size());
    CHECK(h.dispatcher.seen.size() == 1);  // none parsed while it waits
    REQUIRE(h.dispatcher.last_kept().respond(200, "first"));
    h.pump();
    CHECK(h.engine().reading());
    WireParse w = h.responses();
    REQUIRE_MESSAGE(w.error.empty(), w.error);
    REQUIRE(w.responses.size() == sent + 1);
    CHECK(w.responses[0].body == "first");
    for (size_t i = 1; i <= sent; ++i) CHECK(w.responses[i].header("X-Seq") == std::to_string(i + 1));
  });
}

TEST_CASE("engine.kept: answered inside dispatch, the kept request is done at once") {
  each_parser([&](const char *parser) {
    Harness h(parser);
    h.send(get("/keep-now") + get("/b"));
    h.pump();
    WireParse w = h.responses();
    REQUIRE_MESSAGE(w.error.empty(), w.error);
    REQUIRE(w.responses.size() == 2);
    CHECK(w.responses[0].body == "now");
    CHECK(w.responses[1].body == "seq=2");
    CHECK(h.engine().idle());
  });
}

TEST_CASE("engine.kept: a chunked stream on HTTP/1.1 has the exact framing, last chunk and trailers") {
  each_parser([&](const char *parser) {
    Harness h(parser);
    h.send(get("/keep"));
    TestKept &k = h.dispatcher.last_kept();
    CHECK(k.write("early") == Write::Invalid);  // not begun
    REQUIRE(k.begin(200, -1) == Write::Ok);
    CHECK(k.begin(200, -1) == Write::Invalid);  // once
    CHECK(h.engine().kept_begun());
    h.pump();
    REQUIRE(k.write("hello") == Write::Ok);
    REQUIRE(k.write("") == Write::Ok);  // no empty chunk: that would end the body
    REQUIRE(k.write(std::string(20, 'x')) == Write::Ok);
    h.pump();
    REQUIRE(k.finish({{"X-Checksum", "abc"}, {"X-More", "1"}}));
    h.pump();
    const std::string body_wire = "5\r\nhello\r\n14\r\n" + std::string(20, 'x') + "\r\n0\r\nX-Checksum: abc\r\nX-More: 1\r\n\r\n";
    size_t head_end = h.wire.find("\r\n\r\n");
    REQUIRE(head_end != std::string::npos);
    CHECK(h.wire.substr(head_end + 4) == body_wire);
    WireResponse r = only_response(h);
    CHECK(r.chunked);
    CHECK(r.count("Content-Length") == 0);
    CHECK(r.header("X-Seq") == "1");
    CHECK(r.body == "hello" + std::string(20, 'x'));
    REQUIRE(r.trailers.size() == 2);
    CHECK(r.trailers[0].first == "X-Checksum");
    CHECK(r.trailers[1].second == "1");
    CHECK_FALSE(r.closes());
    CHECK(k.faults == 0);
    CHECK(k.aborts.empty());
    check_next_served(h);
  });
}

TEST_CASE("engine.kept: a stream of known length: Content-Length, no writing past it, short closes") {
  each_parser([&](const char *parser) {
    {
      Harness h(parser);
      h.send(get("/keep"));
      TestKept &k = h.dispatcher.last_kept();
      REQUIRE(k.begin(200, 10) == Write::Ok);
      REQUIRE(k.write("12345") == Write::Ok);
      CHECK(k.write("678901") == Write::Invalid);  // one past the length
      REQUIRE(k.write("67890") == Write::Ok);
      CHECK(k.write("x") == Write::Invalid);
      REQUIRE(k.finish());
      h.pump();
      WireResponse r = only_response(h);
      CHECK(r.header("Content-Length") == "10");
      CHECK(r.body == "1234567890");
      CHECK_FALSE(r.closes());
      check_next_served(h);
    }
    {  // finishing short: the client cannot tell, so the connection closes
      Harness h(parser);
      h.send(get("/keep") + get("/never"));
      TestKept &k = h.dispatcher.last_kept();
      REQUIRE(k.begin(200, 10) == Write::Ok);
      REQUIRE(k.write("123") == Write::Ok);
      CHECK_FALSE(k.finish());
      CHECK_FALSE(h.engine().kept());
      h.pump();
      WireParse w = h.responses();
      CHECK(w.truncated);  // 3 of 10 bytes
      CHECK(h.wire.ends_with("\r\n\r\n123"));
      CHECK(h.shutdown_seen);
      CHECK(h.dispatcher.seen.size() == 1);  // the request behind it is not served
      h.engine().peer_closed(0);
      CHECK(h.engine().wants_close());
      CHECK(k.aborts.empty());
      CHECK(k.faults == 0);
    }
  });
}

TEST_CASE("engine.kept: an unknown length on HTTP/1.0 is close-delimited") {
  each_parser([&](const char *parser) {
    Harness h(parser);
    h.send("GET /keep HTTP/1.0\r\n\r\n");
    TestKept &k = h.dispatcher.last_kept();
    REQUIRE(k.begin(200, -1) == Write::Ok);
    REQUIRE(k.write("abc") == Write::Ok);
    REQUIRE(k.write("def") == Write::Ok);
    REQUIRE(k.finish({{"X-Ignored", "1"}}));  // no trailers without chunks
    h.pump();
    WireResponse r = only_response(h);
    CHECK(r.count("Content-Length") == 0);
    CHECK(r.count("Transfer-Encoding") == 0);
    CHECK(r.closes());
    CHECK(r.body == "abcdef");
    CHECK(h.wire.ends_with("\r\n\r\nabcdef"));
    CHECK(h.shutdown_seen);
  });
}

// Regression (found by the engine fuzzer): a closing response whose finish
// queued no byte got no output_done to close after it, and the connection
// stayed open with no deadline; an HTTP/1.0 client waited for the close
// that ends its body forever.
TEST_CASE("engine.kept: a closing stream finished after its body went out still closes") {
  each_parser([&](const char *parser) {
    struct Case {
      const char *request;
      uint16_t status;
      int64_t length;
      std::string body;
    };
    const Case cases[] = {
        {"GET /keep HTTP/1.0\r\n\r\n", 200, -1, "close-delimited"},
        {"GET /keep HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 200, 6, "length"},
        {"GET /keep HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 204, -1, ""},
        {"HEAD /keep HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 200, 4, ""},
    };
    for (const Case &c : cases) {
      INFO(std::string(c.request) << c.status);
      Harness h(parser);
      h.send(c.request);
      TestKept &k = h.dispatcher.last_kept();
      REQUIRE(k.begin(c.status, c.length) == Write::Ok);
      if (!c.body.empty()) REQUIRE(k.write(c.body) == Write::Ok);
      h.pump();  // the client has read everything
      CHECK_FALSE(h.shutdown_seen);
      REQUIRE(k.finish());
      h.pump();
      CHECK(h.shutdown_seen);
      h.engine().peer_closed(0);
      CHECK(h.engine().wants_close());
    }
  });
}

// Regression (found by the engine fuzzer): a finish that queued no byte
// still counted as a queued response, so with max_pipelined = 1 the next
// pipelined request waited for an output_done that never came.
TEST_CASE("engine.kept: a stream finished after its body went out does not hold up the next request") {
  each_parser([&](const char *parser) {
    for (int64_t length : {int64_t{-2}, int64_t{3}}) {  // -2: a 204
      INFO("length " << length);
      Limits lim;
      lim.max_pipelined = 1;
      Harness h(parser, lim);
      h.send(get("/keep") + get("/b"));
      TestKept &k = h.dispatcher.last_kept();
      REQUIRE(k.begin(length < 0 ? 204 : 200, length < 0 ? -1 : length) == Write::Ok);
      if (length > 0) REQUIRE(k.write("abc") == Write::Ok);
      h.pump();
      REQUIRE(k.finish());
      h.pump();
      CHECK(h.engine().reading());
      WireParse w = h.responses();
      REQUIRE_MESSAGE(w.error.empty(), w.error);
      REQUIRE(w.responses.size() == 2);
      CHECK(w.responses[1].body == "seq=2");
    }
  });
}

TEST_CASE("engine.kept: HEAD sends the head only; writes are accepted and dropped") {
  each_parser([&](const char *parser) {
    for (int64_t length : {int64_t{5}, int64_t{-1}}) {
      INFO("length " << length);
      Harness h(parser);
      h.send("HEAD /keep HTTP/1.1\r\nHost: t\r\n\r\n");
      TestKept &k = h.dispatcher.last_kept();
      REQUIRE(k.begin(200, length) == Write::Ok);
      CHECK(k.write("hello") == Write::Ok);
      REQUIRE(k.finish());
      h.pump();
      CHECK(h.wire.ends_with("\r\n\r\n"));
      CHECK(h.wire.find("hello") == std::string::npos);
      WireResponse r = only_response(h, {true});
      CHECK(r.header("Content-Length") == (length == 5 ? "5" : ""));
      CHECK(r.count("Transfer-Encoding") == 0);
      CHECK(r.body.empty());
      CHECK_FALSE(r.closes());
      check_next_served(h);
    }
  });
}

TEST_CASE("engine.kept: 204 and 304 announce no body and take none") {
  each_parser([&](const char *parser) {
    for (uint16_t status : {uint16_t{204}, uint16_t{304}}) {
      INFO(status);
      Harness h(parser);
      h.send(get("/keep"));
      TestKept &k = h.dispatcher.last_kept();
      REQUIRE(k.begin(status, -1) == Write::Ok);
      CHECK(k.write("x") == Write::Invalid);
      CHECK(k.write("") == Write::Ok);
      REQUIRE(k.finish());
      h.pump();
      WireResponse r = only_response(h);  // the reader refuses any framing on a 204/304
      CHECK(r.status == status);
      CHECK(h.wire.ends_with("\r\n\r\n"));
      CHECK_FALSE(r.closes());
      check_next_served(h);
    }
  });
}

TEST_CASE("engine.kept: back-pressure: a write over the output bound is Again, writable() follows the read") {
  each_parser([&](const char *parser) {
    Limits lim;
    lim.max_conn_output_bytes = 4096;
    Harness h(parser, lim);
    h.send(get("/keep"));
    TestKept &k = h.dispatcher.last_kept();
    REQUIRE(k.begin(200, -1) == Write::Ok);
    CHECK(k.write(std::string(4097, 'z')) == Write::Invalid);  // larger than the connection may ever hold
    // The handler writes 40 pieces of 1500 bytes as fast as it is let.
    const size_t pieces = 40;
    std::string expected;
    size_t next = 0, agains = 0;
    auto produce = [&](TestKept &kk) {
      while (next < pieces) {
        std::string piece(1500, static_cast<char>('a' + next % 26));
        Write w = kk.write(piece);
        if (w == Write::Again) {
          ++agains;
          return;
        }
        REQUIRE(w == Write::Ok);
        expected += piece;
        ++next;
        // framing: at most a chunk-size line and CRLFs past the bound
        CHECK(h.engine().queued_output_bytes() <= lim.max_conn_output_bytes + 32);
      }
      REQUIRE(kk.finish());
    };
    k.on_writable = produce;
    produce(k);
    CHECK(agains == 1);
    CHECK(next < pieces);
    CHECK(k.writables == 0);  // nothing read yet
    // Refused writes are not retried by the engine on its own: only the read makes room.
    h.engine().resume();
    CHECK(k.writables == 0);
    h.pump();
    CHECK(agains >= pieces * 1500 / lim.max_conn_output_bytes - 1);
    CHECK(k.writables == agains);  // one writable() per Again
    CHECK(next == pieces);
    WireResponse r = only_response(h);
    CHECK(r.body == expected);
    CHECK(k.faults == 0);
    CHECK(k.aborts.empty());
    check_next_served(h);
  });
}

TEST_CASE("engine.kept: the client leaving aborts once with CLIENT_GONE, and nothing follows") {
  each_parser([&](const char *parser) {
    enum class Leave { Eof, Reset, FailedWrite, EofStreaming };
    for (Leave leave : {Leave::Eof, Leave::Reset, Leave::FailedWrite, Leave::EofStreaming}) {
      INFO("case " << static_cast<int>(leave));
      Harness h(parser);
      h.send(get("/keep") + get("/never"));
      TestKept &k = h.dispatcher.last_kept();
      k.on_writable = [](TestKept &kk) { kk.write("more"); };
      if (leave == Leave::Eof) {
        h.engine().peer_closed(0);
      } else if (leave == Leave::Reset) {
        h.engine().peer_closed(ECONNRESET);
      } else {
        REQUIRE(k.begin(200, -1) == Write::Ok);
        REQUIRE(k.write("part") == Write::Ok);
        REQUIRE(h.take_and_stall());
        if (leave == Leave::FailedWrite) h.fail_stalled(EPIPE);
        else h.engine().peer_closed(0);
      }
      REQUIRE(k.aborts.size() == 1);
      CHECK(k.aborts[0] == AXLE_ABORT_CLIENT_GONE);
      CHECK_FALSE(h.engine().kept());
      CHECK(h.engine().wants_close());
      // Whatever the glue or the handler does next reaches no one.
      CHECK(k.write("late") == Write::Invalid);
      CHECK_FALSE(k.respond(200, "late"));
      h.engine().resume();
      h.engine().tick(FakeClock::now + 10'000'000);
      h.engine().peer_closed(0);
      h.engine().abort_kept(AXLE_ABORT_DRAIN);
      CHECK(k.aborts.size() == 1);
      CHECK(k.writables == 0);
      CHECK(k.faults == 0);
      CHECK(h.dispatcher.seen.size() == 1);
    }
  });
}

TEST_CASE("engine.kept: the response deadline aborts with TIMEOUT and answers 504 when nothing was sent") {
  each_parser([&](const char *parser) {
    Timeouts t;
    t.response_ms = 5000;
    {
      Harness h(parser, {}, t);
      h.send(get("/keep") + get("/never"));
      TestKept &k = h.dispatcher.last_kept();
      CHECK(h.engine().deadline_kind() == http::Engine::kTimeoutResponse);
      const uint64_t at = FakeClock::now + 5000;
      h.engine().tick(at - 1);
      CHECK(k.aborts.empty());
      h.engine().tick(at);
      REQUIRE(k.aborts.size() == 1);
      CHECK(k.aborts[0] == AXLE_ABORT_TIMEOUT);
      h.pump();
      WireResponse r = only_response(h);
      CHECK(r.status == 504);
      CHECK(r.closes());
      CHECK(h.dispatcher.seen.size() == 1);
      h.engine().peer_closed(0);
      CHECK(h.engine().wants_close());
      CHECK(k.aborts.size() == 1);
      CHECK(k.faults == 0);
    }
    {  // early hints went out: the deadline still runs, and the 504 follows the 103
      Harness h(parser, {}, t);
      h.send(get("/keep-hints"));
      TestKept &k = h.dispatcher.last_kept();
      h.pump();
      h.engine().tick(FakeClock::now + 5000);
      REQUIRE(k.aborts.size() == 1);
      CHECK(k.aborts[0] == AXLE_ABORT_TIMEOUT);
      h.pump();
      WireParse w = h.responses();
      REQUIRE_MESSAGE(w.error.empty(), w.error);
      REQUIRE(w.responses.size() == 2);
      CHECK(w.responses[0].status == 103);
      CHECK(w.responses[1].status == 504);
    }
    {  // a begun stream idles as long as its handler wants
      Harness h(parser, {}, t);
      h.send(get("/keep"));
      TestKept &k = h.dispatcher.last_kept();
      REQUIRE(k.begin(200, -1) == Write::Ok);
      h.pump();
      CHECK(h.engine().deadline_kind() == 0);
      h.engine().tick(FakeClock::now + 10 * 5000);
      CHECK(k.aborts.empty());
      REQUIRE(k.finish());
      h.pump();
      CHECK(only_response(h).body.empty());
    }
  });
}

// Regression (found by the engine fuzzer): keeping a request replaced the
// write deadline of the output in flight by the response deadline, so a
// client that stopped reading held the connection for response_ms.
TEST_CASE("engine.kept: a request kept behind output in flight leaves the write deadline running") {
  each_parser([&](const char *parser) {
    Timeouts t;
    t.write_ms = 1000;
    t.response_ms = 60'000;
    Harness h(parser, {}, t);
    h.send(get("/large"));
    REQUIRE(h.take_and_stall());  // the client stops reading
    h.send(get("/keep"));
    CHECK(h.engine().kept());
    CHECK(h.engine().deadline_kind() == AXLE_TIMEOUT_WRITE);
    h.engine().tick(FakeClock::now + 1000);
    TestKept &k = h.dispatcher.last_kept();
    REQUIRE(k.aborts.size() == 1);
    CHECK(k.aborts[0] == AXLE_ABORT_TIMEOUT);
    CHECK(h.engine().wants_close());
  });
}

TEST_CASE("engine.kept: a handler that kept the request and then failed is aborted with ERROR; the client gets 500") {
  each_parser([&](const char *parser) {
    Harness h(parser);
    h.send(get("/keep-fail") + get("/b"));
    TestKept &k = h.dispatcher.last_kept();
    REQUIRE(k.aborts.size() == 1);
    CHECK(k.aborts[0] == AXLE_ABORT_ERROR);
    CHECK_FALSE(h.engine().kept());
    h.pump();
    WireParse w = h.responses();
    REQUIRE_MESSAGE(w.error.empty(), w.error);
    REQUIRE(w.responses.size() == 2);
    CHECK(w.responses[0].status == 500);
    CHECK(w.responses[1].body == "seq=2");
    CHECK(k.faults == 0);
  });
}

TEST_CASE("engine.kept: draining, or a handler asking for it, closes the connection after a kept response") {
  each_parser([&](const char *parser) {
    for (int why : {0, 1, 2}) {  // 0: draining, 1: kept_close_connection, 2: Response::close
      for (bool streamed : {false, true}) {
        INFO("why " << why << " streamed " << streamed);
        Harness h(parser);
        h.send(get("/keep") + get("/never"));
        TestKept &k = h.dispatcher.last_kept();
        if (why == 0) h.ctx.draining = true;
        if (why == 1) h.engine().kept_close_connection();
        if (why == 2) k.response().close = true;
        if (streamed) {
          REQUIRE(k.begin(200, -1) == Write::Ok);
          REQUIRE(k.finish());
        } else {
          REQUIRE(k.respond(200, "bye"));
        }
        h.pump();
        WireResponse r = only_response(h);
        CHECK(r.closes());
        CHECK(h.shutdown_seen);
        CHECK(h.dispatcher.seen.size() == 1);
        h.ctx.draining = false;
      }
    }
  });
}

TEST_CASE("engine.kept: abort_kept(DRAIN) ends the kept request and the connection") {
  each_parser([&](const char *parser) {
    Harness h(parser);
    h.send(get("/keep"));
    TestKept &k = h.dispatcher.last_kept();
    h.engine().abort_kept(AXLE_ABORT_DRAIN);
    REQUIRE(k.aborts.size() == 1);
    CHECK(k.aborts[0] == AXLE_ABORT_DRAIN);
    CHECK(h.engine().wants_close());
    h.engine().abort_kept(AXLE_ABORT_DRAIN);
    CHECK(k.aborts.size() == 1);
    CHECK(h.pump() == 0);
  });
}

TEST_CASE("engine.kept: the engine's destruction aborts a kept request it still holds") {
  each_parser([&](const char *parser) {
    Harness h(parser);
    h.send(get("/keep"));
    TestKept &k = h.dispatcher.last_kept();
    REQUIRE(k.begin(200, -1) == Write::Ok);
    h.new_engine();
    REQUIRE(k.aborts.size() == 1);
    CHECK(k.aborts[0] == AXLE_ABORT_CLIENT_GONE);
  });
}

TEST_CASE("engine.kept: 103 early hints precede the final response on HTTP/1.1 and are skipped on HTTP/1.0") {
  each_parser([&](const char *parser) {
    for (int minor : {1, 0}) {
      INFO("HTTP/1." << minor);
      const std::string version = minor ? "HTTP/1.1" : "HTTP/1.0";
      for (const char *path : {"/hints", "/keep-hints", "/keep"}) {
        INFO(path);
        Harness h(parser);
        h.send("GET " + std::string(path) + " " + version + "\r\nHost: t\r\n\r\n");
        if (std::string_view(path).starts_with("/keep")) {
          TestKept &k = h.dispatcher.last_kept();
          if (std::string_view(path) == "/keep") REQUIRE(k.hints({{"Link", "</b.js>; rel=preload"}}) == Write::Ok);
          h.pump();
          REQUIRE(k.respond(200, "final"));
          CHECK(k.hints({{"Link", "</late>"}}) == Write::Invalid);  // ended
        }
        h.pump();
        WireParse w = h.responses();
        REQUIRE_MESSAGE(w.error.empty(), w.error);
        REQUIRE(w.responses.size() == (minor ? 2u : 1u));
        if (minor) {
          CHECK(w.responses[0].status == 103);
          CHECK(w.responses[0].header("Link").find("rel=preload") != std::string::npos);
        }
        CHECK(w.responses.back().status == 200);
      }
    }
  });
}

TEST_CASE("engine.kept: early hints after the response began are refused") {
  each_parser([&](const char *parser) {
    Harness h(parser);
    h.send(get("/keep"));
    TestKept &k = h.dispatcher.last_kept();
    REQUIRE(k.begin(200, -1) == Write::Ok);
    CHECK(k.hints({{"Link", "</a>"}}) == Write::Invalid);
    REQUIRE(k.finish());
    h.pump();
    CHECK(only_response(h).status == 200);
  });
}


TEST_CASE("engine.kept: cancel before begin answers 500; cancel after begin closes without the last chunk") {
  each_parser([&](const char *parser) {
    {
      Harness h(parser);
      h.send(get("/keep"));
      TestKept &k = h.dispatcher.last_kept();
      k.cancel();
      CHECK_FALSE(h.engine().kept());
      h.pump();
      WireResponse r = only_response(h);
      CHECK(r.status == 500);
      CHECK(k.aborts.empty());  // the handler ended it itself: no abort follows
      CHECK(k.faults == 0);
      check_next_served(h);
    }
    {
      Harness h(parser);
      h.send(get("/keep") + get("/never"));
      TestKept &k = h.dispatcher.last_kept();
      REQUIRE(k.begin(200, -1) == Write::Ok);
      REQUIRE(k.write("partial") == Write::Ok);
      k.cancel();
      CHECK_FALSE(h.engine().kept());
      h.pump();
      CHECK(h.wire.find("7\r\npartial\r\n") != std::string::npos);
      CHECK(h.wire.find("0\r\n\r\n") == std::string::npos);  // the client sees it cut, not complete
      bool ends = h.shutdown_seen || h.engine().wants_close();  // lingering close, or closed
      CHECK(ends);
      CHECK(h.dispatcher.seen.size() == 1);  // the pipelined request is not served
      CHECK(k.aborts.empty());
    }
  });
}

TEST_CASE("engine.kept: a bodiless request on a streaming route gets one empty last once kept") {
  each_parser([&](const char *parser) {
    Harness h(parser);
    h.send(get("/upload"));
    TestKept &k = h.dispatcher.last_kept();
    h.engine().resume();  // as the glue's pump does
    CHECK(k.body_calls == 1);
    CHECK(k.lasts == 1);
    CHECK(k.body_bytes.empty());
    CHECK(k.faults == 0);
    REQUIRE(k.respond(200, "none"));
    h.pump();
    CHECK(only_response(h).body == "none");
    check_next_served(h);
  });
}

}  // TEST_SUITE
