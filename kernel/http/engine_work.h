// What a connection holds only while it has work: input, output and a
// request whose body is arriving. A connection gives it back as soon as it is
// idle, so thousands of idle keep-alive connections cost only their core; the
// worker's EngineContext keeps a few whole blocks for the next requests.
// Internal to the engine (engine.cpp, engine_context.cpp).
#pragma once

#include "http/access_record.h"
#include "http/chunked.h"
#include "http/dispatcher.h"
#include "http/input_buffer.h"
#include "http/memory.h"
#include "http/out_queue.h"
#include "http/serializer.h"
#include "http/stored_head.h"

#include <cstdint>
#include <deque>
#include <string>

namespace axle::http {

// The request line and the fields the access log needs, copied when a
// request is kept (its head's bytes are gone by the time it is answered).
struct KeptLogCopy {
  std::string text;
  axle_header_t headers[2];
  axle_request_head_t head{};
  void copy_from(const axle_request_head_t &h);
};

// A request whose handler answers later (Engine::keep), and its response
// while it streams. Set up by every dispatch, live only while `request` is.
struct KeptState {
  KeptRequest *request = nullptr;  // non-null while the handler holds the request
  uint32_t route_id = 0;
  uint16_t status = 0;
  uint8_t version_minor = 1;
  bool head_only = false;        // HEAD: body bytes are dropped
  bool close = false;            // the connection closes after this response
  bool begun = false;            // the head is queued; the body streams
  bool want_writable = false;    // a write was refused: tell the handler when there is room
  bool upgrade = false;          // HeadInfo::upgrade: kept_switch may turn the connection into a tunnel
  bool bodiless = false;         // the request had no body (its empty streamed last may still be due)
  StreamBody stream = StreamBody::None;
  uint64_t length_left = 0;      // StreamBody::Length: bytes still owed
  uint64_t started_ns = 0, bytes_in = 0, bytes_out = 0;
  // Streamed request body; in a tunnel, the client's bytes (body_done: its
  // end of stream was delivered).
  bool body_chunked = false;
  bool body_paused = false;      // the handler asked for no more for now
  bool body_done = true;
  uint64_t body_left = 0;        // Content-Length bytes still to come
  KeptLogCopy *log = nullptr;    // when observed
};

// A request whose response is queued but not yet written whole: it is
// reported (metrics, access log) once its last byte is written, or when the
// connection ends first, with the bytes that really went out.
struct PendingReport {
  KeptLogCopy log;  // valid when has_head; its text keeps its capacity for the next one
  bool has_head = false;
  bool refused = false;
  uint16_t status = 0;
  uint32_t route_id = 0;
  uint64_t bytes_in = 0, started_ns = 0;
  uint64_t start = 0, end = 0;  // the response's bytes in the connection's output stream
};

struct EngineWork {
  explicit EngineWork(Memory &memory) : out(memory), in(memory) {}
  OutQueue out;
  InputBuffer in;
  StoredHead *stored = nullptr;      // the head of a request whose body is arriving
  ChunkedDecoder chunked;
  uint64_t charged = 0;              // bytes counted against the budget
  uint32_t queued_responses = 0;     // since the output last drained
  KeptState kept;
  // Reports waiting for their last byte, oldest first: [reports_first,
  // reports_used). Bounded like the responses queued (max_pipelined, plus
  // the one that made the queue full); entries are reused, not freed. A
  // deque: an entry points into itself, so growing must not move it.
  std::deque<PendingReport> reports;
  size_t reports_first = 0, reports_used = 0;
  EngineWork *next_spare = nullptr;  // in EngineContext::spare_work
};

}  // namespace axle::http
