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

struct EngineWork;  // a connection's input, output and request in progress (engine.cpp)

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
  Memory &memory;
  Budget &budget;
  Dispatcher &dispatcher;
  Observer *observer = nullptr;  // null: nothing is measured or logged
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
  bool reading() const { return !paused_ && !closed_; }
  bool take_shutdown_write();  // true once: half-close now (lingering close)
  bool wants_close() const { return closed_; }
  bool idle() const;           // nothing buffered, queued or in progress

  // Inspection (tests, metrics).
  uint64_t queued_output_bytes() const;
  uint32_t queued_files() const;
  size_t buffered_input() const { return input_size(); }
  uint8_t deadline_kind() const { return timeout_kind_; }
  uint64_t deadline_ms() const { return deadline_ms_; }

  static constexpr uint32_t kLingerMs = 2000;  // read and drop this long after a final response
  static constexpr uint8_t kTimeoutLinger = 100;  // internal kind beside axle_timeout_kind_t

 private:
  enum class Phase : uint8_t { Head, Body, Closing };
  using Work = EngineWork;  // absent while the connection is idle

  Work *ensure_work();  // nullptr when out of memory
  void free_work();
  bool output_empty() const;
  bool output_in_flight() const;
  size_t input_size() const;

  size_t process(const char *buf, size_t len);
  void run_buffered();
  bool continue_body();
  void dispatch(const axle_request_head_t &head, const HeadInfo &info, std::string_view body, size_t bytes_in);
  // refused: bytes that were no request (counted as a parse error, not a request)
  void answer_error(uint16_t status, const axle_request_head_t *head, size_t bytes_in, uint32_t route_id,
                    uint32_t allow, bool head_only, bool close, uint64_t started_ns, bool refused = false);
  // A request refused before reaching a handler: counted, answered, then the connection closes.
  void reject(uint16_t status, const axle_request_head_t *head, size_t bytes_in);
  void stop_reading_requests();
  void report(const axle_request_head_t *head, uint32_t route_id, uint16_t status, size_t bytes_in,
              int64_t bytes_out, uint64_t started_ns, bool refused);
  bool output_full() const;
  void finish_if_done();
  void set_deadline(uint32_t ms, uint8_t kind);
  void settle_deadline();

  bool buffer_append(const char *data, size_t len);  // false: refused (and answered) or out of memory
  void account();  // keeps the budget in step with what this connection holds

  EngineContext &ctx_;
  void *conn_;
  Work *work_ = nullptr;
  uint64_t deadline_ms_ = 0;
  Phase phase_ = Phase::Head;
  uint8_t timeout_kind_ = 0;  // axle_timeout_kind_t of the running deadline, 0 = none
  bool final_ = false;        // the last response is queued: parse nothing more
  bool peer_eof_ = false;
  bool paused_ = false;
  bool closed_ = false;
  bool shutdown_wanted_ = false;
  bool linger_ = false;
};

}  // namespace axle::http
