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
// Paths (second byte) that wait or stream: 'k' is kept and answered at a
// later step of the schedule; 's' is kept and streams its response (chunked,
// a known length, or a 204) with writes that may be refused (Again) until
// writable(); 'u' streams its request body (paused and resumed by the
// schedule) and answers after the last byte or early; 'w' streams its body
// but answers at once; 'h' sends a 103 first; 't' switches protocols when the
// request allows it (else answers plainly), then, as a tunnel, takes every
// later byte, writes raw bytes (refused with Again until writable()), pauses
// and resumes, and finishes early, after `last` or at the end. After any kept_* call the
// driver calls resume() before taking output, like the connection glue.
// Invariants, checked on every input: the engine's bytes parse as
// well-formed HTTP/1.1 responses (chunked and close-delimited included); final responses answer the dispatched
// requests in order (the dispatcher numbers them and the number comes back
// in X-Seq); nothing follows a response that said Connection: close; output
// and open files stay under their bounds; when the client read everything
// and no deadline fired and nothing was aborted, every dispatched request
// was answered; after a 101 the client gets exactly the tunnel's written
// bytes and nothing parsed behind it; a kept request hears nothing after its end, abort at most
// once, no hook from inside a kept_* call, no body after `last`; all engine
// memory comes back and every lent body is released once. Any violation
// aborts.

#include "http/engine.h"
#include "wire_reader.h"

#include <axle/handler.h>
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
  bool aborted = false;  // a kept request the engine aborted: an error answer or none
  bool tunnel = false;   // switched protocols: a 101, then raw bytes, no final response
};

// A small owned body carrying X-Seq, as a handler fills a Response.
void fill_small(Response &resp, size_t seq, std::string_view text) {
  resp.header_lines += "X-Seq: " + std::to_string(seq) + "\r\n";
  if (text.empty()) return;
  void *block = resp.memory.alloc(text.size());
  std::memcpy(block, text.data(), text.size());
  resp.body = Response::Body::Owned;
  resp.owned_block = block;
  resp.owned_size = text.size();
  resp.data = static_cast<const char *>(block);
  resp.len = text.size();
}

// The one kept request an engine may hold at a time, driven by the schedule
// (act) and checking what the engine tells it.
class FuzzKept final : public KeptRequest {
  // Runs a kept_* call, marking it so a hook from inside it shows.
  template <class Fn>
  auto call(Fn &&fn) {
    struct Mark {
      bool &flag;
      ~Mark() { flag = false; }
    } mark{in_call_ = true};
    return fn();
  }

 public:
  FuzzKept(Memory &memory, std::vector<Expected> &expected) : resp_(memory), expected_(expected) {}
  ~FuzzKept() { resp_.reset(); }

  bool active() const { return active_; }
  // Inside dispatch: the request numbered seq (from 1) is kept in mode 'k', 's' or 'u'.
  void start(Engine &engine, char mode, size_t seq, bool streamed_body) {
    engine_ = &engine;
    mode_ = mode;
    seq_ = seq;
    streamed_body_ = streamed_body;
    active_ = true;
    begun_ = want_writable_ = last_seen_ = paused_ = answer_in_hook_ = switched_ = false;
    total_ = written_ = 0;
    tunnel_written.clear();
  }

  // One step of the handler's work (r: 32 random bits); finishing: the input is over, end soon.
  void act(uint32_t r, bool finishing) {
    if (!active_ || want_writable_) return;
    if (mode_ == 'u' && streamed_body_ && !last_seen_) {
      if (finishing || (r & 15) == 0) {  // answers before the body ended: the connection closes
        respond("early");
      } else {
        paused_ = (r >> 4) & 1;
        answer_in_hook_ = ((r >> 5) & 7) == 0;
        call([&] { engine_->kept_body_pause(paused_); });
      }
      return;
    }
    if (mode_ == 't') {
      tunnel_act(r, finishing);
      return;
    }
    if (mode_ != 's') {
      if (!begun_ && (r & 7) == 0) hints();
      else respond("kept");
      return;
    }
    if (!begun_) {
      const bool no_content = ((r >> 24) & 7) == 0;
      total_ = no_content ? 0 : (r >> 8) % 3000;
      const int64_t length = ((r >> 4) & 1) && !no_content ? static_cast<int64_t>(total_) : -1;
      fill_small(resp_, seq_, {});
      resp_.status = no_content ? 204 : 200;
      Engine::Write w = call([&] { return engine_->kept_begin(resp_, length); });
      if (w != Engine::Write::Ok && w != Engine::Write::Failed) fail("kept_begin refused");
      begun_ = true;
      return;
    }
    for (int i = 0; i < 4 && written_ < total_; ++i) {
      size_t n = std::min<size_t>(total_ - written_, 1 + (r >> (i * 3)) % 1500);
      n = std::min<size_t>(n, max_write);
      const std::string piece(n, static_cast<char>('a' + written_ % 26));
      Engine::Write w = call([&] { return engine_->kept_write(piece); });
      if (w == Engine::Write::Again) {
        want_writable_ = true;
        return;
      }
      if (w != Engine::Write::Ok) fail("kept_write refused a piece within every bound");
      written_ += n;
    }
    if (written_ == total_) {
      end();
      if (!call([&] { return engine_->kept_finish(nullptr, 0); })) fail("kept_finish short of a complete body");
    }
  }

  // ---- the engine's calls ----
  void abort(uint8_t reason) override {
    check("abort");
    if (reason < 1 || reason > 4) fail("abort with an unknown reason");
    end();
    expected_[seq_ - 1].aborted = true;
    resp_.reset();
  }
  void writable() override {
    check("writable");
    if (!want_writable_) fail("writable() without a refused write");
    want_writable_ = false;
    if (written_ & 1) act(static_cast<uint32_t>(written_) * 2654435761u, false);  // writes on from the hook
  }
  void body(const char *data, size_t len, bool last) override {
    check("body");
    if ((!streamed_body_ && !switched_) || last_seen_) fail("body after last, or on a route that does not stream");
    if (len == 0 && !last) fail("an empty body call that is not the last");
    if (paused_) fail("body while paused");
    last_seen_ = last;
    if (switched_) {
      if (len && !data) fail("tunnel bytes without data");
      if (last && len % 2 == 0) finish_tunnel();  // from the hook, after the client's end of stream
      return;
    }
    if (answer_in_hook_ || (last && len % 3 == 0)) respond(last ? "hook-last" : "hook");  // answers from the hook
  }

  size_t max_write = 0;  // the connection's output bound: no write exceeds it
  std::string tunnel_written;  // every raw byte the tunnel's writes queued, in order

 private:
  void check(const char *what) {
    if (!active_) fail("a call after the end of a kept request:", what);
    if (in_call_) fail("a hook from inside a kept_* call:", what);
  }
  void end() { active_ = false; }
  void finish_tunnel() {
    end();
    if (!call([&] { return engine_->kept_finish(nullptr, 0); })) fail("a tunnel's finish refused");
  }
  // 't': switch when the request allows it, then write, pause and finish.
  void tunnel_act(uint32_t r, bool finishing) {
    if (!switched_) {
      fill_small(resp_, seq_, {});
      resp_.header_lines += "Upgrade: t\r\n";
      Engine::Write w = call([&] { return engine_->kept_switch(resp_); });
      if (w == Engine::Write::Ok) {
        switched_ = true;
        expected_[seq_ - 1].tunnel = true;
        return;
      }
      resp_.reset();
      if (w == Engine::Write::Failed) return;  // out of memory: the engine closes
      respond("no switch");                    // not an Upgrade request: a plain answer
      return;
    }
    if (finishing || (r & 15) == 0) {
      finish_tunnel();
      return;
    }
    if ((r >> 4) & 1) {
      paused_ = (r >> 5) & 1;
      call([&] { engine_->kept_body_pause(paused_); });
      return;
    }
    const std::string piece(std::min<size_t>(max_write, 1 + (r >> 6) % 2000), 't');
    Engine::Write w = call([&] { return engine_->kept_write(piece); });
    if (w == Engine::Write::Again) {
      want_writable_ = true;
      return;
    }
    if (w == Engine::Write::Failed) return;
    if (w != Engine::Write::Ok) fail("a tunnel's write refused within every bound");
    tunnel_written += piece;
    written_ += piece.size();
  }
  void respond(std::string_view text) {
    fill_small(resp_, seq_, text);
    end();
    if (!call([&] { return engine_->kept_respond(resp_); })) fail("kept_respond refused");
    resp_.reset();
  }
  void hints() {
    static const char kLink[] = "</s.css>; rel=preload";
    axle_header_t link{{"Link", 4}, {kLink, sizeof kLink - 1}};
    if (call([&] { return engine_->early_hints(&link, 1); }) == Engine::Write::Invalid) fail("early hints refused");
  }

  Response resp_;
  std::vector<Expected> &expected_;
  Engine *engine_ = nullptr;
  char mode_ = 0;
  size_t seq_ = 0;
  bool active_ = false, begun_ = false, want_writable_ = false, streamed_body_ = false, last_seen_ = false,
       paused_ = false, answer_in_hook_ = false, switched_ = false;
  uint64_t total_ = 0, written_ = 0;
  bool in_call_ = false;
};

// Answers by the path's second byte: 'l' large body, 'f' file, 'e' echo,
// 'n' a lent body, 'p' a prebuilt wire image, '4' 404, '5' 405, 'x' 400 (an
// undecodable path: the engine closes), 'k' 's' 'u' 't' kept (FuzzKept), 'w' a
// streamed body answered at once, 'h' a 103 first, else a small body. Fills
// the Response directly (the host API is not compiled in).
class FuzzDispatcher final : public Dispatcher {
 public:
  explicit FuzzDispatcher(Memory &memory) : kept(memory, expected) {}

  bool streams_body(const axle_request_head_t &head) override {
    const char kind = head.path.len > 1 ? head.path.ptr[1] : '/';
    return kind == 'u' || kind == 'w';
  }

  DispatchResult dispatch(const DispatchInput &in, Response &resp) override {
    const axle_request_head_t &head = in.head;
    const bool is_head = head.method.len == 4 && std::memcmp(head.method.ptr, "HEAD", 4) == 0;
    const char kind = head.path.len > 1 ? head.path.ptr[1] : '/';
    DispatchResult r;
    if (in.stream_body && !streams_body(head)) fail("a streamed body on a route that does not stream");
    if (kind == '4' || kind == '5' || kind == 'x') {
      r.error_status = kind == '4' ? 404 : kind == '5' ? 405 : 400;
      if (kind == '5') r.allow = 1;
      expected.push_back({r.error_status, is_head && kind != 'x'});
      return r;
    }
    expected.push_back({0, is_head});
    const std::string seq = std::to_string(expected.size());
    if (kind == 'k' || kind == 's' || kind == 'u' || kind == 't') {
      if (kept.active()) fail("dispatch while a kept request is open");
      kept.start(in.engine, kind, expected.size(), in.stream_body);
      if (!in.engine.keep(&kept, 3)) fail("keep refused inside dispatch");
      if (in.engine.keep(&kept, 3)) fail("keep accepted twice");
      r.kept = true;
      r.route_id = 3;
      return r;
    }
    if (kind == 'h') {
      static const char kLink[] = "</h.css>; rel=preload";
      axle_header_t link{{"Link", 4}, {kLink, sizeof kLink - 1}};
      if (in.engine.early_hints(&link, 1) == Engine::Write::Invalid) fail("early hints refused inside dispatch");
    }
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
    if (kind == 'n') {
      static constexpr char kLent[] = "lent";
      resp.header_lines = "X-Seq: " + seq + "\r\n";
      ++lends;
      resp.body = Response::Body::Lent;
      resp.data = kLent;
      resp.len = sizeof kLent - 1;
      resp.release = [](void *) { ++released; };
      return r;
    }
    if (kind == 'f') {
      resp.header_lines = "X-Seq: " + seq + "\r\n";
      resp.body = Response::Body::File;
      resp.file_fd = ::dup(file_fd());
      resp.file_offset = 0;
      resp.file_length = kFileBody;
      return r;
    }
    fill_small(resp, expected.size(),
               kind == 'e' ? std::string(in.body) : kind == 'l' ? std::string(kLargeBody, 'L') : "ok");
    return r;
  }
  std::vector<Expected> expected;
  FuzzKept kept;
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
  uint32_t wide() { return next() << 16 | next(); }  // 32 random bits
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
    engine.resume();  // what the handler side did since the last event, as Connection::pump does
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
    FuzzDispatcher dispatcher(memory);
    dispatcher.kept.max_write = limits.max_conn_output_bytes;
    FuzzDispatcher::released = 0;
    HttpDate date;
    g_now_ms = 1'000'000;
    EngineContext ctx(limits, timeouts, ParserRef{parser_vt, nullptr}, memory, budget, dispatcher, date, now_ms,
                      now_ns);
    ctx.draining = draining;
    ctx.stream_routes = true;  // the /u and /w routes
    {
      Engine engine(ctx, nullptr);
      Client client(engine);
      const uint64_t out_bound = limits.max_conn_output_bytes + kLargeBody + 4096 +
                                 uint64_t(limits.max_conn_output_files) * kFileBody;
      // Like the connection glue, take the next run as soon as there is one:
      // whether it completes is up to the client.
      auto glue = [&] {
        engine.resume();
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
        // A kept request's handler works between events, e.g. on the next byte batch.
        if (dispatcher.kept.active() && ((r >> 9) & 1)) dispatcher.kept.act(schedule.wide(), false);
        glue();
      }
      // The input is over: kept requests end (with a client that reads, fully).
      for (int i = 0; i < 10'000 && dispatcher.kept.active() && !engine.wants_close(); ++i) {
        dispatcher.kept.act(schedule.wide(), true);
        glue();
        if (client_reads) client.read_all();
      }
      // A draining worker's glue aborts what is left at the drain deadline.
      if (draining && dispatcher.kept.active() && (schedule.next() & 1)) engine.abort_kept(AXLE_ABORT_DRAIN);
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
      bool aborted = false;
      for (const Expected &e : expected) aborted = aborted || e.aborted;
      // A tunnel (the last request dispatched: nothing behind it is parsed)
      // answered 101 and then sent raw bytes, all 't': exactly what its
      // writes queued, or a prefix of it when cut short.
      std::string_view http_part = client.wire;
      const bool tunnel = !expected.empty() && expected.back().tunnel;
      for (size_t i = 0; i + 1 < expected.size(); ++i)
        if (expected[i].tunnel) fail("a request dispatched behind a tunnel");
      if (tunnel) {
        const size_t head = client.wire.rfind("HTTP/1.1 101 Switching Protocols\r\n");
        const size_t end = head == std::string::npos ? head : client.wire.find("\r\n\r\n", head);
        if (end != std::string::npos) {
          const std::string_view head_text = std::string_view(client.wire).substr(head, end + 4 - head);
          if (head_text.find("\r\nConnection: upgrade\r\n") == std::string_view::npos ||
              head_text.find("\r\nX-Seq: " + std::to_string(expected.size()) + "\r\n") == std::string_view::npos)
            fail("a 101 without Connection: upgrade or its X-Seq");
          const std::string_view raw = std::string_view(client.wire).substr(end + 4);
          const std::string &written = dispatcher.kept.tunnel_written;
          if (raw.size() > written.size() || written.compare(0, raw.size(), raw) != 0)
            fail("tunnel bytes differ from what was written");
          if (client_reads && !deadline_fired && !expected.back().aborted && raw.size() != written.size())
            fail("tunnel bytes written but not delivered");
          http_part = std::string_view(client.wire).substr(0, end + 4);
        } else if (client_reads && !deadline_fired && !expected.back().aborted) {
          fail("a switched tunnel's 101 never reached a reading client");
        }
      }
      WireParse w = parse_wire(std::string(http_part), head_only);
      // A deadline or an abort may close the connection in the middle of a response.
      if (!w.error.empty() && !(w.truncated && (deadline_fired || aborted))) fail("malformed output:", w.error);
      size_t finals = 0;
      bool closed = false;
      for (const auto &resp : w.responses) {
        if (closed) fail("a response after Connection: close");
        if (resp.status < 200) continue;
        if (finals < expected.size()) {
          const Expected &e = expected[finals];
          const bool own = resp.header("X-Seq") == std::to_string(finals + 1);
          if (e.aborted) {
            // Its own head that went out whole before the abort, or the
            // engine's closing error; the connection ends either way.
            if (!own && (resp.status < 400 || !resp.closes())) fail("an aborted request answered with", resp.reason);
            closed = true;
            ++finals;
            continue;
          }
          if (e.error_status ? resp.status != e.error_status : !own)
            fail("response out of order at", std::to_string(finals));
        } else if (finals > expected.size() || resp.status < 400 || !resp.closes()) {
          fail("an answer to no dispatched request that is not a closing refusal");
        }
        ++finals;
        closed = resp.closes();
      }
      if (client_reads && !deadline_fired && !aborted && finals < expected.size() - (tunnel ? 1 : 0))
        fail("dispatched requests left unanswered");
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
