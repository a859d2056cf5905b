// Protocol switch (Upgrade, ABI 1.3 response_switch_protocols): nothing
// behind an Upgrade request is parsed before its answer is known; after a 101
// every client byte (those already buffered first) reaches the kept request
// in order, with pause/resume bounding the input; writes go out raw with the
// usual back-pressure; the client's half-close is the stream's last and the
// write side stays open until finish; a non-101 answer resumes parsing; idle
// and write deadlines (not header/body) bound a tunnel; a drain aborts it.
#include "engine_driver.h"

#include <axle/handler.h>
#include <axle/io.h>

#include <cerrno>

using namespace axle;
using namespace axle::enginetest;
using Write = http::Engine::Write;

namespace {

const std::string kUpgradeFields = "Upgrade: echo\r\nConnection: upgrade\r\n";

std::string upgrade_get(std::string_view target, std::string_view version = "HTTP/1.1",
                        std::string_view fields = kUpgradeFields) {
  return "GET " + std::string(target) + " " + std::string(version) + "\r\nHost: t\r\n" + std::string(fields) + "\r\n";
}

// The 101 head at the start of the wire, and the raw tunnel bytes after it.
struct Switched {
  std::string head, rest;
};
Switched split_101(const std::string &wire) {
  size_t end = wire.find("\r\n\r\n");
  REQUIRE(end != std::string::npos);
  return {wire.substr(0, end + 4), wire.substr(end + 4)};
}

void check_101_head(const std::string &head) {
  CHECK(head.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
  CHECK(head.find("\r\nUpgrade: echo\r\n") != std::string::npos);
  CHECK(head.find("\r\nConnection: upgrade\r\n") != std::string::npos);
  CHECK(head.find("Content-Length") == std::string::npos);
  CHECK(head.find("Transfer-Encoding") == std::string::npos);
  CHECK(head.find("Connection: close") == std::string::npos);
}

struct RecordingObserver final : http::Observer {
  void request_done(void *, const http::RequestRecord &rec) override {
    done.push_back({rec.status, rec.bytes_in, rec.bytes_out});
  }
  void parse_error(uint16_t) override {}
  void timeout(uint8_t) override {}
  struct Done {
    uint16_t status;
    uint64_t bytes_in, bytes_out;
  };
  std::vector<Done> done;
};

// Every split of `bytes` into two receive() calls, and one call per byte.
std::vector<std::vector<size_t>> splits(size_t size) {
  std::vector<std::vector<size_t>> out{{}};
  for (size_t i = 1; i < size; ++i) out.push_back({i});
  out.push_back(std::vector<size_t>(size, 1));
  return out;
}

}  // namespace

TEST_SUITE("engine") {

TEST_CASE("engine.upgrade: bytes behind an Upgrade request go to the tunnel, not to the parser, split anywhere") {
  each_parser([&](const char *parser) {
    const std::string req = upgrade_get("/keep");
    const std::string behind = "GET /not-a-request HTTP/1.1\r\nHost: t\r\n\r\nraw";
    const std::string all = req + behind;
    for (const std::vector<size_t> &split : splits(all.size())) {
      INFO("split " << (split.empty() ? 0 : split[0]) << " of " << split.size());
      Harness h(parser);
      h.send(all, split);
      REQUIRE(h.dispatcher.kept.size() == 1);
      CHECK(h.parser.heads_parsed == 1);  // the bytes behind it were never parsed
      CHECK(h.dispatcher.seen.size() == 1);
      TestKept &k = h.dispatcher.last_kept();
      CHECK(k.body_calls == 0);
      REQUIRE(k.switch_protocols() == Write::Ok);
      h.pump();
      CHECK(k.body_bytes == behind);  // in order, all of it, through the tunnel
      CHECK(k.lasts == 0);
      h.send("more");
      CHECK(k.body_bytes == behind + "more");
      REQUIRE(k.write("ECHO") == Write::Ok);
      h.pump();
      Switched s = split_101(h.wire);
      check_101_head(s.head);
      CHECK(s.rest == "ECHO");  // raw: no chunk framing
      CHECK(h.parser.heads_parsed == 1);
      CHECK(h.dispatcher.seen.size() == 1);
      CHECK(k.faults == 0);
      REQUIRE(k.finish());
      h.pump();
      CHECK(h.shutdown_seen);  // the tunnel's end closes the connection (lingering)
      CHECK(h.engine().kept() == false);
    }
  });
}

TEST_CASE("engine.upgrade: a switch inside dispatch delivers the bytes of the same read after it") {
  each_parser([&](const char *parser) {
    Harness h(parser);
    h.send(upgrade_get("/keep-switch") + "hello");
    TestKept &k = h.dispatcher.last_kept();
    h.pump();
    CHECK(k.body_bytes == "hello");
    check_101_head(split_101(h.wire).head);
    CHECK(k.faults == 0);
    REQUIRE(k.finish());
  });
}

TEST_CASE("engine.upgrade: an Upgrade request answered without a switch: parsing resumes behind it") {
  each_parser([&](const char *parser) {
    for (bool kept : {true, false}) {
      INFO("kept " << kept);
      Harness h(parser);
      h.send(upgrade_get(kept ? "/keep" : "/plain") + get("/after"));
      if (kept) {
        CHECK(h.dispatcher.seen.size() == 1);  // held until the answer is known
        REQUIRE(h.dispatcher.last_kept().respond(200, "no switch"));
      }
      h.pump();
      CHECK(h.dispatcher.seen.size() == 2);
      WireParse w = h.responses();
      REQUIRE_MESSAGE(w.error.empty(), w.error);
      REQUIRE(w.responses.size() == 2);
      CHECK(w.responses[0].status == 200);
      CHECK_FALSE(w.responses[0].closes());
      CHECK(w.responses[1].body == "seq=2");
      CHECK(h.engine().reading());
    }
  });
}

TEST_CASE("engine.upgrade: the switch is refused unless kept, not begun, HTTP/1.1 with Upgrade and Connection: upgrade") {
  each_parser([&](const char *parser) {
    struct Case {
      const char *name;
      std::string request;
    } cases[] = {
        {"HTTP/1.0", upgrade_get("/keep", "HTTP/1.0")},
        {"no Connection: upgrade", upgrade_get("/keep", "HTTP/1.1", "Upgrade: echo\r\n")},
        {"no Upgrade", upgrade_get("/keep", "HTTP/1.1", "Connection: upgrade\r\n")},
        {"not an Upgrade request", get("/keep")},
    };
    for (const Case &c : cases) {
      INFO(c.name);
      Harness h(parser);
      h.send(c.request + get("/after"));
      TestKept &k = h.dispatcher.last_kept();
      CHECK(k.switch_protocols() == Write::Invalid);
      REQUIRE(k.respond(200, "plain"));  // answered as plain HTTP
      h.pump();
      WireParse w = h.responses();
      REQUIRE_MESSAGE(w.error.empty(), w.error);
      REQUIRE(w.responses.size() == (c.request.find("HTTP/1.0") != std::string::npos ? 1u : 2u));
      CHECK(w.responses[0].status == 200);
    }
    // Begun already: a 200 streaming is not a 101.
    Harness h(parser);
    h.send(upgrade_get("/keep"));
    TestKept &k = h.dispatcher.last_kept();
    REQUIRE(k.begin(200, -1) == Write::Ok);
    CHECK(k.switch_protocols() == Write::Invalid);
    REQUIRE(k.finish());
    // Its own body still arriving: those bytes are not the tunnel's.
    Harness s(parser);
    s.send("POST /upload HTTP/1.1\r\nHost: t\r\n" + kUpgradeFields + "Content-Length: 10\r\n\r\n12345");
    TestKept &u = s.dispatcher.last_kept();
    s.pump();
    CHECK(u.switch_protocols() == Write::Invalid);
    s.send("67890");
    s.pump();
    CHECK(u.body_bytes == "1234567890");
    REQUIRE(u.lasts == 1);
    CHECK(u.switch_protocols() == Write::Ok);  // read whole: now it may
    REQUIRE(u.finish());
  });
}

TEST_CASE("engine.upgrade: a bodiless Upgrade request on a streaming route: the tunnel's stream replaces its empty last") {
  each_parser([&](const char *parser) {
    for (bool last_first : {false, true}) {
      INFO("the request body's empty last delivered first " << last_first);
      Harness h(parser);
      h.send(upgrade_get("/upload"));  // its empty last is due on the next resume
      TestKept &k = h.dispatcher.last_kept();
      if (last_first) {
        h.pump();
        REQUIRE(k.lasts == 1);  // the request's own (empty) body
        CHECK(k.body_bytes.empty());
        k.lasts = 0;  // a new stream begins with the switch
      }
      REQUIRE(k.switch_protocols() == Write::Ok);
      h.pump();
      h.send("tunnel");
      CHECK(k.body_bytes == "tunnel");
      CHECK(k.lasts == 0);  // no end of stream until the client's
      CHECK(k.faults == 0);
      h.engine().peer_closed(0);
      CHECK(k.lasts == 1);
      REQUIRE(k.finish());
      h.pump();
      CHECK(h.engine().wants_close());
    }
  });
}

TEST_CASE("engine.upgrade: h2c and HTTP/1.0 upgrades are answered as plain HTTP/1.1 when no module switches") {
  each_parser([&](const char *parser) {
    Harness h(parser);
    h.send(upgrade_get("/plain", "HTTP/1.1", "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                                             "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n") +
           upgrade_get("/plain10", "HTTP/1.0", "Connection: upgrade, keep-alive\r\nUpgrade: echo\r\n") + get("/c"));
    h.pump();
    WireParse w = h.responses();
    REQUIRE_MESSAGE(w.error.empty(), w.error);
    REQUIRE(w.responses.size() == 3);
    for (const WireResponse &r : w.responses) CHECK(r.status == 200);
    CHECK(h.dispatcher.seen.size() == 3);
  });
}

TEST_CASE("engine.upgrade: pause holds the tunnel's input to a bound; resume delivers it in order") {
  each_parser([&](const char *parser) {
    Harness h(parser);
    h.send(upgrade_get("/keep"));
    TestKept &k = h.dispatcher.last_kept();
    REQUIRE(k.switch_protocols() == Write::Ok);
    h.pump();
    k.pause(true);
    h.engine().resume();
    std::string sent;
    size_t piece = 0;
    while (h.engine().reading() && sent.size() < 4 * http::Engine::kHoldInputBytes) {
      std::string bytes(4096, static_cast<char>('a' + piece++ % 26));
      h.send(bytes);
      sent += bytes;
    }
    CHECK_FALSE(h.engine().reading());  // the bound stopped the reads
    CHECK(h.engine().buffered_input() >= http::Engine::kHoldInputBytes);
    CHECK(h.engine().buffered_input() < http::Engine::kHoldInputBytes + 4096);
    CHECK(k.body_bytes.empty());
    k.pause(false);
    h.engine().resume();
    CHECK(k.body_bytes == sent);
    CHECK(h.engine().reading());
    CHECK(k.faults == 0);
    REQUIRE(k.finish());
  });
}

TEST_CASE("engine.upgrade: the client's half-close is the tunnel's last; the write side stays open until finish") {
  each_parser([&](const char *parser) {
    for (bool paused : {false, true}) {
      for (bool eof_before_switch : {false, true}) {
        INFO("paused " << paused << ", half-closed before the switch " << eof_before_switch);
        Harness h(parser);
        RecordingObserver observer;
        h.ctx.observer = &observer;
        const std::string req = upgrade_get("/keep");
        h.send(req + "abc");
        TestKept &k = h.dispatcher.last_kept();
        if (eof_before_switch) h.engine().peer_closed(0);
        CHECK(k.aborts.empty());  // an Upgrade request may still switch
        if (paused) k.pause(true);
        REQUIRE(k.switch_protocols() == Write::Ok);
        h.pump();
        if (!eof_before_switch) h.engine().peer_closed(0);
        if (paused) {
          CHECK(k.lasts == 0);
          k.pause(false);
          h.pump();
        }
        CHECK(k.body_bytes == "abc");
        CHECK(k.lasts == 1);  // after every byte
        CHECK_FALSE(h.engine().wants_close());
        REQUIRE(k.write("ABC") == Write::Ok);
        h.pump();
        CHECK_FALSE(h.engine().wants_close());
        REQUIRE(k.finish());
        h.pump();
        CHECK(h.engine().wants_close());
        CHECK(split_101(h.wire).rest == "ABC");
        CHECK(k.faults == 0);
        CHECK(k.aborts.empty());
        // One record: 101, the bytes both ways.
        REQUIRE(observer.done.size() == 1);
        CHECK(observer.done[0].status == 101);
        CHECK(observer.done[0].bytes_in == req.size() + 3);
        CHECK(observer.done[0].bytes_out == h.wire.size());
        h.ctx.observer = nullptr;
      }
    }
  });
}

TEST_CASE("engine.upgrade: input delivered past a pause is held up to the tunnel's cap, then the tunnel is aborted") {
  each_parser([&](const char *parser) {
    Harness h(parser);
    h.send(upgrade_get("/keep"));
    TestKept &k = h.dispatcher.last_kept();
    REQUIRE(k.switch_protocols() == Write::Ok);
    h.pump();
    k.pause(true);
    h.engine().resume();
    // An io module that delivers despite the pause (io-uring's late reaps):
    // held, far past the 64 KiB hold and max_body_bytes (1 MiB here)...
    const std::string mib(1 << 20, 'b');
    size_t held = 0;
    while (held + mib.size() <= http::Engine::kTunnelInputBytes) {
      h.send(mib);
      held += mib.size();
    }
    CHECK(k.aborts.empty());
    CHECK(h.engine().buffered_input() == held);
    // ...up to the cap: one byte more ends it.
    h.send(std::string(http::Engine::kTunnelInputBytes - held + 1, 'c'));
    REQUIRE(k.aborts.size() == 1);
    CHECK(k.aborts[0] == AXLE_ABORT_ERROR);
    CHECK(h.engine().wants_close());
    CHECK(k.body_bytes.empty());
  });
}

TEST_CASE("engine.upgrade: a tunnel's writes wait for the client to read, then writable() follows") {
  each_parser([&](const char *parser) {
    Limits lim;
    lim.max_conn_output_bytes = 16 * 1024;
    Harness h(parser, lim);
    h.send(upgrade_get("/keep"));
    TestKept &k = h.dispatcher.last_kept();
    REQUIRE(k.switch_protocols() == Write::Ok);
    const std::string piece(4096, 'x');
    std::string written;
    REQUIRE(h.take_and_stall());  // the 101 head is in flight, never read
    bool refused = false;
    for (int i = 0; i < 64 && !refused; ++i) {
      Write w = k.write(piece);
      refused = w == Write::Again;
      if (!refused) REQUIRE(w == Write::Ok);
      if (!refused) written += piece;
    }
    REQUIRE(refused);
    CHECK(!written.empty());
    CHECK(written.size() <= lim.max_conn_output_bytes);  // bounded by the connection's output
    CHECK(k.writables == 0);
    k.on_writable = [&](TestKept &self) {
      if (self.write("tail") == Write::Ok) written += "tail";
    };
    h.finish_stalled();
    h.pump();
    CHECK(k.writables == 1);
    CHECK(split_101(h.wire).rest == written);
    REQUIRE(written.ends_with("tail"));
    REQUIRE(k.finish());
  });
}

TEST_CASE("engine.upgrade: header and body deadlines do not apply to a tunnel; idle does; a drain aborts it") {
  each_parser([&](const char *parser) {
    Timeouts t;
    t.header_ms = 1000;
    t.body_ms = 1000;
    t.response_ms = 1000;
    t.idle_ms = 5000;
    Harness h(parser, {}, t);
    h.send(upgrade_get("/keep"));
    TestKept &k = h.dispatcher.last_kept();
    REQUIRE(k.switch_protocols() == Write::Ok);
    h.pump();
    h.send("partial, as a head would be");
    CHECK(h.engine().deadline_kind() == AXLE_TIMEOUT_IDLE);
    FakeClock::now += 3000;
    h.engine().tick(FakeClock::now);
    CHECK(k.aborts.empty());
    h.send("x");  // activity re-arms idle
    FakeClock::now += 4000;
    h.engine().tick(FakeClock::now);
    CHECK(k.aborts.empty());
    FakeClock::now += 1001;
    h.engine().tick(FakeClock::now);
    REQUIRE(k.aborts.size() == 1);
    CHECK(k.aborts[0] == AXLE_ABORT_TIMEOUT);
    CHECK(h.engine().wants_close());

    Harness d(parser, {}, t);
    d.send(upgrade_get("/keep"));
    TestKept &dk = d.dispatcher.last_kept();
    REQUIRE(dk.switch_protocols() == Write::Ok);
    d.pump();
    d.engine().drain(true);  // a drain closes idle connections: a tunnel is not idle
    CHECK(dk.aborts.empty());
    d.engine().abort_kept(AXLE_ABORT_DRAIN);  // what the glue does at the drain deadline
    REQUIRE(dk.aborts.size() == 1);
    CHECK(dk.aborts[0] == AXLE_ABORT_DRAIN);
    CHECK(d.engine().wants_close());
    CHECK(dk.faults == 0);
  });
}

TEST_CASE("engine.upgrade: a client reset aborts the tunnel (CLIENT_GONE), once") {
  each_parser([&](const char *parser) {
    Harness h(parser);
    h.send(upgrade_get("/keep"));
    TestKept &k = h.dispatcher.last_kept();
    REQUIRE(k.switch_protocols() == Write::Ok);
    h.pump();
    h.engine().peer_closed(ECONNRESET);
    REQUIRE(k.aborts.size() == 1);
    CHECK(k.aborts[0] == AXLE_ABORT_CLIENT_GONE);
    CHECK(h.engine().wants_close());
    CHECK(k.faults == 0);
  });
}

}  // TEST_SUITE
