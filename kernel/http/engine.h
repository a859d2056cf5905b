// The HTTP/1.1 engine of one connection, sans I/O: bytes in, actions out.
//
// The connection glue feeds it what the io module delivered (receive,
// peer_closed, output_done, tick) and then carries out what it asks for:
// write the next output run (take_output), pause or resume reading
// (reading), half-close (take_shutdown_write), close (wants_close). The
// engine never calls the io module and never touches a socket, so every rule
// is unit-tested by feeding bytes.
//
// Flow control is its central rule: while a connection's queued output is
// over its bounds (bytes of memory, open files, responses) the engine parses
// no further pipelined request and asks the glue to stop reading; while the
// process-wide budget for buffered bodies and output is exhausted, new
// requests are refused with 503.
#pragma once

#include "http/access_record.h"
#include "http/budget.h"
#include "http/chunked.h"
#include "http/dispatcher.h"
#include "http/engine_work.h"
#include "http/http_date.h"
#include "http/input_buffer.h"
#include "http/memory.h"
#include "http/out_queue.h"
#include "http/response.h"
#include "http/semantics.h"
#include "http/stored_head.h"

#include "config.h"

#include <axle/io.h>
#include <axle/parser.h>

#include <cstdint>
#include <vector>

namespace axle::http {


// What every engine of one worker shares (one thread; no locks).
struct EngineContext {
  EngineContext(const Limits &limits, const Timeouts &timeouts, ParserRef parser, Memory &memory, Budget &budget,
                Dispatcher &dispatcher, const HttpDate &date, uint64_t (*now_ms)(), uint64_t (*now_ns)());
  ~EngineContext();
  EngineContext(const EngineContext &) = delete;
  EngineContext &operator=(const EngineContext &) = delete;

  const Limits &limits;
  const Timeouts &timeouts;
  ParserRef parser;
  axle_parse_limits_t parse_limits{};
  // Some route takes its body as it arrives (Dispatcher::streams_body): heads
  // are framed without the body limit, which is checked after routing.
  bool stream_routes = false;
  Memory &memory;
  Budget &budget;
  Dispatcher &dispatcher;
  Observer *observer = nullptr;  // null: nothing is measured or logged
  // The observer reads a request's head (the access log): only then is it
  // copied to wait for the response's last byte.
  bool observer_reads_head = true;
  const HttpDate &date;
  uint64_t (*now_ms)();  // coarse monotonic clock for deadlines
  uint64_t (*now_ns)();  // request timing, only when observed
  bool draining = false;  // every response from now on closes its connection
  Response response;      // reused by every request of the worker

  static constexpr uint32_t kMaxIov = 64;  // segments per vectored write
  axle_iov_t iov[kMaxIov];
  std::vector<axle_header_t> headers;  // parse scratch, max_headers entries

  // Work blocks idle connections gave back, reused whole (with their output
  // ring) before asking the allocator: a keep-alive request would otherwise
  // allocate and free a block and a ring.
  static constexpr uint32_t kSpareWork = 32;
  EngineWork *spare_work = nullptr;
  uint32_t spare_count = 0;
  EngineWork *take_work();            // a spare block or a new one; nullptr when out of memory
  void give_back(EngineWork *w);      // an emptied block, kept if there is room
  void release_spare_work();          // gives every spare block back to the allocator
};

class Engine {
 public:
  Engine(EngineContext &ctx, void *conn);  // conn: passed back to the Observer
  ~Engine();
  Engine(const Engine &) = delete;
  Engine &operator=(const Engine &) = delete;

  // ---- events ----
  void receive(const char *data, size_t len);  // data: lent for the call
  void peer_closed(int err);                     // EOF (0) or a failed connection (errno)
  void output_done(int err);                     // the run from take_output was written (0) or failed
  void tick(uint64_t now_ms);                    // deadlines; call at least every few hundred ms
  void drain(bool close_idle);                   // the worker is stopping

  // ---- actions ----
  OutputRun take_output();  // the next write to make; empty if none or one is in flight
  bool reading() const { return !paused_ && !closed_ && (phase_ < Phase::StreamBody || !holding_input()); }
  bool take_shutdown_write();  // true once: half-close now (lingering close)
  // After the handler side acted on a kept request (kept_* below): deliver
  // what it unpaused, go on with pipelined requests once it ended. The glue
  // calls this before taking actions; cheap when nothing is pending.
  void resume() {
    if (resume_wanted_) resume_work();
  }
  // The connection is going away with a kept request open: abort it
  // (axle_abort_reason_t). No call reaches the handler after this.
  void abort_kept(uint8_t reason);
  bool wants_close() const { return closed_; }
  // The connection is closing: report every request still waiting for its
  // last byte, with the bytes that were written (the glue calls this while
  // the connection's address can still be read).
  void connection_ending();
  bool idle() const;           // nothing buffered, queued or in progress

  // ---- a kept request: the handler side calls these ----
  // Inside Dispatcher::dispatch: the handler keeps this request and answers
  // later. `request` is told of writability, body bytes and abort until it
  // ends (kept_respond / kept_finish) or is aborted. False: refused (not
  // dispatching, or already kept).
  bool keep(KeptRequest *request, uint32_t route_id);
  bool kept() const;
  bool kept_begun() const;
  enum class Write : uint8_t { Ok, Again, Invalid, Failed };
  // Answers with resp whole (Content-Length) and ends the request.
  bool kept_respond(Response &resp);
  // Queues resp's status and headers; the body follows with kept_write.
  // length: the body's length, or -1 for chunked (close-delimited on HTTP/1.0).
  Write kept_begin(Response &resp, int64_t length);
  Write kept_write(std::string_view data);  // copies; Again: over the output bound, writable() follows
  // Ends a begun response; false if it was short of its announced length
  // (the connection then closes: the client cannot tell).
  bool kept_finish(const axle_header_t *trailers, uint32_t count);
  // 103 Early Hints before the response: inside dispatch or for a kept request not begun.
  Write early_hints(const axle_header_t *headers, uint32_t count);
  void kept_close_connection();
  // Ends the kept request unfinished: 500 before begin; after begin the
  // body is left incomplete and the connection closes after what was queued.
  void kept_cancel();
  void kept_body_pause(bool paused);
  // Answers 101 with resp's headers and "Connection: upgrade", and turns the
  // connection into a tunnel for the kept request: every later client byte
  // (those already buffered first) goes to KeptRequest::body, its end of
  // stream as last; kept_write sends raw bytes; kept_finish closes the
  // connection once they are written. Invalid unless the request is kept,
  // not begun, HTTP/1.1 with Upgrade + Connection: upgrade, and its own body
  // was read whole (or it had none).
  Write kept_switch(Response &resp);
  void *conn() const { return conn_; }
  // A connection in the reserve above max_connections: the dispatcher serves
  // it only the metrics route (others get 503), and every response closes it.
  void set_reserve() { reserve_ = true; }
  // A connection past max_connections and its reserve: answered with a
  // prebuilt 503 (static bytes, nothing formatted or allocated beyond the
  // output ring), then closed lingering; no request is read. False when
  // even that cannot be queued (the glue closes at once).
  bool refuse_connection();
  bool reserve() const { return reserve_; }

  // Inspection (tests, metrics).
  uint64_t queued_output_bytes() const;
  uint64_t sent_bytes() const { return sent_total_; }  // written on this connection, whole runs only
  uint32_t queued_files() const;
  size_t buffered_input() const { return input_size(); }
  uint8_t deadline_kind() const { return timeout_kind_; }
  uint64_t deadline_ms() const { return deadline_ms_; }

  static constexpr uint32_t kLingerMs = 2000;  // read and drop this long after a final response
  static constexpr uint8_t kTimeoutLinger = 100;  // internal kind beside axle_timeout_kind_t
  static constexpr uint8_t kTimeoutResponse = 101;  // a kept request's handler is late
  // Unread input held while a kept request waits: beyond it, reading pauses.
  static constexpr size_t kHoldInputBytes = 64 * 1024;
  // A tunnel's unread input at most: its bytes are no body (max_body_bytes
  // means nothing to them). Past the hold the io module delivers nothing
  // until resumed (io.h recv_pause), so the hold plus one delivery (an
  // io-uring buffer is at most 1 MiB) fits with room to spare. Beyond it the
  // tunnel is aborted (AXLE_ABORT_ERROR); the process budget bounds the sum
  // over connections.
  static constexpr size_t kTunnelInputBytes = 2 * 1024 * 1024;

 private:
  // Head: parsing requests. Body: buffering a body for its handler.
  // StreamBody: a kept request takes its body as it arrives. Waiting: a kept
  // request is answering; later requests wait their turn (so the bytes behind
  // an Upgrade request are never parsed before its answer is known). Tunnel:
  // switched protocols; client bytes go to the kept request raw. Closing:
  // reading and dropping until the close.
  enum class Phase : uint8_t { Head, Body, StreamBody, Waiting, Tunnel, Closing };
  using Work = EngineWork;  // absent while the connection is idle

  Work *ensure_work();  // nullptr when out of memory
  void free_work();
  bool output_empty() const;
  bool holding_input() const;  // a kept request holds enough unread input
  bool output_in_flight() const;
  size_t input_size() const;

  size_t process(const char *buf, size_t len);
  void run_buffered();
  bool continue_body();
  void dispatch(const axle_request_head_t &head, const HeadInfo &info, std::string_view body, size_t bytes_in,
                bool stream_body = false);
  void start_stream_body(const HeadInfo &info, size_t consumed);
  void deliver_body();
  void deliver_tunnel();
  void end_kept(int64_t queued);
  // Aborts a kept request from inside an engine event: the handler is told,
  // the request is reported, and when `answer` is set and nothing of its
  // response went out, the client gets that status (then true).
  bool abort_for(uint8_t reason, uint16_t answer = 0);
  bool detach_kept(uint8_t reason, uint16_t answer);  // abort_for without telling the handler
  bool refuse_kept();
  void resume_work();
  // refused: bytes that were no request (counted as a parse error, not a request)
  void answer_error(uint16_t status, const axle_request_head_t *head, size_t bytes_in, uint32_t route_id,
                    Allow allow, bool head_only, bool close, uint64_t started_ns, bool refused = false);
  // A request refused before reaching a handler: counted, answered, then the connection closes.
  void reject(uint16_t status, const axle_request_head_t *head, size_t bytes_in);
  void stop_reading_requests();
  void report(const axle_request_head_t *head, uint32_t route_id, uint16_t status, size_t bytes_in,
              int64_t bytes_out, uint64_t started_ns, bool refused);
  void report_sent(bool ending);
  bool output_full() const;
  void finish_if_done();
  void close_after_final();  // the final response is out: close or linger
  void set_deadline(uint32_t ms, uint8_t kind);
  void adapt_file_step();  // after a whole file step was written
  void settle_deadline();

  bool buffer_append(const char *data, size_t len);  // false: refused (and answered) or out of memory
  void account();  // keeps the budget in step with what this connection holds

  EngineContext &ctx_;
  void *conn_;
  Work *work_ = nullptr;
  uint64_t deadline_ms_ = 0;
  uint64_t sent_total_ = 0;  // bytes of this connection's output written (whole runs)
  uint64_t run_bytes_ = 0;   // bytes of the run in flight
  // The file step this connection's reader has earned: it doubles after a
  // step written within an eighth of write_ms and halves after one that took
  // over a quarter, so a fast reader gets few large sendfiles and a slow one
  // steps small enough to show progress well within write_ms.
  uint64_t file_step_ = OutQueue::kFileStepMin;
  bool file_run_ = false;  // the run in flight is a file step
  Phase phase_ = Phase::Head;
  uint8_t timeout_kind_ = 0;  // axle_timeout_kind_t of the running deadline, 0 = none
  bool final_ = false;        // the last response is queued: parse nothing more
  bool peer_eof_ = false;
  bool paused_ = false;
  bool closed_ = false;
  bool shutdown_wanted_ = false;
  bool linger_ = false;
  bool resume_wanted_ = false;  // the handler side acted; resume() has work
  bool dispatching_ = false;    // inside Dispatcher::dispatch: keep() is allowed
  bool reserve_ = false;        // see set_reserve
};

// The small accessors every event uses, inline: a call each would cost more
// than they do.
inline bool Engine::output_empty() const { return !work_ || work_->out.empty(); }
inline bool Engine::output_in_flight() const { return work_ && work_->out.in_flight(); }
inline size_t Engine::input_size() const { return work_ ? work_->in.size() : 0; }
inline bool Engine::kept() const { return work_ && work_->kept.request; }
inline bool Engine::kept_begun() const { return kept() && work_->kept.begun; }
inline bool Engine::idle() const {
  return phase_ == Phase::Head && input_size() == 0 && output_empty() && !final_ && !closed_ && !resume_wanted_;
}
inline bool Engine::holding_input() const {
  return (phase_ == Phase::Waiting ||
          ((phase_ == Phase::StreamBody || phase_ == Phase::Tunnel) && work_->kept.body_paused)) &&
         work_->in.size() >= kHoldInputBytes;
}

}  // namespace axle::http
