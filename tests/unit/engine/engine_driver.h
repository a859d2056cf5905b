// A test driver for the sans-I/O HTTP engine: everything an Engine needs
// (a counting Memory, a fake clock, a real parser module behind a counting
// shim, a scripted Dispatcher) and a client that drains the engine's output
// and parses it back strictly. No socket anywhere.
#pragma once

#include "http/engine.h"
#include "wire_reader.h"

#include "module_loader.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace axle::enginetest {

// The parser modules every behaviour test runs against.
inline constexpr const char *kParsers[] = {"scalar", "simd"};

// malloc with a count of the bytes still allocated (a leak shows as non-zero).
class CountingMemory final : public http::Memory {
 public:
  void *alloc(size_t size) override;
  void free(void *p, size_t size) override;
  int64_t outstanding() const { return outstanding_; }
  uint64_t allocations() const { return allocations_; }

 private:
  int64_t outstanding_ = 0;
  uint64_t allocations_ = 0;
};

// The engine's clocks: milliseconds move only when a test advances them.
struct FakeClock {
  static uint64_t now;  // ms
  static uint64_t now_ms() { return now; }
  static uint64_t now_ns() { return now * 1'000'000; }
};

// A parser module (loaded and instantiated once per process) seen through a
// shim that counts complete head parses.
class CountingParser {
 public:
  explicit CountingParser(const char *module);  // "scalar" or "simd"
  CountingParser(const CountingParser &) = delete;
  CountingParser &operator=(const CountingParser &) = delete;

  http::ParserRef ref() { return {&shim_, this}; }
  uint64_t heads_parsed = 0;  // parse_request calls that returned COMPLETE

 private:
  static axle_parse_result_t parse_request(void *self, const char *buf, size_t len, const axle_parse_limits_t *lim,
                                           axle_request_head_t *out, size_t *consumed);
  static axle_parse_result_t parse_chunk_size(void *self, const char *buf, size_t len, uint64_t *size,
                                              size_t *consumed);
  static axle_parse_result_t parse_trailers(void *self, const char *buf, size_t len, size_t max_bytes,
                                            size_t *consumed);

  const axle_parser_vtable_t *real_ = nullptr;
  void *thread_ctx_ = nullptr;
  axle_parser_vtable_t shim_{};
};

struct SeenRequest {
  std::string method, target, body;
  uint32_t header_count = 0;
};

// A kept request as its handler sees it: records every call the engine makes
// and drives the response through the engine's kept_* calls, as the kernel's
// Exchange does. The glue contract holds for the test too: after any call
// below, engine.resume() runs before the next take_output (Harness::step
// does it, like Connection::pump).
class TestKept final : public http::KeptRequest {
 public:
  using Fields = std::vector<std::pair<std::string, std::string>>;
  TestKept(http::Engine &engine, http::Memory &memory, uint32_t seq) : engine_(engine), resp_(memory), seq_(seq) {}
  ~TestKept() { resp_.reset(); }

  // ---- the engine's calls ----
  void abort(uint8_t reason) override;
  void writable() override;
  void body(const char *data, size_t len, bool last) override;

  // ---- the handler side ----
  // One whole response (Content-Length) carrying X-Seq; ends the request.
  bool respond(uint16_t status, std::string_view body);
  http::Engine::Write begin(uint16_t status, int64_t length);  // the head, with X-Seq
  http::Engine::Write write(std::string_view data);
  bool finish(const Fields &trailers = {});  // ends the request
  http::Engine::Write hints(const Fields &fields);
  void cancel();  // ends it unfinished (response_cancel)
  void pause(bool paused) { engine_.kept_body_pause(paused); }
  // 101 with these fields (and X-Seq): the connection becomes a tunnel.
  http::Engine::Write switch_protocols(const Fields &fields = {{"Upgrade", "echo"}});
  http::Response &response() { return resp_; }  // what handle() set before keeping

  bool ended() const { return ended_ || !aborts.empty(); }
  std::vector<uint8_t> aborts;   // reasons, in order (exactly one, or none)
  uint32_t writables = 0;
  std::string body_bytes;        // every streamed body byte delivered
  uint32_t body_calls = 0, lasts = 0;
  uint32_t faults = 0;           // calls the contract forbids: after the end, body after last, empty non-last
  // The test's reaction, run inside the engine's call (a handler reacts in its hooks).
  std::function<void(TestKept &)> on_writable, on_body;

 private:
  http::Engine &engine_;
  http::Response resp_;
  uint32_t seq_;
  bool ended_ = false;
};

// Answers by path, through the kernel's real host API:
//   /large      kLargeBody bytes, copied (an owned block, sent by reference)
//   /file       kFileBody bytes of a temp file (a file range)
//   /bigfile    a kBigFileRange range of that file, past its end: only for
//               tests that take the runs themselves and never read them
//   /echo       the request body
//   /lent       kLentBody, lent (released through count_release)
//   /prebuilt   kPrebuilt, a whole wire image lent as is (no X-Seq)
//   /404 /500   the engine's error answer; /405 with Allow: GET
//   /hints      a 103 (Link) from inside dispatch, then "seq=<n>"
//   /keep...    kept (route 7): a TestKept in `kept`, answered by the test;
//               /keep-hints sends a 103 first, /keep-now answers inside dispatch,
//               /keep-switch switches protocols inside dispatch (Upgrade: echo),
//               /keep-fail keeps and then fails (error 500)
//   /upload...  streams its body; /upload keeps the request like /keep,
//               /upload-now answers at once without reading the body
//   anything else: "seq=<n>" (the request's number, from 1)
// Every answer carries "X-Seq: <n>". A path that does not decode is 400, as
// in the server's route dispatcher.
class ScriptDispatcher final : public http::Dispatcher {
 public:
  static constexpr size_t kLargeBody = 200 * 1024;
  static constexpr size_t kFileBody = 10'000;
  static constexpr uint64_t kBigFileRange = 8 << 20;
  static constexpr std::string_view kLentBody = "lent bytes";
  static constexpr std::string_view kPrebuilt =
      "HTTP/1.1 200 OK\r\nServer: axle\r\nDate: Thu, 26 Nov 2026 18:40:10 GMT\r\nContent-Length: 9\r\n"
      "X-Prebuilt: 1\r\n\r\nprebuilt!";

  http::DispatchResult dispatch(const http::DispatchInput &in, http::Response &resp) override;
  bool streams_body(const axle_request_head_t &head) override;

  static const std::string &file_contents();  // what /file sends
  static const std::string &large_body();     // what /large sends

  std::vector<SeenRequest> seen;
  std::vector<std::unique_ptr<TestKept>> kept;  // every request kept, in order
  TestKept &last_kept() {
    REQUIRE(!kept.empty());
    return *kept.back();
  }
  http::Memory *memory = nullptr;  // for kept responses (set by the Harness)
  static constexpr uint32_t kKeptRoute = 7;
  uint32_t lends = 0, releases = 0;  // every lend must be released exactly once

 private:
  static void count_release(void *self);
};

// Everything one engine needs, for one parser module. Destroying it checks
// that the engine returned all its memory and budget.
class Harness {
 public:
  explicit Harness(const char *parser, const Limits &limits = {}, const Timeouts &timeouts = {},
                   http::SharedBudget *shared = nullptr);
  ~Harness();

  // Feeds bytes; split: the sizes of consecutive receive() calls (the last
  // one takes the rest). Empty: one call.
  void send(std::string_view bytes, const std::vector<size_t> &split = {});
  // The client reads: takes and completes every output run until none is
  // left. Returns the number of runs written.
  size_t pump();
  // Takes and completes one output run; false if there was none.
  bool step();
  // Takes one run and does not complete it (a client that stopped reading);
  // false if there was none. finish_stalled: the client read it after all.
  bool take_and_stall();
  void finish_stalled();
  void fail_stalled(int err);  // the stalled write failed (output_done(err))
  WireParse responses(const std::vector<bool> &head_only = {}) const { return parse_wire(wire, head_only); }

  http::Engine &engine() { return *engine_; }
  void new_engine();  // replaces the engine (the old one must be clean)

  CountingMemory memory;
  CountingParser parser;
  http::Budget budget;
  ScriptDispatcher dispatcher;
  http::HttpDate date;
  Limits limits;
  Timeouts timeouts;
  http::EngineContext ctx;
  std::string wire;      // every byte the engine sent, in order
  size_t runs = 0;       // output runs completed
  bool shutdown_seen = false;

 private:
  void complete();  // output_done(0) for the run in flight

  std::unique_ptr<http::Engine> engine_;
  std::string stalled_;  // bytes of the run taken by take_and_stall
};

// Runs fn(parser module name) once per parser module.
template <class Fn>
void each_parser(Fn &&fn) {
  for (const char *p : kParsers) {
    INFO("parser-" << std::string(p));
    fn(p);
  }
}

// "GET <target> HTTP/1.1" with Host and the extra field lines (each ending CRLF).
inline std::string get(std::string_view target, std::string_view extra = {}) {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: t\r\n" + std::string(extra) + "\r\n";
}

}  // namespace axle::enginetest
