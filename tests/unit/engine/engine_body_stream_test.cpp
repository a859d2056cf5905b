// Streamed request bodies: a kept request takes its body as it arrives
// (Content-Length or chunked, split anywhere), exactly, with `last` once at
// the end; pausing stops delivery and, once enough is held, reading; the body
// is bounded in memory, not in length; bad framing aborts with ERROR; a
// handler that answers before the body ended closes the connection.
#include "engine_driver.h"

#include <axle/handler.h>

using namespace axle;
using namespace axle::enginetest;
using Write = http::Engine::Write;

namespace {

std::string upload_length(std::string_view body, std::string_view path = "/upload") {
  return "POST " + std::string(path) + " HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + std::string(body);
}

std::string upload_chunked(std::string_view chunked_body) {
  return "POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + std::string(chunked_body);
}

// Answers the kept upload once its body is complete.
void answer_on_last(TestKept &k) {
  k.on_body = [](TestKept &kk) {
    if (kk.lasts == 1) REQUIRE(kk.respond(200, "got " + std::to_string(kk.body_bytes.size())));
  };
}

}  // namespace

TEST_SUITE("engine") {

TEST_CASE("engine.body_stream: Content-Length and chunked bodies split at every byte arrive whole, last once") {
  struct Case {
    std::string request, body;
  };
  const std::string text = "hello, streamed world";
  const Case cases[] = {
      {upload_length(text), text},
      {upload_chunked("5\r\nhello\r\n2;ext=1\r\n, \r\ne\r\nstreamed world\r\n0\r\nX-Trailer: t\r\n\r\n"), text},
      {upload_chunked("0\r\n\r\n"), ""},
  };
  each_parser([&](const char *parser) {
    for (const Case &c : cases) {
      const std::string wire = c.request + get("/after");
      for (size_t split = 0; split <= wire.size(); ++split) {
        INFO(c.request << " split at " << split);
        Harness h(parser);
        h.send(wire, {split});
        REQUIRE(h.dispatcher.kept.size() == 1);
        TestKept &k = h.dispatcher.last_kept();
        CHECK(k.body_bytes == c.body);
        CHECK(k.lasts == 1);
        CHECK(k.faults == 0);
        CHECK(h.dispatcher.seen.size() == 1);  // /after waits for the answer
        REQUIRE(k.respond(200, "got " + k.body_bytes));
        h.pump();
        WireParse w = h.responses();
        REQUIRE_MESSAGE(w.error.empty(), w.error);
        REQUIRE(w.responses.size() == 2);
        CHECK(w.responses[0].body == "got " + c.body);
        CHECK_FALSE(w.responses[0].closes());  // the body was read whole: keep-alive
        CHECK(w.responses[1].body == "seq=2");
        CHECK(k.aborts.empty());
      }
    }
  });
}

TEST_CASE("engine.body_stream: pause stops delivery, reading pauses at kHoldInputBytes, resume delivers") {
  each_parser([&](const char *parser) {
    const size_t total = 300 * 1024;
    std::string body;
    for (size_t i = 0; i < total; ++i) body += static_cast<char>('a' + i % 26);
    const std::string req = upload_length(body);
    const size_t head_len = req.size() - total;
    Harness h(parser);
    h.send(std::string_view(req).substr(0, head_len + 1000));
    TestKept &k = h.dispatcher.last_kept();
    CHECK(k.body_bytes.size() == 1000);
    k.pause(true);
    h.engine().resume();
    size_t pos = head_len + 1000;
    // The glue reads only while the engine says so, in 4 KiB receives.
    while (pos < req.size() && h.engine().reading()) {
      size_t n = std::min<size_t>(4096, req.size() - pos);
      h.send(std::string_view(req).substr(pos, n));
      pos += n;
    }
    CHECK(k.body_bytes.size() == 1000);  // nothing while paused
    CHECK_FALSE(h.engine().reading());
    CHECK(h.engine().buffered_input() >= http::Engine::kHoldInputBytes);
    CHECK(h.engine().buffered_input() < http::Engine::kHoldInputBytes + 4096);
    CHECK(pos < req.size());
    k.pause(false);
    CHECK(k.body_bytes.size() == 1000);  // delivered by the glue's next resume(), not inside the call
    h.engine().resume();
    CHECK(k.body_bytes.size() == pos - head_len);
    CHECK(h.engine().reading());
    answer_on_last(k);
    h.send(std::string_view(req).substr(pos));
    CHECK(k.body_bytes == body);
    CHECK(k.lasts == 1);
    CHECK(k.faults == 0);
    h.pump();
    WireParse w = h.responses();
    REQUIRE_MESSAGE(w.error.empty(), w.error);
    REQUIRE(w.responses.size() == 1);
    CHECK(w.responses[0].body == "got " + std::to_string(total));
  });
}

TEST_CASE("engine.body_stream: a body larger than max_body_bytes streams through in bounded memory") {
  each_parser([&](const char *parser) {
    for (bool chunked : {false, true}) {
      INFO("chunked " << chunked);
      Limits lim;
      lim.max_body_bytes = 1000;
      Harness h(parser, lim);
      const size_t pieces = 100, piece = 4096;
      std::string expected;
      if (chunked) h.send(upload_chunked(""));
      else h.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(pieces * piece) + "\r\n\r\n");
      TestKept &k = h.dispatcher.last_kept();
      answer_on_last(k);
      for (size_t i = 0; i < pieces; ++i) {
        std::string data(piece, static_cast<char>('A' + i % 26));
        expected += data;
        if (chunked) h.send("1000\r\n" + data + "\r\n", {7, 1000});
        else h.send(data);
        CHECK(h.engine().buffered_input() < 2 * piece);  // delivered as it comes
      }
      if (chunked) h.send("0\r\n\r\n");
      CHECK(k.body_bytes.size() == expected.size());
      CHECK(k.body_bytes == expected);
      CHECK(k.lasts == 1);
      h.pump();
      WireParse w = h.responses();
      REQUIRE_MESSAGE(w.error.empty(), w.error);
      REQUIRE(w.responses.size() == 1);
      CHECK(w.responses[0].status == 200);
    }
  });
}

TEST_CASE("engine.body_stream: a malformed chunk aborts with ERROR; 400 when nothing was sent, else a close") {
  each_parser([&](const char *parser) {
    for (bool begun : {false, true}) {
      INFO("begun " << begun);
      Harness h(parser);
      h.send(upload_chunked("5\r\nhello\r\n"));
      TestKept &k = h.dispatcher.last_kept();
      CHECK(k.body_bytes == "hello");
      if (begun) {
        REQUIRE(k.begin(200, -1) == Write::Ok);
        h.pump();
      }
      h.send("zz\r\n" + get("/never"));
      REQUIRE(k.aborts.size() == 1);
      CHECK(k.aborts[0] == AXLE_ABORT_ERROR);
      CHECK(k.lasts == 0);
      CHECK(k.faults == 0);
      CHECK(k.write("late") == Write::Invalid);
      h.pump();
      CHECK(h.dispatcher.seen.size() == 1);
      WireParse w = h.responses();
      if (begun) {
        CHECK(h.engine().wants_close());
        CHECK(w.truncated);  // the chunked stream stops: the client sees the failure
      } else {
        REQUIRE_MESSAGE(w.error.empty(), w.error);
        REQUIRE(w.responses.size() == 1);
        CHECK(w.responses[0].status == 400);
        CHECK(w.responses[0].closes());
      }
    }
  });
}

TEST_CASE("engine.body_stream: a handler that answers before the body ended closes the connection") {
  each_parser([&](const char *parser) {
    for (bool from_hook : {false, true}) {
      INFO("answered from on_body " << from_hook);
      Harness h(parser);
      const std::string body(100, 'b');
      const std::string req = upload_length(body) + get("/never");
      const size_t head_len = req.size() - body.size() - get("/never").size();
      if (from_hook) {  // answers as the first bytes arrive, inside the engine's call
        h.send(std::string_view(req).substr(0, head_len));
        h.dispatcher.last_kept().on_body = [](TestKept &kk) { REQUIRE(kk.respond(413, "enough")); };
        h.send(std::string_view(req).substr(head_len, 10));
      } else {
        h.send(std::string_view(req).substr(0, head_len + 10));
      }
      TestKept &k = h.dispatcher.last_kept();
      if (!from_hook) REQUIRE(k.respond(413, "enough"));
      CHECK(k.body_bytes.size() == 10);
      h.send(std::string_view(req).substr(head_len + 10));  // the rest and a request: dropped
      CHECK(k.body_bytes.size() == 10);
      CHECK(k.lasts == 0);
      CHECK(k.faults == 0);
      CHECK(k.aborts.empty());
      h.pump();
      WireParse w = h.responses();
      REQUIRE_MESSAGE(w.error.empty(), w.error);
      REQUIRE(w.responses.size() == 1);
      CHECK(w.responses[0].status == 413);
      CHECK(w.responses[0].closes());
      CHECK(h.dispatcher.seen.size() == 1);
      CHECK(h.shutdown_seen);
    }
  });
}

TEST_CASE("engine.body_stream: a streamed response begun before the body ended says Connection: close") {
  each_parser([&](const char *parser) {
    Harness h(parser);
    h.send(upload_length(std::string(50, 'q')).substr(0, 80));
    TestKept &k = h.dispatcher.last_kept();
    REQUIRE(k.begin(200, -1) == Write::Ok);
    REQUIRE(k.write("streaming") == Write::Ok);
    REQUIRE(k.finish());
    h.pump();
    WireParse w = h.responses();
    REQUIRE_MESSAGE(w.error.empty(), w.error);
    REQUIRE(w.responses.size() == 1);
    CHECK(w.responses[0].closes());
    CHECK(w.responses[0].body == "streaming");
    CHECK(h.shutdown_seen);
  });
}

TEST_CASE("engine.body_stream: a full-duplex echo: body in, chunks out, pausing the body while writes wait") {
  each_parser([&](const char *parser) {
    for (bool client_reads_late : {false, true}) {
      INFO("client reads late " << client_reads_late);
      Limits lim;
      lim.max_conn_output_bytes = 8 * 1024;
      Harness h(parser, lim);
      h.send(upload_chunked(""));
      TestKept &k = h.dispatcher.last_kept();
      REQUIRE(k.begin(200, -1) == Write::Ok);
      // Echo what arrives; a refused write pauses the body until writable().
      std::string pending;
      size_t agains = 0;
      auto flush = [&](TestKept &kk) {
        while (!pending.empty()) {  // one body call may bring all the input held
          const size_t n = std::min<size_t>(pending.size(), 4096);
          Write wr = kk.write(std::string_view(pending).substr(0, n));
          if (wr == Write::Again) {
            ++agains;
            kk.pause(true);
            return;
          }
          REQUIRE(wr == Write::Ok);
          pending.erase(0, n);
        }
        kk.pause(false);
        if (kk.lasts == 1) REQUIRE(kk.finish({{"X-Echoed", "yes"}}));
      };
      size_t seen = 0;
      k.on_body = [&](TestKept &kk) {
        pending += kk.body_bytes.substr(seen);
        seen = kk.body_bytes.size();
        flush(kk);
      };
      k.on_writable = flush;
      std::string sent;
      for (size_t i = 0; i < 64; ++i) {
        std::string data(3000, static_cast<char>('a' + i % 26));
        sent += data;
        h.send("bb8\r\n" + data + "\r\n", {2 + i % 3000});
        if (!client_reads_late) h.pump();
        CHECK(h.engine().queued_output_bytes() <= lim.max_conn_output_bytes + 32);
        CHECK(h.engine().buffered_input() <= http::Engine::kHoldInputBytes + 3006);
        // A glue that honours reading() would stop here; this one keeps sending
        // only what the client would have sent before it noticed.
        if (!h.engine().reading()) h.pump();
      }
      h.send("0\r\n\r\n" + get("/after"));
      h.pump();
      CHECK(k.lasts == 1);
      CHECK(k.faults == 0);
      CHECK(k.aborts.empty());
      if (client_reads_late) CHECK(agains > 0);
      WireParse w = h.responses();
      REQUIRE_MESSAGE(w.error.empty(), w.error);
      // Begun before the body ended, the head had to say whether the
      // connection stays: the engine cannot know the handler will read on.
      REQUIRE(w.responses.size() == 1);
      CHECK(w.responses[0].closes());
      CHECK(w.responses[0].chunked);
      CHECK(w.responses[0].body.size() == sent.size());
      const bool echoed = w.responses[0].body == sent;
      CHECK(echoed);
      REQUIRE(w.responses[0].trailers.size() == 1);
      CHECK(h.dispatcher.seen.size() == 1);
    }
  });
}

TEST_CASE("engine.body_stream: a synchronous answer on a stream route closes the connection after it") {
  each_parser([&](const char *parser) {
    Harness h(parser);
    h.send(upload_length("unread body", "/upload-now") + get("/never"));
    h.pump();
    WireParse w = h.responses();
    REQUIRE_MESSAGE(w.error.empty(), w.error);
    REQUIRE(w.responses.size() == 1);
    CHECK(w.responses[0].body == "seq=1");
    CHECK(w.responses[0].closes());
    CHECK(h.dispatcher.seen.size() == 1);
    CHECK(h.dispatcher.kept.empty());
    CHECK(h.shutdown_seen);
  });
}

TEST_CASE("engine.body_stream: the client leaving mid-body aborts with CLIENT_GONE, no body call after") {
  each_parser([&](const char *parser) {
    Harness h(parser);
    h.send(upload_length(std::string(100, 'z')).substr(0, 90));
    TestKept &k = h.dispatcher.last_kept();
    const uint32_t calls = k.body_calls;
    h.engine().peer_closed(0);
    REQUIRE(k.aborts.size() == 1);
    CHECK(k.aborts[0] == AXLE_ABORT_CLIENT_GONE);
    h.send(std::string(100, 'z'));
    h.engine().resume();
    CHECK(k.body_calls == calls);
    CHECK(k.faults == 0);
    CHECK(h.engine().wants_close());
  });
}

TEST_CASE("engine.body_stream: a stalled body aborts with TIMEOUT and answers 408") {
  each_parser([&](const char *parser) {
    Timeouts t;
    t.body_ms = 2000;
    Harness h(parser, {}, t);
    h.send(upload_length(std::string(100, 'z')).substr(0, 90));
    TestKept &k = h.dispatcher.last_kept();
    CHECK(h.engine().deadline_kind() == AXLE_TIMEOUT_BODY);
    h.engine().tick(FakeClock::now + 2000);
    REQUIRE(k.aborts.size() == 1);
    CHECK(k.aborts[0] == AXLE_ABORT_TIMEOUT);
    h.pump();
    WireParse w = h.responses();
    REQUIRE_MESSAGE(w.error.empty(), w.error);
    REQUIRE(w.responses.size() == 1);
    CHECK(w.responses[0].status == 408);
  });
}

TEST_CASE("engine.body_stream: Expect: 100-continue is answered once the handler keeps the request") {
  each_parser([&](const char *parser) {
    Harness h(parser);
    h.send("POST /upload HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
    h.pump();
    WireParse w = h.responses();
    REQUIRE_MESSAGE(w.error.empty(), w.error);
    REQUIRE(w.responses.size() == 1);
    CHECK(w.responses[0].status == 100);
    TestKept &k = h.dispatcher.last_kept();
    answer_on_last(k);
    h.send("data");
    h.pump();
    w = h.responses();
    REQUIRE(w.responses.size() == 2);
    CHECK(w.responses[1].body == "got 4");
  });
}

}  // TEST_SUITE
