// Every refusal the engine makes: answered once with Connection: close,
// nothing behind it parsed, writing shut down once the answer is out, and
// what still arrives read and dropped until EOF or the linger deadline.
#include "engine_driver.h"

using namespace axle;
using namespace axle::enginetest;

namespace {

struct ErrorCase {
  const char *name;
  std::string bytes;
  int status;
};

// Small limits so every case is short enough to split at every byte.
Limits small_limits() {
  Limits l;
  l.max_head_bytes = 512;
  l.max_target_bytes = 64;
  l.max_headers = 8;
  l.max_body_bytes = 100;
  return l;
}

std::vector<ErrorCase> error_cases() {
  const std::string post = "POST /echo HTTP/1.1\r\nHost: t\r\n";
  const std::string chunked = post + "Transfer-Encoding: chunked\r\n\r\n";
  std::string many_headers = "GET / HTTP/1.1\r\nHost: t\r\n";
  for (int i = 0; i < 8; ++i) many_headers += "X-" + std::to_string(i) + ": v\r\n";
  return {
      {"CL and TE", post + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
      {"two different CLs", post + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400},
      {"CL list that disagrees", post + "Content-Length: 5, 6\r\n\r\nhello!", 400},
      {"TE on HTTP/1.0", "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
      {"final coding not chunked", post + "Transfer-Encoding: gzip\r\n\r\n", 400},
      {"chunked then another coding", post + "Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", 400},
      {"unknown coding before chunked", post + "Transfer-Encoding: gzip, chunked\r\n\r\n", 501},
      {"bad chunk size", chunked + "zz\r\nhello\r\n0\r\n\r\n", 400},
      {"chunk data without CRLF", chunked + "5\r\nhelloXX0\r\n\r\n", 400},
      {"oversized chunk line", chunked + "1;" + std::string(5000, 'e'), 400},
      {"413 by Content-Length", post + "Content-Length: 101\r\n\r\n", 413},
      {"413 by one chunk", chunked + "65\r\n", 413},
      {"413 by chunks together", chunked + "40\r\n" + std::string(64, 'x') + "\r\n40\r\n", 413},
      {"414", "GET /" + std::string(80, 'a') + " HTTP/1.1\r\nHost: t\r\n\r\n", 414},
      {"431 head too large", "GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(600, 'b') + "\r\n\r\n", 431},
      {"431 too many fields", many_headers + "\r\n", 431},
      {"505", "GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505},
      {"400 no version (HTTP/0.9)", "GET /\r\nHost: t\r\n\r\n", 400},
      {"400 missing target", "GET HTTP/1.1\r\nHost: t\r\n\r\n", 400},
      {"400 fragment in target", "GET /a#b HTTP/1.1\r\nHost: t\r\n\r\n", 400},
      {"400 empty Host with an authority", "GET http://t/ HTTP/1.1\r\nHost:\r\n\r\n", 400},
      {"400 bad path escape", "GET /a%zz HTTP/1.1\r\nHost: t\r\n\r\n", 400},
      {"400 encoded NUL in path", "GET /a%00 HTTP/1.1\r\nHost: t\r\n\r\n", 400},
      {"417 unknown Expect", post + "Expect: 200-ok\r\nContent-Length: 5\r\n\r\nhello", 417},
      {"400 no Host", "GET / HTTP/1.1\r\n\r\n", 400},
      {"400 two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
      {"400 malformed request line", "GET  / HTTP/1.1\r\nHost: t\r\n\r\n", 400},
      {"400 signed Content-Length", post + "Content-Length: +5\r\n\r\nhello", 400},
      {"400 hex Content-Length", post + "Content-Length: 0x5\r\n\r\nhello", 400},
      {"400 Content-Length beyond 18 digits", post + "Content-Length: 0000000000000000005\r\n\r\nhello", 400},
      {"400 chunked twice", post + "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400},
      {"400 two TE fields", post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       400},
      {"400 trailers over the head limit", chunked + "0\r\nX-T: " + std::string(600, 't') + "\r\n\r\n", 400},
      {"400 bad Host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
  };
}

// What a refused connection must look like once its answer is out.
void check_refused(Harness &h, const ErrorCase &c) {
  WireParse w = h.responses();
  REQUIRE_MESSAGE(w.error.empty(), w.error);
  REQUIRE(w.responses.size() == 1);
  CHECK(w.responses[0].status == c.status);
  CHECK(w.responses[0].closes());
  CHECK(w.responses[0].body == std::to_string(c.status) + " " + w.responses[0].reason + "\n");
  for (const SeenRequest &r : h.dispatcher.seen) CHECK(r.target != "/next");
  CHECK(h.parser.heads_parsed <= 1);
  CHECK(h.shutdown_seen);
  CHECK_FALSE(h.engine().take_shutdown_write());
  CHECK(h.engine().buffered_input() == 0);
}

}  // namespace

TEST_SUITE("engine") {

TEST_CASE("engine.errors: each refusal is answered once, closes, parses nothing more, then lingers") {
  const std::string next = get("/next");
  each_parser([&](const char *parser) {
    for (const ErrorCase &c : error_cases()) {
      INFO(c.name);
      const std::string bytes = c.bytes + next;
      // At every cut when the case is short; at a few otherwise.
      std::vector<size_t> cuts;
      size_t step = bytes.size() > 1024 ? 97 : 1;
      for (size_t cut = 0; cut <= bytes.size(); cut += step) cuts.push_back(cut);
      for (size_t cut : cuts) {
        CAPTURE(cut);
        for (bool by_eof : {true, false}) {
          Harness h(parser, small_limits());
          h.send(bytes, {cut});
          h.pump();
          check_refused(h, c);
          const uint64_t parsed = h.parser.heads_parsed;
          const size_t seen = h.dispatcher.seen.size();
          // Lingering: more bytes are read and dropped, nothing is answered.
          CHECK(h.engine().reading());
          h.send(get("/later"));
          CHECK(h.pump() == 0);
          CHECK(h.parser.heads_parsed == parsed);
          CHECK(h.dispatcher.seen.size() == seen);
          CHECK_FALSE(h.engine().wants_close());
          if (by_eof) {
            h.engine().peer_closed(0);
          } else {
            h.engine().tick(FakeClock::now + http::Engine::kLingerMs - 1);
            CHECK_FALSE(h.engine().wants_close());
            h.engine().tick(FakeClock::now + http::Engine::kLingerMs);
          }
          CHECK(h.engine().wants_close());
        }
      }
    }
  });
}

TEST_CASE("engine.errors: a refused request after good ones: the good ones are answered first, in order") {
  each_parser([&](const char *parser) {
    Harness h(parser, small_limits());
    h.send(get("/a") + get("/b") + "GET / HTTP/2.0\r\nHost: t\r\n\r\n" + get("/c"));
    h.pump();
    WireParse w = h.responses();
    REQUIRE_MESSAGE(w.error.empty(), w.error);
    REQUIRE(w.responses.size() == 3);
    CHECK(w.responses[0].body == "seq=1");
    CHECK(w.responses[1].body == "seq=2");
    CHECK(w.responses[2].status == 505);
    CHECK(w.responses[2].closes());
    CHECK(h.dispatcher.seen.size() == 2);
  });
}

TEST_CASE("engine.errors: empty lines before a request (RFC 9112 2.2) are skipped, not refused") {
  each_parser([&](const char *parser) {
    Harness h(parser);
    h.send("\r\n" + get("/a") + "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi\r\n" + get("/b"));
    h.pump();
    WireParse w = h.responses();
    REQUIRE_MESSAGE(w.error.empty(), w.error);
    REQUIRE(w.responses.size() == 3);
    CHECK(w.responses[1].body == "hi");
    CHECK(w.responses[2].body == "seq=3");
  });
}

TEST_CASE("engine.errors: handler errors keep the connection; 405 names the allowed methods") {
  each_parser([&](const char *parser) {
    Harness h(parser);
    h.send(get("/404") + get("/405") + get("/500") + get("/ok"));
    h.pump();
    WireParse w = h.responses();
    REQUIRE_MESSAGE(w.error.empty(), w.error);
    REQUIRE(w.responses.size() == 4);
    CHECK(w.responses[0].status == 404);
    CHECK(w.responses[1].status == 405);
    CHECK(w.responses[1].header("Allow") == "GET, HEAD");
    CHECK(w.responses[2].status == 500);
    CHECK(w.responses[3].body == "seq=4");
    for (const auto &r : w.responses) CHECK_FALSE(r.closes());
    CHECK_FALSE(h.shutdown_seen);
  });
}

TEST_CASE("engine.errors: a peer that goes away with a request half sent is closed without an answer") {
  each_parser([&](const char *parser) {
    for (std::string partial : {std::string("GET / HTTP/1.1\r\nHo"),
                                std::string("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 9\r\n\r\nabc")}) {
      Harness h(parser);
      h.send(partial);
      h.engine().peer_closed(0);
      h.pump();
      CHECK(h.engine().wants_close());
      CHECK(h.dispatcher.seen.empty());
    }
    {  // a connection error drops everything at once, queued output included
      Harness h(parser);
      h.send(get("/large"));
      h.engine().peer_closed(104);
      CHECK(h.engine().wants_close());
      CHECK(h.pump() == 0);
    }
    {  // a failed write closes
      Harness h(parser);
      h.send(get("/a"));
      REQUIRE(h.take_and_stall());
      h.engine().output_done(32);
      CHECK(h.engine().wants_close());
    }
  });
}

}  // TEST_SUITE
