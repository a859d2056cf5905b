// libFuzzer target: the sans-I/O HTTP engine (kernel/http, compiled in) with
// parser-scalar's source compiled in, driven by a scripted client.
//
// Input: four control bytes, then the bytes the client sends.
//   byte 0  bit 0: the client reads (else no write it is sent ever completes)
//           bit 1: time passes (the fake clock jumps; deadlines fire)
//           bit 2: the worker is draining (every response closes)
//           bit 3: the client half-closes (EOF) after its last byte
//           bit 4: the process budget is one grain (spent as soon as this
//                  connection buffers anything; 503s follow)
//   byte 1  limits: output bytes bound (bits 0-1), pipelined (bits 2-4),
//           open files (bits 5-7)
//   byte 2  limits: body bytes (bits 0-1), head bytes (bits 2-3),
//           header count (bits 4-5)
//   byte 3  seed of the schedule: receive sizes, when the client reads,
//           when the clock moves
// Invariants, checked on every input: the engine's bytes parse as
// well-formed HTTP/1.1 responses; final responses answer the dispatched
// requests in order (the dispatcher numbers them and the number comes back
// in X-Seq); nothing follows a response that said Connection: close; output
// and open files stay under their bounds; when the client read everything
// and no deadline fired, every dispatched request was answered; all engine
// memory comes back and every lent body is released once. Any violation
// aborts.

#include "http/engine.h"
#include "wire_reader.h"

#include <axle/parser.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern "C" const axle_module_descriptor_t *axle_fuzz_scalar_entry(void);

namespace {

using namespace axle;
using namespace axle::http;
using axle::enginetest::parse_wire;
using axle::enginetest::WireParse;

[[noreturn]] void fail(const char *what, const std::string &detail = {}) {
  std::fprintf(stderr, "engine_fuzzer: %s %s\n", what, detail.c_str());
  std::abort();
}

class CountingMemory final : public Memory {
 public:
  void *alloc(size_t size) override {
    outstanding += static_cast<int64_t>(size);
    return std::malloc(size ? size : 1);
  }
  void free(void *p, size_t size) override {
    outstanding -= static_cast<int64_t>(size);
    std::free(p);
  }
  int64_t outstanding = 0;
};

uint64_t g_now_ms = 0;
uint64_t now_ms() { return g_now_ms; }
uint64_t now_ns() { return g_now_ms * 1'000'000; }

constexpr size_t kLargeBody = 70'000;
constexpr size_t kFileBody = 3000;

int file_fd() {
  static int fd = [] {
    char path[] = "/tmp/axle-engine-fuzz-XXXXXX";
    int f = ::mkstemp(path);
    if (f < 0) fail("mkstemp");
    ::unlink(path);
    std::string bytes(kFileBody, 'f');
    if (::pwrite(f, bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size())) fail("pwrite");
    return f;
  }();
  return fd;
}

// What a dispatched request must be answered with.
struct Expected {
  uint16_t error_status;  // 0: a handler answer carrying X-Seq
  bool head;
};

// Answers by the path's second byte: 'l' large body, 'f' file, 'e' echo,
// 'n' a lent body, 'p' a prebuilt wire image, '4' 404, '5' 405, 'x' 400 (an
// undecodable path: the engine closes), else a small body. Fills the Response
// directly (the host API is not compiled in).
class FuzzDispatcher final : public Dispatcher {
 public:
  DispatchResult dispatch(const axle_request_head_t &head, std::string_view body, Response &resp) override {
    const bool is_head = head.method.len == 4 && std::memcmp(head.method.ptr, "HEAD", 4) == 0;
    const char kind = head.path.len > 1 ? head.path.ptr[1] : '/';
    DispatchResult r;
    if (kind == '4' || kind == '5' || kind == 'x') {
      r.error_status = kind == '4' ? 404 : kind == '5' ? 405 : 400;
      if (kind == '5') r.allow = 1;
      expected.push_back({r.error_status, is_head && kind != 'x'});
      return r;
    }
    expected.push_back({0, is_head});
    const std::string seq = std::to_string(expected.size());
    if (kind == 'p') {  // the image carries its own fields: a fresh one per request, freed on release
      auto *image = new std::string("HTTP/1.1 200 OK\r\nServer: axle\r\nDate: Thu, 26 Nov 2026 18:40:10 GMT\r\n"
                                    "Content-Length: 3\r\nX-Seq: " + seq + "\r\n\r\npre");
      ++lends;
      resp.body = Response::Body::Prebuilt;
      resp.status = 200;
      resp.data = image->data();
      resp.len = image->size();
      resp.prebuilt_head_len = image->size() - 3;
      resp.release = [](void *arg) {
        ++released;
        delete static_cast<std::string *>(arg);
      };
      resp.release_arg = image;
      return r;
    }
    resp.header_lines = "X-Seq: " + seq + "\r\n";
    if (kind == 'n') {
      static constexpr char kLent[] = "lent";
      ++lends;
      resp.body = Response::Body::Lent;
      resp.data = kLent;
      resp.len = sizeof kLent - 1;
      resp.release = [](void *) { ++released; };
      return r;
    }
    if (kind == 'f') {
      resp.body = Response::Body::File;
      resp.file_fd = ::dup(file_fd());
      resp.file_offset = 0;
      resp.file_length = kFileBody;
      return r;
    }
    std::string text = kind == 'e' ? std::string(body) : kind == 'l' ? std::string(kLargeBody, 'L') : "ok";
    if (text.empty()) return r;
    void *block = resp.memory.alloc(text.size());
    std::memcpy(block, text.data(), text.size());
    resp.body = Response::Body::Owned;
    resp.owned_block = block;
    resp.owned_size = text.size();
    resp.data = static_cast<const char *>(block);
    resp.len = text.size();
    return r;
  }
  std::vector<Expected> expected;
  uint64_t lends = 0;
  static inline uint64_t released = 0;  // release hooks that ran (a plain function pointer cannot capture)
};

// A tiny deterministic generator for the schedule.
struct Schedule {
  uint32_t state;
  uint32_t next() {
    state = state * 1103515245u + 12345u;
    return state >> 16;
  }
};

// The client's side of the connection.
struct Client {
  explicit Client(Engine &e) : engine(e) {}
  Engine &engine;
  std::string wire;
  bool write_in_flight = false;
  std::string in_flight;

  // Takes the next run (the socket accepted it); its bytes reach the client
  // only when the write completes.
  bool start_write() {
    if (write_in_flight) return false;
    OutputRun run = engine.take_output();
    if (run.empty()) return false;
    in_flight.clear();
    if (run.file_fd >= 0) {
      in_flight.resize(run.file_length);
      if (::pread(run.file_fd, in_flight.data(), in_flight.size(), static_cast<off_t>(run.file_offset)) !=
          static_cast<ssize_t>(in_flight.size()))
        fail("pread of a file run");
    } else {
      for (uint32_t i = 0; i < run.iov_count; ++i)
        in_flight.append(static_cast<const char *>(run.iov[i].base), run.iov[i].len);
    }
    write_in_flight = true;
    return true;
  }
  void finish_write() {
    if (!write_in_flight) return;
    write_in_flight = false;
    wire += in_flight;
    if (!engine.wants_close()) engine.output_done(0);
    engine.take_shutdown_write();
  }
  void read_all() {
    for (int guard = 0; guard < 100'000 && !engine.wants_close(); ++guard) {
      finish_write();
      if (!start_write()) return;
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 4) return 0;
  const bool client_reads = data[0] & 1, time_passes = data[0] & 2, draining = data[0] & 4, eof = data[0] & 8,
             tight_budget = data[0] & 16;
  static constexpr uint64_t kOutBytes[] = {512, 4096, 64 * 1024, 1024 * 1024};
  static constexpr uint64_t kBody[] = {0, 16, 1000, 100'000};
  static constexpr uint32_t kHead[] = {64, 256, 4096, 16 * 1024};
  static constexpr uint32_t kHeaders[] = {1, 4, 16, 100};
  Limits limits;
  limits.max_conn_output_bytes = kOutBytes[data[1] & 3];
  limits.max_pipelined = 1 + ((data[1] >> 2) & 7);
  limits.max_conn_output_files = 1 + (data[1] >> 5);
  limits.max_body_bytes = kBody[data[2] & 3];
  limits.max_head_bytes = kHead[(data[2] >> 2) & 3];
  limits.max_target_bytes = limits.max_head_bytes / 2;
  limits.max_headers = kHeaders[(data[2] >> 4) & 3];
  Timeouts timeouts;
  timeouts.header_ms = 100;
  timeouts.body_ms = 200;
  timeouts.idle_ms = 300;
  timeouts.write_ms = 400;
  Schedule schedule{data[3] * 2654435761u + 1};
  const char *payload = reinterpret_cast<const char *>(data + 4);
  const size_t payload_len = size - 4;

  CountingMemory memory;
  SharedBudget shared(Budget::kGrain);
  bool deadline_fired = false;
  {
    static const axle_parser_vtable_t *parser_vt =
        static_cast<const axle_parser_vtable_t *>(axle_fuzz_scalar_entry()->vtable);
    Budget budget(tight_budget ? &shared : nullptr);
    FuzzDispatcher dispatcher;
    FuzzDispatcher::released = 0;
    HttpDate date;
    g_now_ms = 1'000'000;
    EngineContext ctx(limits, timeouts, ParserRef{parser_vt, nullptr}, memory, budget, dispatcher, date, now_ms,
                      now_ns);
    ctx.draining = draining;
    {
      Engine engine(ctx, nullptr);
      Client client(engine);
      const uint64_t out_bound = limits.max_conn_output_bytes + kLargeBody + 4096 +
                                 uint64_t(limits.max_conn_output_files) * kFileBody;
      // Like the connection glue, take the next run as soon as there is one:
      // whether it completes is up to the client.
      auto glue = [&] {
        if (!engine.wants_close()) client.start_write();
        if (engine.queued_output_bytes() > out_bound) fail("queued output over its bound");
        if (engine.queued_files() > limits.max_conn_output_files) fail("queued files over their bound");
      };
      size_t pos = 0;
      for (int steps = 0; steps < 10'000 && !engine.wants_close(); ++steps) {
        const uint32_t r = schedule.next();
        if (pos < payload_len && engine.reading() && (r & 3) != 0) {
          size_t n = std::min<size_t>(payload_len - pos, 1 + (r >> 2) % ((r & 64) ? 7 : 300));
          engine.receive(payload + pos, n);
          pos += n;
        } else if (client_reads && (r & 4)) {
          client.finish_write();
        } else if (time_passes && (r & 8)) {
          g_now_ms += (r >> 4) % 500;
          engine.tick(g_now_ms);
          deadline_fired = true;  // a deadline may have fired: answers may be cut short
        } else if (pos >= payload_len || !engine.reading()) {
          if (!client_reads) break;  // nothing more can happen without the client
          client.read_all();
          if (pos >= payload_len) break;
        }
        glue();
      }
      if (eof && !engine.wants_close()) engine.peer_closed(0);
      glue();
      if (client_reads) client.read_all();
      if (time_passes) {  // every deadline, the linger one included, ends the connection
        for (int i = 0; i < 8 && !engine.wants_close(); ++i) {
          g_now_ms += 5000;
          engine.tick(g_now_ms);
          deadline_fired = true;
          glue();
          if (client_reads) client.read_all();
        }
        if (!engine.wants_close()) fail("still open after every deadline passed");
      }

      // The client's view: well-formed, in order, nothing after close.
      const std::vector<Expected> &expected = dispatcher.expected;
      std::vector<bool> head_only;
      for (const Expected &e : expected) head_only.push_back(e.head);
      WireParse w = parse_wire(client.wire, head_only);
      // A deadline may close the connection in the middle of a response.
      if (!w.error.empty() && !(w.truncated && deadline_fired)) fail("malformed output:", w.error);
      size_t finals = 0;
      bool closed = false;
      for (const auto &resp : w.responses) {
        if (closed) fail("a response after Connection: close");
        if (resp.status < 200) continue;
        if (finals < expected.size()) {
          const Expected &e = expected[finals];
          if (e.error_status ? resp.status != e.error_status
                             : resp.header("X-Seq") != std::to_string(finals + 1))
            fail("response out of order at", std::to_string(finals));
        } else if (finals > expected.size() || resp.status < 400 || !resp.closes()) {
          fail("an answer to no dispatched request that is not a closing refusal");
        }
        ++finals;
        closed = resp.closes();
      }
      if (client_reads && !deadline_fired && finals < expected.size()) fail("dispatched requests left unanswered");
      if (client_reads && !deadline_fired && eof && !engine.wants_close())
        fail("open after EOF with everything read");
    }
    ctx.response.reset();
    if (FuzzDispatcher::released != dispatcher.lends) fail("a lent body was not released exactly once");
    if (budget.held() != 0) fail("budget still charged after the engine is gone");
  }
  if (shared.used() != 0) fail("the process budget was not given back");
  if (memory.outstanding != 0) fail("engine memory leaked:", std::to_string(memory.outstanding));
  return 0;
}
