// The engine's side of kept requests: a handler that answers later, streams
// its response, or takes its request body as it arrives. The handler side
// (the kernel's Exchange) calls the kept_* methods; they only queue output
// and change state, and the connection glue's next pump carries it out
// (resume()), so nothing here calls back into the handler re-entrantly.
#include "http/engine.h"

#include "http/engine_work.h"
#include "http/error_response.h"
#include "http/tokens.h"
#include "http/serializer.h"

#include <axle/handler.h>
#include <axle/router.h>

#include <algorithm>
#include <new>

namespace axle::http {
namespace {
constexpr uint64_t kNoLimit = ~uint64_t{0};  // a streamed body is bounded in memory, not in length
}  // namespace

void KeptLogCopy::copy_from(const axle_request_head_t &h) {
  // The request line and Referer / User-Agent: what format_access_line reads.
  const axle_header_t *referer = nullptr, *agent = nullptr;
  for (uint32_t i = 0; i < h.header_count; ++i) {
    std::string_view name(h.headers[i].name.ptr, h.headers[i].name.len);
    if (iequals(name, "referer")) referer = &h.headers[i];
    else if (iequals(name, "user-agent")) agent = &h.headers[i];
  }
  auto size = [](const axle_header_t *f) { return f ? f->value.len : 0; };
  text.reserve(h.method.len + h.target.len + size(referer) + size(agent));
  text.assign(h.method.ptr, h.method.len);
  text.append(h.target.ptr, h.target.len);
  if (referer) text.append(referer->value.ptr, referer->value.len);
  if (agent) text.append(agent->value.ptr, agent->value.len);
  head = h;
  const char *p = text.data();
  head.method = {p, h.method.len};
  p += h.method.len;
  head.target = {p, h.target.len};
  p += h.target.len;
  uint32_t n = 0;
  if (referer) {
    headers[n++] = {{"Referer", 7}, {p, referer->value.len}};
    p += referer->value.len;
  }
  if (agent) headers[n++] = {{"User-Agent", 10}, {p, agent->value.len}};
  head.headers = headers;
  head.header_count = head.header_capacity = n;
  head.path = head.query = {};
}

bool Engine::keep(KeptRequest *request, uint32_t route_id) {
  if (!dispatching_ || !work_ || work_->kept.request) return false;
  KeptState &k = work_->kept;
  k.request = request;
  k.route_id = route_id;
  k.status = 0;
  k.begun = k.want_writable = false;
  k.stream = StreamBody::None;
  k.length_left = k.bytes_out = 0;
  return true;
}


void Engine::start_stream_body(const HeadInfo &info, size_t) {
  Work *w = ensure_work();
  if (!w) {
    closed_ = true;
    return;
  }
  KeptState &k = w->kept;
  k.body_chunked = info.body == BodyKind::Chunked;
  k.body_left = k.body_chunked ? 0 : info.content_length;
  k.body_paused = false;
  k.body_done = false;
  if (k.body_chunked) w->chunked.start(0);
  phase_ = Phase::StreamBody;
}

// Hands the handler what arrived of a streamed body, from the input buffer
// (whose head was consumed at dispatch). After the handler finished, the
// rest is not read: the response closed the connection.
void Engine::deliver_body() {
  Work &w = *work_;
  KeptState &k = w.kept;
  // An empty Content-Length body still gets its one call with last.
  while (phase_ == Phase::StreamBody && !closed_ && k.request && !k.body_paused &&
         (w.in.size() > 0 || (!k.body_chunked && k.body_left == 0))) {
    KeptRequest *request = k.request;
    if (!k.body_chunked) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(w.in.size(), k.body_left));
      k.body_left -= n;
      bool last = k.body_left == 0;
      if (last) {
        k.body_done = true;
        phase_ = Phase::Waiting;
      }
      request->body(w.in.data(), n, last);
      if (phase_ == Phase::Closing || closed_) return;  // it answered and the rest is dropped
      w.in.consume(n);
      continue;
    }
    ChunkedDecoder::Result r = w.chunked.decode(w.in.data(), w.in.size_ptr(), ctx_.parser, kNoLimit,
                                                ctx_.limits.max_head_bytes);
    if (r == ChunkedDecoder::Result::Malformed || r == ChunkedDecoder::Result::TooLarge) {
      if (ctx_.observer) ctx_.observer->parse_error(400);
      if (!abort_for(AXLE_ABORT_ERROR, 400)) closed_ = true;  // a response is half out: only a close is left
      return;
    }
    size_t n = static_cast<size_t>(w.chunked.body_length());
    if (r == ChunkedDecoder::Result::NeedMore) {
      if (n == 0) break;
      request->body(w.in.data(), n, false);
      if (phase_ == Phase::Closing || closed_) return;
      w.chunked.drop_decoded(w.in.data(), w.in.size_ptr());
      continue;
    }
    k.body_done = true;
    phase_ = Phase::Waiting;
    size_t raw_end = w.chunked.raw_end();
    request->body(w.in.data(), n, true);
    if (phase_ == Phase::Closing || closed_) return;
    w.in.consume(raw_end);
  }
  settle_deadline();
}

// Hands a tunnel's client bytes to its handler as they arrive, then its end
// of stream once every byte before it was delivered.
void Engine::deliver_tunnel() {
  Work &w = *work_;
  KeptState &k = w.kept;
  while (phase_ == Phase::Tunnel && !closed_ && k.request && !k.body_paused && !k.body_done &&
         (w.in.size() > 0 || peer_eof_)) {
    size_t n = w.in.size();
    bool last = n == 0;  // only once the client's end of stream came
    if (last) k.body_done = true;
    k.bytes_in += n;  // the access record counts the tunnel's bytes both ways
    k.request->body(n ? w.in.data() : "", n, last);
    // Ended inside the call: the rest is dropped (the buffer is lent to the
    // handler until it returns, so it is released later, not here).
    if (phase_ != Phase::Tunnel || closed_) return;
    w.in.consume(n);
  }
}

void Engine::end_kept(int64_t queued) {
  Work &w = *work_;
  KeptState &k = w.kept;
  k.request = nullptr;
  k.want_writable = false;
  if (queued < 0) {
    closed_ = true;  // out of memory: nothing sensible can be sent
    return;
  }
  k.bytes_out += static_cast<uint64_t>(queued);
  // A response whose last byte already went out (a finish that queued
  // nothing) is not waiting for the client: counted, it would pause
  // max_pipelined with no output_done to lift it (found by the engine fuzzer).
  if (!w.out.empty()) ++w.queued_responses;
  report(k.log ? &k.log->head : nullptr, k.route_id, k.status, k.bytes_in, static_cast<int64_t>(k.bytes_out),
         k.started_ns, false);
  delete k.log;
  k.log = nullptr;
  if (phase_ == Phase::Tunnel) {
    // No HTTP follows a tunnel: close once its bytes are written. What the
    // client still sends is dropped (see deliver_tunnel for why not released).
    final_ = true;
    phase_ = Phase::Closing;
    paused_ = false;
  } else if (k.close || !k.body_done) {
    final_ = true;
    if (!k.body_done) stop_reading_requests();
  } else if (phase_ == Phase::Waiting) {
    phase_ = Phase::Head;
  }
  resume_wanted_ = true;
}

bool Engine::kept_respond(Response &resp) {
  if (!kept()) return false;
  KeptState &k = work_->kept;
  k.status = resp.status ? resp.status : 200;
  // Draining since the request came: its connection closes after it.
  ResponseFrame frame{ctx_.date.view(), k.version_minor, k.close || !k.body_done || ctx_.draining || resp.close,
                      k.head_only};
  k.close = frame.close;
  end_kept(serialize_response(work_->out, resp, frame));
  return true;
}

Engine::Write Engine::kept_begin(Response &resp, int64_t length) {
  if (!kept() || work_->kept.begun) return Write::Invalid;
  KeptState &k = work_->kept;
  k.status = resp.status ? resp.status : 200;
  // A body still arriving is not read after the response: say so now.
  k.close = k.close || !k.body_done || ctx_.draining || resp.close;
  if (k.head_only || !status_has_body(k.status)) k.stream = StreamBody::None;
  else if (length >= 0) k.stream = StreamBody::Length;
  else if (k.version_minor >= 1) k.stream = StreamBody::Chunked;
  else k.stream = StreamBody::Close;
  if (k.stream == StreamBody::Close) k.close = true;
  k.length_left = length >= 0 ? static_cast<uint64_t>(length) : 0;
  ResponseFrame frame{ctx_.date.view(), k.version_minor, k.close, k.head_only};
  // HEAD still announces the length a GET would get.
  StreamBody announce = k.head_only && status_has_body(k.status) && length >= 0 ? StreamBody::Length : k.stream;
  int64_t queued = serialize_stream_head(work_->out, resp, frame, announce, k.length_left);
  if (queued < 0) {
    closed_ = true;
    return Write::Failed;
  }
  k.begun = true;
  k.bytes_out += static_cast<uint64_t>(queued);
  resume_wanted_ = true;
  return Write::Ok;
}

Engine::Write Engine::kept_write(std::string_view data) {
  if (!kept() || !work_->kept.begun) return Write::Invalid;
  KeptState &k = work_->kept;
  if (k.head_only && status_has_body(k.status)) return Write::Ok;  // HEAD: dropped
  if (k.stream == StreamBody::None) return data.empty() ? Write::Ok : Write::Invalid;
  if (k.stream == StreamBody::Length && data.size() > k.length_left) return Write::Invalid;
  // One write never exceeds what a connection may hold, so the bound holds.
  if (data.size() > ctx_.limits.max_conn_output_bytes) return Write::Invalid;
  if (data.empty()) return Write::Ok;  // an empty chunk would end a chunked body
  if (output_full() || work_->out.memory_bytes() + data.size() > ctx_.limits.max_conn_output_bytes) {
    if (!work_->out.empty()) {
      k.want_writable = true;
      return Write::Again;
    }
  }
  int64_t queued = queue_chunk(work_->out, data, k.stream == StreamBody::Chunked);
  if (queued < 0) {
    closed_ = true;
    return Write::Failed;
  }
  if (k.stream == StreamBody::Length) k.length_left -= data.size();
  k.bytes_out += static_cast<uint64_t>(queued);
  resume_wanted_ = true;
  return Write::Ok;
}

bool Engine::kept_finish(const axle_header_t *trailers, uint32_t count) {
  if (!kept_begun()) return false;
  KeptState &k = work_->kept;
  bool complete = true;
  int64_t queued = 0;
  if (k.stream == StreamBody::Chunked) {
    queued = queue_last_chunk(work_->out, trailers, count);
  } else if (k.stream == StreamBody::Length && k.length_left > 0) {
    complete = false;  // short of its Content-Length: only a close tells the client
    k.close = true;
  }
  end_kept(queued);
  return complete;
}

Engine::Write Engine::early_hints(const axle_header_t *headers, uint32_t count) {
  if (!work_ || (!dispatching_ && !kept()) || (kept() && work_->kept.begun)) return Write::Invalid;
  if (work_->kept.version_minor == 0) return Write::Ok;  // HTTP/1.0 knows no 1xx
  int64_t queued = queue_informational(work_->out, 103, headers, count);
  if (queued < 0) {
    closed_ = true;
    return Write::Failed;
  }
  work_->kept.bytes_out += static_cast<uint64_t>(queued);
  resume_wanted_ = true;
  return Write::Ok;
}

Engine::Write Engine::kept_switch(Response &resp) {
  if (!kept()) return Write::Invalid;
  KeptState &k = work_->kept;
  // A body still arriving would mix with the tunnel's bytes. A bodiless
  // request on a streaming route may still owe its handler the empty last:
  // the tunnel's stream replaces it.
  bool body_read = k.body_done || (k.bodiless && phase_ == Phase::StreamBody);
  if (k.begun || !k.upgrade || k.version_minor < 1 || !body_read) return Write::Invalid;
  resp.status = 101;
  ResponseFrame frame{ctx_.date.view(), 1, false, false, true};
  int64_t queued = serialize_stream_head(work_->out, resp, frame, StreamBody::None, 0);
  if (queued < 0) {
    closed_ = true;
    return Write::Failed;
  }
  k.status = 101;
  k.begun = true;
  k.close = true;
  k.head_only = false;
  k.stream = StreamBody::Close;  // raw bytes, no framing
  k.bytes_out += static_cast<uint64_t>(queued);
  k.body_chunked = false;
  k.body_done = false;  // now: the client's end of stream delivered
  phase_ = Phase::Tunnel;
  resume_wanted_ = true;  // delivers what is buffered
  return Write::Ok;
}

void Engine::kept_close_connection() {
  if (kept()) work_->kept.close = true;
}

void Engine::kept_cancel() {
  if (!kept()) return;
  KeptState &k = work_->kept;
  resume_wanted_ = true;
  if (k.begun) {
    k.close = true;
    end_kept(0);  // no last chunk: the close tells the client the body is cut
    return;
  }
  if (!detach_kept(AXLE_ABORT_ERROR, 500)) closed_ = true;
}

void Engine::kept_body_pause(bool paused) {
  if (!kept()) return;
  work_->kept.body_paused = paused;
  if (!paused) resume_wanted_ = true;
}

bool Engine::abort_for(uint8_t reason, uint16_t answer) {
  if (!kept()) return false;
  KeptRequest *request = work_->kept.request;
  bool answered = detach_kept(reason, answer);
  request->abort(reason);
  return answered;
}

bool Engine::detach_kept(uint8_t reason, uint16_t answer) {
  KeptState &k = work_->kept;
  k.request = nullptr;
  k.want_writable = false;
  const axle_request_head_t *head = k.log ? &k.log->head : nullptr;
  bool answered = answer && !k.begun && !output_in_flight();
  if (answered) {
    // The error answer is the request's record. A handler's own failure
    // leaves the connection usable; a timeout or a body left unread closes it.
    bool close = k.close || !k.body_done || reason != AXLE_ABORT_ERROR || ctx_.draining;
    answer_error(answer, head, k.bytes_in, k.route_id, 0, k.head_only, close, k.started_ns);
    if (close) stop_reading_requests();
    else if (phase_ == Phase::Waiting) phase_ = Phase::Head;
    resume_wanted_ = true;
  } else if (ctx_.observer) {
    // Cut short: what it had sent, or the cause (499: the client left first).
    uint16_t status = k.begun                                ? k.status
                      : reason == AXLE_ABORT_CLIENT_GONE ? 499
                      : reason == AXLE_ABORT_TIMEOUT     ? 504
                      : reason == AXLE_ABORT_DRAIN       ? 503
                                                         : 500;
    report(head, k.route_id, status, k.bytes_in, static_cast<int64_t>(k.bytes_out), k.started_ns, false);
  }
  delete k.log;
  k.log = nullptr;
  return answered;
}

void Engine::abort_kept(uint8_t reason) {
  if (!kept()) return;
  abort_for(reason);
  closed_ = true;
}

}  // namespace axle::http
