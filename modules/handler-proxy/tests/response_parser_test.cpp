// The upstream response parser: every vector is fed whole, then split at
// every offset (and byte by byte), and must give the same events.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "response_parser.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using axle::proxy::ResponseParser;
using Event = ResponseParser::Event;

namespace {

struct Outcome {
  std::vector<unsigned> heads;  // statuses in order
  std::string body;
  std::vector<std::pair<std::string, std::string>> trailers;
  bool ended = false;
  bool error = false;
  std::string rest;  // bytes after the end (not the response's)
  bool operator==(const Outcome &) const = default;
};

// Feeds `wire` in pieces cut at `cuts`; eof at the end if asked.
Outcome run(const std::string &wire, const std::vector<size_t> &cuts, bool head_request = false, bool eof = false) {
  ResponseParser p(head_request);
  Outcome o;
  size_t from = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(wire.size());
  for (size_t to : ends) {
    std::string piece = wire.substr(from, to - from);  // a fresh buffer: body views must not outlive it
    from = to;
    std::string_view in(piece);
    for (;;) {
      if (p.switched() || o.ended) {  // the rest is not the response's
        o.rest.append(in);
        break;
      }
      Event e = p.next(in);
      if (e == Event::need_more) break;
      if (e == Event::head) o.heads.push_back(p.head().status);
      if (e == Event::body) o.body.append(p.body());
      if (e == Event::error) {
        o.error = true;
        return o;
      }
      if (e == Event::end) {
        o.ended = true;
        o.trailers = p.trailers();
      }
    }
  }
  if (eof && !o.ended) {
    Event e = p.on_eof();
    if (e == Event::end) o.ended = true;
    if (e == Event::error) o.error = true;
  }
  return o;
}

// Same outcome for every single cut and for byte-by-byte feeding.
Outcome check_splits(const std::string &wire, bool head_request = false, bool eof = false) {
  Outcome whole = run(wire, {}, head_request, eof);
  for (size_t cut = 1; cut < wire.size(); ++cut) {
    Outcome split = run(wire, {cut}, head_request, eof);
    CAPTURE(cut);
    CHECK(split == whole);
  }
  std::vector<size_t> every;
  for (size_t i = 1; i < wire.size(); ++i) every.push_back(i);
  CHECK(run(wire, every, head_request, eof) == whole);
  return whole;
}

}  // namespace

TEST_CASE("content-length body, then bytes of the next response stay unread") {
  Outcome o = check_splits("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhelloHTTP/1.1");
  CHECK(o.heads == std::vector<unsigned>{200});
  CHECK(o.body == "hello");
  CHECK(o.ended);
  CHECK(o.rest == "HTTP/1.1");
}

TEST_CASE("chunked body with extensions and trailers") {
  Outcome o = check_splits(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n"
      "0\r\nX-Sum: 42\r\nX-Other: y\r\n\r\n");
  CHECK(o.body == "helloabcdefghijklmnopqrstuvwxyz");
  CHECK(o.ended);
  REQUIRE(o.trailers.size() == 2);
  CHECK(o.trailers[0].first == "X-Sum");
  CHECK(o.trailers[0].second == "42");
}

TEST_CASE("chunked body without trailers") {
  Outcome o = check_splits("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
  CHECK(o.body == "abc");
  CHECK(o.ended);
  CHECK(o.trailers.empty());
  CHECK(o.rest.empty());
}

TEST_CASE("close-delimited body ends at eof and marks the connection closing") {
  Outcome o = check_splits("HTTP/1.1 200 OK\r\n\r\nuntil the end", false, true);
  CHECK(o.body == "until the end");
  CHECK(o.ended);
  ResponseParser p;
  std::string_view in = "HTTP/1.1 200 OK\r\n\r\n";
  REQUIRE(p.next(in) == Event::head);
  CHECK(p.head().close);
}

TEST_CASE("interim responses: 100 and 103 come before the final head") {
  Outcome o = check_splits(
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
      "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok");
  CHECK(o.heads == std::vector<unsigned>{100, 103, 201});
  CHECK(o.body == "ok");
  CHECK(o.ended);
}

TEST_CASE("101 switches: the rest is tunnel bytes") {
  Outcome o = check_splits("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n\x81\x02hi");
  CHECK(o.heads == std::vector<unsigned>{101});
  CHECK(!o.ended);
  CHECK(o.rest == "\x81\x02hi");
}

TEST_CASE("HEAD, 204 and 304 have no body whatever their headers say") {
  Outcome head = check_splits("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", true);
  CHECK(head.ended);
  CHECK(head.body.empty());
  CHECK(check_splits("HTTP/1.1 204 No Content\r\n\r\n").ended);
  Outcome nm = check_splits("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\nnext");
  CHECK(nm.ended);
  CHECK(nm.rest == "next");
}

TEST_CASE("HTTP/1.0 closes unless keep-alive; Connection: close is seen") {
  ResponseParser a;
  std::string_view in = "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n";
  REQUIRE(a.next(in) == Event::head);
  CHECK(a.head().close);
  ResponseParser b;
  in = "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n";
  REQUIRE(b.next(in) == Event::head);
  CHECK(!b.head().close);
  ResponseParser c;
  in = "HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n";
  REQUIRE(c.next(in) == Event::head);
  CHECK(c.head().close);
}

TEST_CASE("malformed responses are errors, at any split") {
  const char *bad[] = {
      "HTTP/2.0 200 OK\r\n\r\n",
      "HTTP/1.1 20 OK\r\n\r\n",
      "HTTP/1.1 600 Nope\r\n\r\n",
      "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
      "HTTP/1.1 200 OK\r\n folded: x\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
      "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
      "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n",
      "HTTP/1.1 200 OK\r\nX: a\x01b\r\n\r\n",
      // bare CR or LF anywhere in the head
      "HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n",
      "HTTP/1.1 200 OK\r\nX: a\nb\r\n\r\n",
      "HTTP/1.1 200 OK\r\n\nX: b\r\n\r\n",
      "HTTP/1.1 200 O\rK\r\n\r\n",
      "HTTP/1.1 200 OK\r\nX: a\r\r\n\r\n",
      "HTTP/1.1 200 OK\r\nX\n: a\r\n\r\n",
  };
  for (const char *wire : bad) {
    CAPTURE(wire);
    CHECK(check_splits(wire).error);
  }
}

TEST_CASE("a truncated response is an error at eof, and says whether anything came") {
  CHECK(check_splits("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", false, true).error);
  CHECK(check_splits("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", false, true).error);
  ResponseParser p;
  CHECK(p.on_eof() == Event::error);
  CHECK(!p.started());
}

TEST_CASE("the head is bounded") {
  std::string huge = "HTTP/1.1 200 OK\r\nX: " + std::string(ResponseParser::max_head_bytes, 'a') + "\r\n\r\n";
  CHECK(run(huge, {}).error);
  std::string many = "HTTP/1.1 200 OK\r\n";
  for (size_t i = 0; i <= ResponseParser::max_header_lines; ++i) many += "X: y\r\n";
  CHECK(run(many + "\r\n", {}).error);
}
