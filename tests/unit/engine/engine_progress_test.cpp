// Limits that tell the truth: a file goes out in bounded steps, each step
// re-arms the write deadline (a timeout on no progress, not on the whole
// response), a request is reported once its last byte is written, with the
// bytes that really went out, and a refused connection gets the prebuilt 503.
#include "engine_driver.h"

#include <fcntl.h>
#include <unistd.h>

using namespace axle;
using namespace axle::enginetest;

namespace {

struct SentObserver final : http::Observer {
  struct Done {
    uint16_t status;
    uint64_t bytes_out, bytes_queued;
  };
  void request_done(void *, const http::RequestRecord &rec) override {
    done.push_back({rec.status, rec.bytes_out, rec.bytes_queued});
  }
  void parse_error(uint16_t) override {}
  void timeout(uint8_t) override {}
  std::vector<Done> done;
};

Timeouts write_timeout(uint32_t ms) {
  Timeouts t;
  t.write_ms = ms;
  return t;
}

}  // namespace

TEST_SUITE("engine") {

TEST_CASE("engine.progress: a file range is taken in kFileStepMin steps, in order, and closed after the last") {
  CountingMemory memory;
  {
    http::OutQueue q(memory);
    const uint64_t step = http::OutQueue::kFileStepMin, length = 2 * step + 123;
    int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    REQUIRE(q.append_file(fd, 1000, length));
    axle_iov_t iov[4];
    uint64_t offset = 1000, left = length;
    for (uint64_t want : {step, step, uint64_t{123}}) {
      CHECK(q.pending_bytes() == left);
      CHECK(q.open_files() == 1);
      http::OutputRun run = q.next_run(iov, 4);
      REQUIRE(run.file_fd == fd);
      CHECK(run.file_offset == offset);
      CHECK(run.file_length == want);
      CHECK(q.next_run(iov, 4).empty());  // one run in flight at a time
      q.complete_in_flight();
      offset += want;
      left -= want;
    }
    CHECK(q.empty());
    CHECK(q.pending_bytes() == 0);
    CHECK(q.open_files() == 0);
    CHECK(::fcntl(fd, F_GETFD) == -1);  // the queue closed it
  }
}

TEST_CASE("engine.progress: each write step re-arms write_ms; only a step that makes no progress times out") {
  each_parser([&](const char *parser) {
    Harness h(parser, {}, write_timeout(500));
    h.send(get("/file"));
    // The head and the file: every run taken arms a fresh deadline from now.
    for (int run = 0; run < 2; ++run) {
      REQUIRE(h.take_and_stall());
      CHECK(h.engine().deadline_kind() == AXLE_TIMEOUT_WRITE);
      CHECK(h.engine().deadline_ms() == FakeClock::now + 500);
      FakeClock::now += 400;  // progress comes before the deadline each time
      h.engine().tick(FakeClock::now);
      CHECK_FALSE(h.engine().wants_close());
      h.finish_stalled();
    }
    CHECK(h.pump() == 0);
    WireParse w = h.responses();
    REQUIRE_MESSAGE(w.error.empty(), w.error);
    REQUIRE(w.responses.size() == 1);
    CHECK(w.responses[0].body == ScriptDispatcher::file_contents());
  });
}

TEST_CASE("engine.progress: a reader that keeps up earns larger file steps, up to kFileStepMax; a slow step halves them") {
  each_parser([&](const char *parser) {
    Harness h(parser, {}, write_timeout(8000));
    h.send(get("/bigfile"));
    REQUIRE(h.step());  // the head
    // Takes the next file step, lets took_ms pass, reports it written.
    auto step_taking = [&](uint64_t took_ms) {
      http::OutputRun run = h.engine().take_output();
      REQUIRE(run.file_fd >= 0);
      FakeClock::now += took_ms;
      h.engine().output_done(0);
      return run.file_length;
    };
    const uint64_t min = http::OutQueue::kFileStepMin;
    CHECK(step_taking(0) == min);         // written at once: the next doubles
    CHECK(step_taking(1000) == 2 * min);  // write_ms / 8: still doubles
    CHECK(step_taking(1001) == 4 * min);  // between an eighth and a quarter: stays
    CHECK(step_taking(2001) == 4 * min);  // over a quarter: the next halves
    CHECK(step_taking(0) == 2 * min);
    uint64_t step = 0;
    for (int i = 0; i < 6; ++i) step = step_taking(0);
    CHECK(step == http::OutQueue::kFileStepMax);  // and no further
  });
}

TEST_CASE("engine.progress: a request is reported after its last byte, with the bytes written") {
  each_parser([&](const char *parser) {
    SentObserver observer;
    Harness h(parser);
    h.ctx.observer = &observer;
    h.send(get("/file"));
    CHECK(observer.done.empty());  // queued is not written
    REQUIRE(h.step());             // the head
    CHECK(observer.done.empty());
    CHECK(h.pump() > 0);
    REQUIRE(observer.done.size() == 1);
    CHECK(observer.done[0].status == 200);
    CHECK(observer.done[0].bytes_out == h.wire.size());
    CHECK(observer.done[0].bytes_queued == h.wire.size());
    h.ctx.observer = nullptr;
  });
}

TEST_CASE("engine.progress: a response cut off by the write timeout is reported with what went out") {
  each_parser([&](const char *parser) {
    SentObserver observer;
    Harness h(parser, {}, write_timeout(500));
    h.ctx.observer = &observer;
    h.send(get("/file"));
    REQUIRE(h.step());  // the head went out
    const uint64_t head = h.wire.size();
    REQUIRE(h.take_and_stall());  // the file never does
    h.engine().tick(FakeClock::now + 500);
    REQUIRE(h.engine().wants_close());
    CHECK(h.engine().sent_bytes() == head);
    CHECK(observer.done.empty());
    h.engine().connection_ending();  // what the glue does before closing
    REQUIRE(observer.done.size() == 1);
    CHECK(observer.done[0].status == 200);
    CHECK(observer.done[0].bytes_out == head);
    CHECK(observer.done[0].bytes_queued == head + ScriptDispatcher::kFileBody);
    h.ctx.observer = nullptr;
  });
}

TEST_CASE("engine.progress: a refused connection gets the prebuilt 503, reads no request and lingers out") {
  each_parser([&](const char *parser) {
    Harness h(parser);
    REQUIRE(h.engine().refuse_connection());
    h.send(get("/ping"));
    h.pump();
    CHECK(h.dispatcher.seen.empty());
    // Whole, and nothing after it (no Date: the wire reader would want one).
    const std::string body = "too many connections, retry\n";
    CHECK(h.wire.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0) == 0);
    CHECK(h.wire.find("\r\nRetry-After: 1\r\n") != std::string::npos);
    CHECK(h.wire.find("\r\nConnection: close\r\n") != std::string::npos);
    CHECK(h.wire.find("\r\nContent-Length: " + std::to_string(body.size()) + "\r\n") != std::string::npos);
    CHECK(h.wire.size() - h.wire.find("\r\n\r\n") - 4 == body.size());
    CHECK(h.wire.substr(h.wire.size() - body.size()) == body);
    CHECK(h.shutdown_seen);
    h.engine().peer_closed(0);
    CHECK(h.engine().wants_close());
  });
}

}  // TEST_SUITE
