#include "http/engine.h"

#include "http/engine_work.h"

#include "http/error_response.h"
#include "http/framing.h"
#include "http/serializer.h"

#include <axle/handler.h>
#include <axle/metrics.h>
#include <axle/router.h>

#include <algorithm>
#include <cstring>

namespace axle::http {

namespace {
constexpr size_t kSlackInput = 64 * 1024;  // room for chunk framing and the next pipelined request
constexpr uint64_t kNoBodyLimit = ~uint64_t{0};
}  // namespace

Engine::Engine(EngineContext &ctx, void *conn) : ctx_(ctx), conn_(conn) {
  set_deadline(ctx_.timeouts.header_ms, AXLE_TIMEOUT_HEADER);
}

Engine::~Engine() {
  abort_kept(AXLE_ABORT_CLIENT_GONE);  // the glue aborts before closing; this is the backstop
  if (ctx_.observer) report_sent(true);  // likewise: the glue reports before closing
  free_work();
}

Engine::Work *Engine::ensure_work() {
  if (!work_) work_ = ctx_.take_work();
  return work_;
}

void Engine::free_work() {
  if (!work_) return;
  Work &w = *work_;
  if (!w.out.empty()) w.out.clear();
  if (w.in.capacity()) w.in.release();
  if (w.stored) StoredHead::destroy(ctx_.memory, w.stored);
  w.stored = nullptr;
  w.queued_responses = 0;
  w.reports_first = w.reports_used = 0;  // reported already (report_sent)
  delete w.kept.log;  // set only while a kept request is open; every dispatch sets the rest
  w.kept.log = nullptr;
  w.kept.request = nullptr;
  account();
  work_ = nullptr;
  ctx_.give_back(&w);
}

// ---- events ----

void Engine::receive(const char *data, size_t len) {
  // Lingering, or the last response is already decided: discard the rest.
  if (phase_ == Phase::Closing || final_ || closed_) return;
  if (phase_ == Phase::StreamBody || phase_ == Phase::Waiting) {
    // A kept request: its body goes to the handler; later requests wait.
    if (!buffer_append(data, len)) return;
    if (phase_ == Phase::StreamBody) deliver_body();
    settle_deadline();
    account();
    return;
  }
  if (phase_ == Phase::Tunnel) {
    if (!buffer_append(data, len)) return;
    deliver_tunnel();
    settle_deadline();
    account();
    return;
  }
  if (input_size() == 0 && phase_ == Phase::Head && !paused_) {
    // Fast path: parse straight from the io module's buffer, copy only a tail.
    size_t used = process(data, len);
    if (phase_ != Phase::Closing && !final_ && !closed_ && used < len && !buffer_append(data + used, len - used))
      return;
  } else if (!buffer_append(data, len)) {
    return;
  }
  run_buffered();
  finish_if_done();
  settle_deadline();
  account();
}

void Engine::peer_closed(int err) {
  peer_eof_ = true;
  if (kept() && err == 0 && (phase_ == Phase::Tunnel || (phase_ == Phase::Waiting && work_->kept.upgrade))) {
    // A half-close: a tunnel's handler hears it as last once the bytes
    // before it are delivered, and may still write; an Upgrade request not
    // yet answered may still switch (its tunnel then ends at once).
    if (phase_ == Phase::Tunnel) deliver_tunnel();
    settle_deadline();
    account();
    return;
  }
  if (kept()) {
    // The client left (or half-closed) while its handler works: nothing it
    // could still read is worth producing.
    abort_for(AXLE_ABORT_CLIENT_GONE);
    closed_ = true;
    account();
    return;
  }
  if (err != 0 || phase_ == Phase::Closing) {
    if (err != 0 || output_empty()) closed_ = true;
    account();
    return;
  }
  finish_if_done();
}

void Engine::output_done(int err) {
  if (file_run_ && err == 0 && run_bytes_ == file_step_) adapt_file_step();
  file_run_ = false;
  work_->out.complete_in_flight();
  // A failed run counts as unsent: the io module does not say how much of it went out.
  if (err == 0) sent_total_ += run_bytes_;
  run_bytes_ = 0;
  if (ctx_.observer) report_sent(false);
  if (err != 0) {
    abort_for(AXLE_ABORT_CLIENT_GONE);
    closed_ = true;
    account();
    return;
  }
  KeptState &k = work_->kept;
  if (k.request && k.want_writable && !output_full()) {
    k.want_writable = false;
    k.request->writable();  // may write, finish or pause: the state below is re-read
  }
  if (work_->out.empty()) {
    work_->queued_responses = 0;
    if (final_) {
      close_after_final();
      account();
      return;
    }
  }
  if (paused_ && !output_full()) {
    paused_ = false;
    run_buffered();
  }
  finish_if_done();
  settle_deadline();
  account();
  // Answered everything and holds nothing: give the work block back now, so
  // it is reused by the next request instead of idling with the connection.
  if (idle()) free_work();
}

// The last response went out whole: close, or linger if the peer still sends.
void Engine::close_after_final() {
  if (peer_eof_) {
    closed_ = true;
  } else if (!linger_) {
    // Lingering close: stop sending, read and drop what the client still
    // sends, so its unread bytes do not turn our close into a reset that
    // destroys the response in flight.
    linger_ = true;
    shutdown_wanted_ = true;
    phase_ = Phase::Closing;
    paused_ = false;
    work_->in.release();
    set_deadline(kLingerMs, kTimeoutLinger);
  }
}

void Engine::tick(uint64_t now_ms) {
  if (!timeout_kind_ || closed_ || now_ms < deadline_ms_) return;
  uint8_t kind = timeout_kind_;
  timeout_kind_ = 0;
  if (kind != kTimeoutLinger && kind != kTimeoutResponse && ctx_.observer) ctx_.observer->timeout(kind);
  if (kept()) {
    // A late handler gets 504 and a stalled streamed body 408, when nothing
    // of its response went out yet; otherwise the connection just closes.
    uint16_t answer = kind == kTimeoutResponse ? 504 : kind == AXLE_TIMEOUT_BODY ? 408 : 0;
    if (abort_for(AXLE_ABORT_TIMEOUT, answer)) return;
    closed_ = true;
    account();
    return;
  }
  // A client that started a request and stalled gets a 408 if nothing else
  // is being written; every other expiry closes quietly.
  bool stalled_request = (kind == AXLE_TIMEOUT_HEADER && input_size() > 0) || kind == AXLE_TIMEOUT_BODY;
  if (stalled_request && !output_in_flight() && !final_) {
    answer_error(408, nullptr, 0, AXLE_ROUTE_NONE, 0, false, true, ctx_.observer ? ctx_.now_ns() : 0, true);
    stop_reading_requests();
    return;
  }
  closed_ = true;
  account();
}

bool Engine::refuse_connection() {
  // No Date: a 5xx may go without one (RFC 9110 6.6.1), and this one is never formatted.
  static constexpr std::string_view kBusy =
      "HTTP/1.1 503 Service Unavailable\r\n"
      "Server: axle\r\n"
      "Retry-After: 1\r\n"
      "Content-Type: text/plain\r\n"
      "Content-Length: 28\r\n"
      "Connection: close\r\n"
      "\r\n"
      "too many connections, retry\n";
  static_assert(kBusy.size() - kBusy.find("\r\n\r\n") - 4 == 28);
  Work *w = ensure_work();
  if (!w || !w->out.append_lent(kBusy.data(), kBusy.size(), nullptr, nullptr)) return false;
  ++w->queued_responses;
  final_ = true;
  stop_reading_requests();  // what the client sends is read and dropped
  return true;
}

void Engine::drain(bool close_idle) {
  if (close_idle && idle()) closed_ = true;
}

// ---- actions ----

OutputRun Engine::take_output() {
  if (closed_ || !work_) return {};
  OutputRun run = work_->out.next_run(ctx_.iov, EngineContext::kMaxIov, file_step_);
  if (run.empty()) return run;
  // write_ms bounds a write that makes no progress: every run (a file goes
  // in steps of file_step_) re-arms it, so a slow but steady reader is never
  // cut off while one that stopped reading is.
  set_deadline(ctx_.timeouts.write_ms, AXLE_TIMEOUT_WRITE);
  file_run_ = run.file_fd >= 0;
  run_bytes_ = file_run_ ? run.file_length : 0;
  for (uint32_t i = 0; i < run.iov_count; ++i) run_bytes_ += run.iov[i].len;
  return run;
}

void Engine::adapt_file_step() {
  // The step was armed at deadline_ms_ - write_ms (take_output), unless
  // another deadline replaced it since: then there is nothing to learn.
  if (timeout_kind_ != AXLE_TIMEOUT_WRITE) return;
  uint64_t write_ms = ctx_.timeouts.write_ms, now_ms = ctx_.now_ms() + write_ms;
  uint64_t took_ms = now_ms > deadline_ms_ ? now_ms - deadline_ms_ : 0;
  if (took_ms * 8 <= write_ms) file_step_ = std::min(file_step_ * 2, OutQueue::kFileStepMax);
  else if (took_ms * 4 > write_ms) file_step_ = std::max(file_step_ / 2, OutQueue::kFileStepMin);
}

bool Engine::take_shutdown_write() {
  bool wanted = shutdown_wanted_;
  shutdown_wanted_ = false;
  return wanted;
}

void Engine::resume_work() {
  resume_wanted_ = false;
  if (closed_) return;
  if (phase_ == Phase::StreamBody) deliver_body();
  if (phase_ == Phase::Tunnel) deliver_tunnel();
  if (phase_ == Phase::Head && !paused_) run_buffered();
  // A closing kept response that ended without queueing a byte (its body
  // had already gone out: a Content-Length or close-delimited stream, a HEAD
  // or a 204) gets no output_done to close after it: close from here, or the
  // connection would stay open with no deadline (found by the engine fuzzer).
  if (final_ && work_ && work_->out.empty()) close_after_final();
  finish_if_done();
  settle_deadline();
  account();
  if (idle()) free_work();
}

// ---- parsing ----

size_t Engine::process(const char *buf, size_t len) {
  size_t pos = 0;
  while (pos < len && phase_ == Phase::Head && !final_ && !closed_) {
    if (output_full()) {
      // Enough answers wait for the client to read them: take no more work.
      paused_ = true;
      break;
    }
    axle_request_head_t head{};
    head.struct_size = sizeof head;
    head.headers = ctx_.headers.data();
    head.header_capacity = static_cast<uint32_t>(ctx_.headers.size());
    // With streaming routes the body limit is checked below (such a route has none).
    HeadStep step = frame_head(ctx_.parser, ctx_.parse_limits,
                               ctx_.stream_routes ? kNoBodyLimit : ctx_.limits.max_body_bytes, buf + pos, len - pos,
                               head);
    if (step.kind == HeadStep::Kind::Incomplete) break;
    if (step.kind == HeadStep::Kind::Refused) {
      reject(step.status, step.parsed ? &head : nullptr, step.parsed ? step.consumed : len - pos);
      return len;
    }
    const size_t consumed = step.consumed;
    const HeadInfo &info = step.info;
    size_t available = len - pos - consumed;
    if (ctx_.stream_routes && info.body != BodyKind::None && ctx_.dispatcher.streams_body(head)) {
      // The handler takes the body as it arrives: dispatch now, then feed it.
      start_stream_body(info, consumed);
      dispatch(head, info, {}, consumed, true);
      pos += consumed;
      break;
    }
    if (ctx_.stream_routes && info.body == BodyKind::Length && info.content_length > ctx_.limits.max_body_bytes) {
      reject(413, &head, consumed);
      return len;
    }
    if (info.body == BodyKind::None || (info.body == BodyKind::Length && available >= info.content_length)) {
      size_t body_len = info.body == BodyKind::None ? 0 : static_cast<size_t>(info.content_length);
      dispatch(head, info, {buf + pos + consumed, body_len}, consumed + body_len);
      pos += consumed + body_len;
      continue;
    }
    // The body is still arriving: the head stays at the start of the input
    // buffer (the caller consumes or copies from pos) and is kept as offsets.
    if (ctx_.budget.exhausted()) {
      // The process holds as much for its clients as it may: a body that
      // would have to be buffered is refused.
      reject(503, &head, consumed);
      return len;
    }
    Work *w = ensure_work();
    if (w) w->stored = StoredHead::store(ctx_.memory, head, info, buf + pos, consumed);
    if (!w || !w->stored) {
      closed_ = true;
      return len;
    }
    phase_ = Phase::Body;
    if (info.body == BodyKind::Chunked) w->chunked.start(consumed);
    if (info.expect_continue && available == 0 && !queue_continue(w->out)) {
      closed_ = true;
      return len;
    }
    set_deadline(ctx_.timeouts.body_ms, AXLE_TIMEOUT_BODY);
    break;
  }
  return pos;
}

void Engine::run_buffered() {
  while (input_size() > 0 && phase_ != Phase::Closing && !final_ && !paused_ && !closed_) {
    if (phase_ == Phase::Waiting) break;  // a kept request answers first
    if (phase_ == Phase::Tunnel) {
      deliver_tunnel();
      break;
    }
    if (phase_ == Phase::StreamBody) {
      deliver_body();
      break;
    }
    if (phase_ == Phase::Body) {
      if (!continue_body()) break;
      continue;
    }
    size_t used = process(work_->in.data(), work_->in.size());
    if (phase_ == Phase::Closing || closed_) break;
    work_->in.consume(used);
    if (phase_ == Phase::StreamBody || phase_ == Phase::Waiting || phase_ == Phase::Tunnel) continue;
    if (used == 0 && phase_ == Phase::Head) break;  // an incomplete head, or paused
  }
}

bool Engine::continue_body() {
  Work &w = *work_;  // a body is arriving, so there is work
  BodyStep step = frame_body(w.in, *w.stored, w.chunked, ctx_.parser, ctx_.limits.max_body_bytes,
                             ctx_.limits.max_head_bytes);
  if (step.kind == BodyStep::Kind::NeedMore) return false;
  if (step.kind == BodyStep::Kind::Refused) {
    reject(step.status, nullptr, 0);
    return false;
  }
  const HeadInfo info = w.stored->info();
  const uint32_t head_len = w.stored->head_len();
  axle_request_head_t head{};
  w.stored->restore(w.in.data(), ctx_.headers.data(), static_cast<uint32_t>(ctx_.headers.size()), head);
  StoredHead::destroy(ctx_.memory, w.stored);
  w.stored = nullptr;
  phase_ = Phase::Head;
  dispatch(head, info, {w.in.data() + head_len, static_cast<size_t>(step.length)}, step.raw_end);
  w.in.consume(step.raw_end);
  return !closed_;
}

// ---- answers ----

void Engine::dispatch(const axle_request_head_t &head, const HeadInfo &info, std::string_view body,
                      size_t bytes_in, bool stream_body) {
  uint64_t started_ns = ctx_.observer ? ctx_.now_ns() : 0;
  bool close = !info.keep_alive || ctx_.draining || reserve_;
  Work *w = ensure_work();
  if (!w) {
    closed_ = true;  // out of memory: nothing sensible can be sent
    return;
  }
  KeptState &k = w->kept;  // what keep() needs, should the handler keep the request
  k.version_minor = head.version_minor;
  k.head_only = info.head_method;
  k.close = close;
  k.started_ns = started_ns;
  k.bytes_in = bytes_in;
  k.upgrade = info.upgrade;
  k.bodiless = info.body == BodyKind::None;
  if (!stream_body) k.body_done = true;
  Response &resp = ctx_.response;
  dispatching_ = true;
  DispatchResult r = ctx_.dispatcher.dispatch({head, body, stream_body, *this}, resp);
  dispatching_ = false;
  if (r.kept && r.error_status && k.request) {
    // The handler kept the request and then failed: it is told, and the
    // client gets the error unless part of a response already went out.
    if (!abort_for(AXLE_ABORT_ERROR, 500)) closed_ = true;
    return;
  }
  if (r.kept) {
    if (!k.request) {  // answered before dispatch returned
      if (phase_ == Phase::StreamBody && !final_) stop_reading_requests();
      return;
    }
    if (ctx_.observer && !k.log) {
      k.log = new (std::nothrow) KeptLogCopy;
      if (k.log) k.log->copy_from(head);
    }
    // Delivers an empty last on resume, unless the handler already switched protocols.
    if (r.empty_stream && phase_ != Phase::Tunnel) start_stream_body(info, 0);
    if (phase_ == Phase::Head) phase_ = Phase::Waiting;
    if (phase_ == Phase::StreamBody) resume_wanted_ = true;
    if (phase_ == Phase::StreamBody && info.expect_continue && !k.begun && !queue_continue(w->out)) closed_ = true;
    // While output is queued its write deadline runs (settle_deadline arms
    // this one once it drained); replacing it would let a client that stopped
    // reading hold the connection for response_ms (found by the engine fuzzer).
    if (!k.begun && output_empty()) set_deadline(ctx_.timeouts.response_ms, kTimeoutResponse);
    return;
  }
  // A handler that answered at once left a streamed body unread: close after.
  if (stream_body && !r.kept) {
    close = true;
    phase_ = Phase::Head;
  }
  if (r.error_status == 400) {  // a path that does not decode: refused like a malformed head
    resp.reset();
    reject(400, &head, bytes_in);
    return;
  }
  if (r.error_status) {
    resp.reset();
    answer_error(r.error_status, &head, bytes_in, r.route_id, r.allow, info.head_method, close, started_ns);
    return;
  }
  uint16_t status = resp.status ? resp.status : 200;
  if (resp.close) close = true;
  ResponseFrame frame{ctx_.date.view(), head.version_minor, close, info.head_method};
  int64_t queued = serialize_response(w->out, resp, frame);
  ++w->queued_responses;
  if (close) final_ = true;
  if (queued < 0) {
    closed_ = true;  // out of memory: nothing sensible can be sent
    return;
  }
  report(&head, r.route_id, status, bytes_in, queued, started_ns, false);
}

void Engine::answer_error(uint16_t status, const axle_request_head_t *head, size_t bytes_in, uint32_t route_id,
                          Allow allow, bool head_only, bool close, uint64_t started_ns, bool refused) {
  ErrorFrame frame{ctx_.date.view(), close, head_only, allow, status == 503 ? 1u : 0u};
  Work *w = ensure_work();
  int64_t queued = w ? queue_error_response(w->out, status, frame) : -1;
  if (w) ++w->queued_responses;
  if (close) final_ = true;
  if (queued < 0) {
    closed_ = true;
    return;
  }
  report(head, route_id, status, bytes_in, queued, started_ns, refused);
}

void Engine::reject(uint16_t status, const axle_request_head_t *head, size_t bytes_in) {
  if (ctx_.observer) ctx_.observer->parse_error(status);
  answer_error(status, head, bytes_in, AXLE_ROUTE_NONE, 0, false, true, ctx_.observer ? ctx_.now_ns() : 0, true);
  stop_reading_requests();
}

void Engine::stop_reading_requests() {
  phase_ = Phase::Closing;  // what still arrives is read and dropped
  paused_ = false;
  if (work_) {
    work_->in.release();
    StoredHead::destroy(ctx_.memory, work_->stored);
    work_->stored = nullptr;
  }
  account();
}

// Called once the request's whole response is queued: it is reported when
// the output stream reaches its last byte (report_sent), with what was
// written. Without the memory to wait, it is reported now, as queued.
void Engine::report(const axle_request_head_t *head, uint32_t route_id, uint16_t status, size_t bytes_in,
                    int64_t bytes_out, uint64_t started_ns, bool refused) {
  if (!ctx_.observer) return;
  uint64_t queued = static_cast<uint64_t>(bytes_out);
  uint64_t end = sent_total_ + (work_ ? work_->out.pending_bytes() : 0);
  PendingReport *p = nullptr;
  if (work_) {
    Work &w = *work_;
    try {
      if (w.reports_used == w.reports.size()) w.reports.emplace_back();
      p = &w.reports[w.reports_used];
      if (!ctx_.observer_reads_head) head = nullptr;
      if (head) p->log.copy_from(*head);
    } catch (const std::bad_alloc &) {
      p = nullptr;
    }
  }
  if (!p) {
    RequestRecord rec{head, route_id, status, bytes_in, queued, queued, started_ns, refused};
    ctx_.observer->request_done(conn_, rec);
    return;
  }
  ++work_->reports_used;
  p->has_head = head != nullptr;
  p->refused = refused;
  p->status = status;
  p->route_id = route_id;
  p->bytes_in = bytes_in;
  p->started_ns = started_ns;
  p->end = end;
  p->start = end - std::min(end, queued);
  report_sent(false);
}

// Reports every pending request whose last byte is written; all of them
// (with what did go out) when the connection is ending.
void Engine::report_sent(bool ending) {
  if (!work_) return;
  Work &w = *work_;
  while (w.reports_first < w.reports_used) {
    PendingReport &p = w.reports[w.reports_first];
    if (!ending && sent_total_ < p.end) return;
    ++w.reports_first;
    uint64_t sent = sent_total_ > p.start ? std::min(sent_total_, p.end) - p.start : 0;
    RequestRecord rec{p.has_head ? &p.log.head : nullptr, p.route_id, p.status, p.bytes_in, sent,
                      p.end - p.start, p.started_ns, p.refused};
    ctx_.observer->request_done(conn_, rec);
  }
  w.reports_first = w.reports_used = 0;
}

void Engine::connection_ending() { report_sent(true); }

// ---- flow control and deadlines ----

bool Engine::output_full() const {
  if (!work_) return false;
  const Limits &lim = ctx_.limits;
  const OutQueue &out = work_->out;
  if (out.memory_bytes() >= lim.max_conn_output_bytes || out.open_files() >= lim.max_conn_output_files ||
      work_->queued_responses >= lim.max_pipelined)
    return true;
  // With the process budget spent, a connection that still holds output
  // waits for its client to read it before it takes more work; one that holds
  // none is still answered (its answer is bounded), so a fresh client is served.
  return out.memory_bytes() > 0 && ctx_.budget.exhausted();
}

void Engine::finish_if_done() {
  // The peer sent all it will: once everything answerable is answered, close
  // (a kept request still open here is a tunnel or an Upgrade not yet answered).
  if (peer_eof_ && !closed_ && !kept() && output_empty() && !paused_) closed_ = true;
}

void Engine::set_deadline(uint32_t ms, uint8_t kind) {
  timeout_kind_ = kind;
  deadline_ms_ = ctx_.now_ms() + ms;
}

void Engine::settle_deadline() {
  if (closed_ || linger_ || !output_empty()) return;  // the write deadline runs
  if (phase_ == Phase::Tunnel) {
    // A tunnel has no header or body to wait for: header_ms, body_ms and
    // response_ms no longer apply. idle_ms bounds a tunnel where nothing
    // moves either way, re-armed by every event; write_ms (above) one whose
    // client stopped reading.
    set_deadline(ctx_.timeouts.idle_ms, AXLE_TIMEOUT_IDLE);
    return;
  }
  if (phase_ == Phase::Waiting || phase_ == Phase::StreamBody) {
    const KeptState &k = work_->kept;
    if (phase_ == Phase::StreamBody && !k.body_paused) {
      if (timeout_kind_ != AXLE_TIMEOUT_BODY) set_deadline(ctx_.timeouts.body_ms, AXLE_TIMEOUT_BODY);
    } else if (!k.begun && k.request) {
      if (timeout_kind_ != kTimeoutResponse) set_deadline(ctx_.timeouts.response_ms, kTimeoutResponse);
    } else {
      timeout_kind_ = 0;  // a streaming response idles as long as its handler wants
    }
    return;
  }
  if (phase_ == Phase::Body) {
    if (timeout_kind_ != AXLE_TIMEOUT_BODY) set_deadline(ctx_.timeouts.body_ms, AXLE_TIMEOUT_BODY);
  } else if (input_size() > 0) {
    if (timeout_kind_ != AXLE_TIMEOUT_HEADER) set_deadline(ctx_.timeouts.header_ms, AXLE_TIMEOUT_HEADER);
  } else if (timeout_kind_ != AXLE_TIMEOUT_IDLE) {
    set_deadline(ctx_.timeouts.idle_ms, AXLE_TIMEOUT_IDLE);
  }
}

// ---- input ----

bool Engine::buffer_append(const char *data, size_t len) {
  const Limits &lim = ctx_.limits;
  Work *w = ensure_work();
  if (!w) {
    closed_ = true;
    return false;
  }
  InputBuffer &in = w->in;
  if (in.must_grow(len) && in.capacity() >= InputBuffer::kInitialBytes && ctx_.budget.exhausted()) {
    if (refuse_kept()) return false;
    reject(503, nullptr, 0);  // the process holds as much for its clients as it may
    return false;
  }
  const size_t cap =
      phase_ == Phase::Tunnel ? kTunnelInputBytes : size_t(lim.max_head_bytes) + lim.max_body_bytes + kSlackInput;
  switch (in.append(data, len, cap)) {
    case InputBuffer::Append::Ok:
      return true;
    case InputBuffer::Append::OverCap:
      if (refuse_kept()) return false;
      // Paused, the excess is pipelined requests the client sent without
      // reading its answers: the server is busy for it, not the head too large.
      reject(phase_ == Phase::Body ? 413 : paused_ ? 503 : 431, nullptr, 0);
      return false;
    case InputBuffer::Append::NoMemory:
      break;
  }
  closed_ = true;
  return false;
}

// Input a kept request cannot take: its handler is told, the connection closes
// (an error answer could not follow a response that may be half out).
bool Engine::refuse_kept() {
  if (!kept()) return false;
  abort_for(AXLE_ABORT_ERROR);
  closed_ = true;
  account();
  return true;
}

void Engine::account() {
  if (!work_) return;
  Work &w = *work_;
  uint64_t held = w.in.capacity() + w.out.memory_bytes() + (w.stored ? w.stored->bytes() : 0);
  if (held == w.charged) return;
  ctx_.budget.charge(static_cast<int64_t>(held) - static_cast<int64_t>(w.charged));
  w.charged = held;
}

uint64_t Engine::queued_output_bytes() const { return work_ ? work_->out.pending_bytes() : 0; }
uint32_t Engine::queued_files() const { return work_ ? work_->out.open_files() : 0; }

}  // namespace axle::http
