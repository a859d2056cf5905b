// Framing through the engine: however the bytes arrive, every request is
// parsed once, dispatched once with its exact body, and answered in order.
#include "engine_driver.h"

using namespace axle;
using namespace axle::enginetest;

namespace {

// Every response's X-Seq, in wire order (final responses only).
std::vector<std::string> seqs(const WireParse &w) {
  std::vector<std::string> out;
  for (const auto &r : w.responses)
    if (r.status >= 200) out.push_back(r.header("X-Seq"));
  return out;
}

std::vector<std::string> numbered(size_t n) {
  std::vector<std::string> out;
  for (size_t i = 1; i <= n; ++i) out.push_back(std::to_string(i));
  return out;
}

}  // namespace

TEST_SUITE("engine") {

TEST_CASE("engine.framing: one request split at every byte gives one response, dispatched once") {
  const std::string req = "GET /hello?x=1 HTTP/1.1\r\nHost: example\r\nUser-Agent: t\r\n\r\n";
  each_parser([&](const char *parser) {
    std::vector<std::vector<size_t>> schedules;
    for (size_t cut = 0; cut <= req.size(); ++cut) schedules.push_back({cut});
    schedules.emplace_back(req.size(), 1);  // a byte at a time
    for (const auto &split : schedules) {
      CAPTURE(split.size() == 1 ? split[0] : 0);
      Harness h(parser);
      h.send(req, split);
      CHECK(h.pump() == 1);
      WireParse w = h.responses();
      REQUIRE_MESSAGE(w.error.empty(), w.error);
      REQUIRE(w.responses.size() == 1);
      CHECK(w.responses[0].status == 200);
      CHECK(w.responses[0].body == "seq=1");
      CHECK_FALSE(w.responses[0].closes());
      REQUIRE(h.dispatcher.seen.size() == 1);
      CHECK(h.dispatcher.seen[0].method == "GET");
      CHECK(h.dispatcher.seen[0].target == "/hello?x=1");
      CHECK(h.dispatcher.seen[0].header_count == 2);
      CHECK(h.parser.heads_parsed == 1);
      CHECK(h.engine().reading());
      CHECK_FALSE(h.engine().wants_close());
      CHECK(h.engine().idle());
    }
  });
}

TEST_CASE("engine.framing: a pipelined batch in one receive is answered in order in one output run") {
  const std::string body = "0123456789";
  const std::string batch = get("/a") + "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n" + body +
                            get("/large") + get("/404") + get("/b") + "HEAD /c HTTP/1.1\r\nHost: t\r\n\r\n" + get("/d");
  each_parser([&](const char *parser) {
    Harness h(parser);
    h.send(batch);
    CHECK(h.pump() == 1);
    WireParse w = h.responses({false, false, false, false, false, true, false});
    REQUIRE_MESSAGE(w.error.empty(), w.error);
    REQUIRE(w.responses.size() == 7);
    CHECK(w.responses[0].body == "seq=1");
    CHECK(w.responses[1].body == body);
    CHECK(w.responses[2].body == ScriptDispatcher::large_body());
    CHECK(w.responses[3].status == 404);
    CHECK(w.responses[4].body == "seq=5");
    CHECK(w.responses[5].header("X-Seq") == "6");
    CHECK(w.responses[5].header("Content-Length") == "5");
    CHECK(w.responses[6].body == "seq=7");
    CHECK(h.dispatcher.seen.size() == 7);
    CHECK(h.parser.heads_parsed == 7);
  });
}

TEST_CASE("engine.framing: a Content-Length body split at every byte is dispatched once, exactly") {
  const std::string req = "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello world" + get("/after");
  each_parser([&](const char *parser) {
    for (size_t cut = 0; cut <= req.size(); ++cut) {
      CAPTURE(cut);
      Harness h(parser);
      h.send(req, {cut});
      h.pump();
      WireParse w = h.responses();
      REQUIRE_MESSAGE(w.error.empty(), w.error);
      REQUIRE(w.responses.size() == 2);
      CHECK(w.responses[0].body == "hello world");
      CHECK(w.responses[1].body == "seq=2");
      REQUIRE(h.dispatcher.seen.size() == 2);
      CHECK(h.dispatcher.seen[0].body == "hello world");
      CHECK(h.dispatcher.seen[1].target == "/after");
      CHECK(h.parser.heads_parsed == 2);
    }
  });
}

TEST_CASE("engine.framing: a chunked body with extensions and trailers, split anywhere, decodes exactly once") {
  const std::string req =
      "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;name=value;flag\r\nhello\r\n6\r\n world\r\nA; q=\"x y\"\r\n, and more\r\n0\r\nX-Trailer: yes\r\nX-Two: 2\r\n\r\n" +
      get("/after");
  const std::string decoded = "hello world, and more";
  each_parser([&](const char *parser) {
    // Every pair of cut points (three receives), which includes every single cut.
    for (size_t a = 0; a <= req.size(); ++a) {
      for (size_t b = a; b <= req.size(); ++b) {
        CAPTURE(a);
        CAPTURE(b);
        Harness h(parser);
        h.send(req, {a, b - a});
        h.pump();
        WireParse w = h.responses();
        REQUIRE_MESSAGE(w.error.empty(), w.error);
        REQUIRE(w.responses.size() == 2);
        REQUIRE(w.responses[0].body == decoded);
        REQUIRE(w.responses[1].body == "seq=2");
        REQUIRE(h.dispatcher.seen.size() == 2);
        REQUIRE(h.dispatcher.seen[0].body == decoded);
        REQUIRE(h.dispatcher.seen[1].target == "/after");
        REQUIRE(h.parser.heads_parsed == 2);
      }
    }
  });
}

TEST_CASE("engine.framing: an empty chunked body and a zero Content-Length dispatch an empty body") {
  each_parser([&](const char *parser) {
    Harness h(parser);
    h.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
           "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
    h.pump();
    WireParse w = h.responses();
    REQUIRE_MESSAGE(w.error.empty(), w.error);
    REQUIRE(w.responses.size() == 2);
    CHECK(w.responses[0].header("Content-Length") == "0");
    CHECK(w.responses[1].header("Content-Length") == "0");
    CHECK(h.dispatcher.seen.size() == 2);
  });
}

TEST_CASE("engine.framing: HEAD gets the head with Content-Length and no body, errors included") {
  const std::string head = "HEAD /x HTTP/1.1\r\nHost: t\r\n\r\n";
  each_parser([&](const char *parser) {
    Harness h(parser);
    h.send(head + "HEAD /large HTTP/1.1\r\nHost: t\r\n\r\nHEAD /file HTTP/1.1\r\nHost: t\r\n\r\n"
                  "HEAD /404 HTTP/1.1\r\nHost: t\r\n\r\nHEAD /405 HTTP/1.1\r\nHost: t\r\n\r\n" + get("/after"));
    h.pump();
    WireParse w = h.responses({true, true, true, true, true, false});
    REQUIRE_MESSAGE(w.error.empty(), w.error);
    REQUIRE(w.responses.size() == 6);
    CHECK(w.responses[0].header("Content-Length") == "5");
    CHECK(w.responses[1].header("Content-Length") == std::to_string(ScriptDispatcher::kLargeBody));
    CHECK(w.responses[2].header("Content-Length") == std::to_string(ScriptDispatcher::kFileBody));
    CHECK(w.responses[3].status == 404);
    CHECK(w.responses[3].header("Content-Length") != "");
    CHECK(w.responses[4].status == 405);
    CHECK(w.responses[4].header("Allow") == "GET, HEAD");
    CHECK(w.responses[5].body == "seq=6");
    for (const auto &r : w.responses) CHECK_FALSE(r.closes());
    CHECK(h.engine().queued_files() == 0);
  });
}

TEST_CASE("engine.framing: Expect 100-continue sends 100 first only when the body has not arrived") {
  const std::string head = "POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n";
  each_parser([&](const char *parser) {
    {
      Harness h(parser);
      h.send(head);
      h.pump();
      CHECK(h.wire == "HTTP/1.1 100 Continue\r\n\r\n");
      CHECK(h.dispatcher.seen.empty());
      h.send("hello");
      h.pump();
      WireParse w = h.responses();
      REQUIRE_MESSAGE(w.error.empty(), w.error);
      REQUIRE(w.responses.size() == 2);
      CHECK(w.responses[0].status == 100);
      CHECK(w.responses[1].status == 200);
      CHECK(w.responses[1].body == "hello");
      CHECK(h.parser.heads_parsed == 1);
    }
    for (std::string_view with : {"hello", "he"}) {  // the body, or part of it, came with the head
      Harness h(parser);
      h.send(head + std::string(with));
      h.send(std::string("hello").substr(with.size()));
      h.pump();
      WireParse w = h.responses();
      REQUIRE_MESSAGE(w.error.empty(), w.error);
      REQUIRE(w.responses.size() == 1);
      CHECK(w.responses[0].status == 200);
      CHECK(w.responses[0].body == "hello");
    }
    {  // HTTP/1.0 clients do not wait for 100
      Harness h(parser);
      h.send("POST /echo HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
      h.pump();
      CHECK(h.wire.empty());
    }
  });
}

TEST_CASE("engine.framing: nothing after Connection: close or a plain HTTP/1.0 request is answered") {
  each_parser([&](const char *parser) {
    for (std::string first : {get("/a", "Connection: close\r\n"), std::string("GET /a HTTP/1.0\r\n\r\n"),
                              get("/a", "Connection: keep-alive, close\r\n")}) {
      CAPTURE(first);
      Harness h(parser);
      h.send(first + get("/b") + get("/c"));
      h.send(get("/d"));
      h.pump();
      WireParse w = h.responses();
      REQUIRE_MESSAGE(w.error.empty(), w.error);
      REQUIRE(w.responses.size() == 1);
      CHECK(w.responses[0].closes());
      CHECK(h.dispatcher.seen.size() == 1);
      CHECK(h.parser.heads_parsed == 1);
      CHECK(h.shutdown_seen);
      CHECK_FALSE(h.engine().take_shutdown_write());  // once only
      h.send(get("/e"));  // lingering: read and dropped
      CHECK(h.pump() == 0);
      CHECK(h.engine().reading());
      h.engine().peer_closed(0);
      CHECK(h.engine().wants_close());
    }
    {  // HTTP/1.0 with keep-alive stays open and says so
      Harness h(parser);
      h.send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.0\r\n\r\n");
      h.pump();
      WireParse w = h.responses();
      REQUIRE_MESSAGE(w.error.empty(), w.error);
      REQUIRE(w.responses.size() == 2);
      CHECK(w.responses[0].header("Connection") == "keep-alive");
      CHECK(w.responses[1].closes());
    }
  });
}

TEST_CASE("engine.framing: peer EOF after pipelined requests answers them all, then closes") {
  each_parser([&](const char *parser) {
    Harness h(parser);
    h.send(get("/a") + get("/file") + get("/b"));
    h.engine().peer_closed(0);
    CHECK_FALSE(h.engine().wants_close());
    h.pump();
    WireParse w = h.responses();
    REQUIRE_MESSAGE(w.error.empty(), w.error);
    REQUIRE(w.responses.size() == 3);
    CHECK(seqs(w) == numbered(3));
    CHECK(w.responses[1].body == ScriptDispatcher::file_contents());
    CHECK(h.engine().wants_close());
  });
}

TEST_CASE("engine.framing: drain closes an idle engine only when asked; a draining context closes every response") {
  each_parser([&](const char *parser) {
    {
      Harness h(parser);
      h.engine().drain(false);
      CHECK_FALSE(h.engine().wants_close());
      h.engine().drain(true);
      CHECK(h.engine().wants_close());
    }
    {  // a request in progress is not idle
      Harness h(parser);
      h.send("GET / HTTP/1.1\r\nHo");
      h.engine().drain(true);
      CHECK_FALSE(h.engine().wants_close());
    }
    {  // after an answer, the connection is idle again
      Harness h(parser);
      h.send(get("/a"));
      h.pump();
      h.engine().drain(true);
      CHECK(h.engine().wants_close());
    }
    {
      Harness h(parser);
      h.ctx.draining = true;
      h.send(get("/a") + get("/b"));
      h.pump();
      WireParse w = h.responses();
      REQUIRE_MESSAGE(w.error.empty(), w.error);
      REQUIRE(w.responses.size() == 1);
      CHECK(w.responses[0].closes());
      CHECK(h.dispatcher.seen.size() == 1);
      CHECK(h.shutdown_seen);
    }
  });
}


TEST_CASE("engine.framing: lent and prebuilt bodies: sent as lent, trimmed for HEAD, closed when last, released once") {
  const std::string head = "HEAD /prebuilt HTTP/1.1\r\nHost: t\r\n\r\n";
  each_parser([&](const char *parser) {
    {
      Harness h(parser);
      h.send(get("/lent") + get("/prebuilt") + head + "HEAD /lent HTTP/1.1\r\nHost: t\r\n\r\n" +
             get("/prebuilt", "Connection: close\r\n") + get("/lent"));
      h.pump();
      WireParse w = h.responses({false, false, true, true, false});
      REQUIRE_MESSAGE(w.error.empty(), w.error);
      REQUIRE(w.responses.size() == 5);
      CHECK(w.responses[0].body == ScriptDispatcher::kLentBody);
      CHECK(w.responses[1].body == "prebuilt!");
      CHECK_FALSE(w.responses[1].closes());
      CHECK(w.responses[2].header("X-Prebuilt") == "1");
      CHECK(w.responses[2].header("Content-Length") == "9");
      CHECK(w.responses[3].header("Content-Length") == std::to_string(ScriptDispatcher::kLentBody.size()));
      CHECK(w.responses[4].body == "prebuilt!");
      CHECK(w.responses[4].closes());
      CHECK(h.dispatcher.seen.size() == 5);
      CHECK(h.dispatcher.releases == 5);
    }
    {  // queued lent bodies that are never sent are released when the engine goes
      Harness h(parser);
      h.send(get("/lent") + get("/prebuilt"));
      CHECK(h.dispatcher.releases == 0);
    }
  });
}

TEST_CASE("engine.framing: EOF while paused on a full output queue: everything buffered is still answered") {
  each_parser([&](const char *parser) {
    Limits lim;
    lim.max_pipelined = 2;
    Harness h(parser, lim);
    h.send(get("/a") + get("/b") + get("/c") + get("/d") + get("/e"));
    CHECK_FALSE(h.engine().reading());
    h.engine().peer_closed(0);
    CHECK_FALSE(h.engine().wants_close());
    h.pump();
    WireParse w = h.responses();
    REQUIRE_MESSAGE(w.error.empty(), w.error);
    REQUIRE(w.responses.size() == 5);
    for (size_t i = 0; i < 5; ++i) CHECK(w.responses[i].header("X-Seq") == std::to_string(i + 1));
    CHECK(h.engine().wants_close());
  });
}

TEST_CASE("engine.framing: edges that are served: an empty Host with origin form, HTTP/1.x minors above 1") {
  // RFC 9110 7.2 allows an empty Host when the target has no authority (the
  // asterisk form is the route dispatcher's: tests/integration); RFC 9110 2.5
  // serves HTTP/1.2 as 1.1 (persistent).
  const std::string batch = "GET /a HTTP/1.1\r\nHost:\r\n\r\n"
                            "OPTIONS /o HTTP/1.1\r\nHost: \r\n\r\n"
                            "GET /b HTTP/1.2\r\nHost: t\r\n\r\n"
                            "POST /echo HTTP/1.9\r\nHost: t\r\nTransfer-Encoding: , chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
  each_parser([&](const char *parser) {
    Harness h(parser);
    h.send(batch);
    h.pump();
    WireParse w = h.responses();
    REQUIRE_MESSAGE(w.error.empty(), w.error);
    REQUIRE(w.responses.size() == 4);
    for (const auto &r : w.responses) CHECK_FALSE(r.closes());
    CHECK(w.responses[3].body == "abc");
    REQUIRE(h.dispatcher.seen.size() == 4);
    CHECK(h.dispatcher.seen[1].target == "/o");
    CHECK_FALSE(h.engine().wants_close());
  });
}

}  // TEST_SUITE
