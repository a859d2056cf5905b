#include "http/engine.h"

#include "http/error_response.h"
#include "http/serializer.h"

#include <axle/metrics.h>
#include <axle/router.h>

#include <algorithm>
#include <cstring>

namespace axle::http {

namespace {
constexpr size_t kInitialInput = 4096;
constexpr size_t kSlackInput = 64 * 1024;  // room for chunk framing and the next pipelined request
}  // namespace

// A head whose body is still arriving, kept as offsets from the head's first
// byte: the input buffer may move while the body arrives, and the worker's
// header scratch is reused by other connections meanwhile.
struct Engine::StoredHead {
  struct Slice {
    uint32_t off, len;
  };
  HeadInfo info;
  size_t bytes;  // allocation size
  uint32_t head_len;
  uint32_t header_count;
  uint8_t version_major, version_minor;
  Slice method, target, path, query;
  Slice fields[];  // name, value per header
};

EngineContext::EngineContext(const Limits &limits, const Timeouts &timeouts, ParserRef parser, Memory &memory,
                             Budget &budget, Dispatcher &dispatcher, const HttpDate &date, uint64_t (*now_ms)(),
                             uint64_t (*now_ns)())
    : limits(limits),
      timeouts(timeouts),
      parser(parser),
      memory(memory),
      budget(budget),
      dispatcher(dispatcher),
      date(date),
      now_ms(now_ms),
      now_ns(now_ns),
      response(memory) {
  parse_limits = {sizeof(axle_parse_limits_t), limits.max_head_bytes, limits.max_target_bytes, limits.max_headers};
  headers.resize(limits.max_headers);
}

Engine::Engine(EngineContext &ctx, void *conn) : ctx_(ctx), conn_(conn), out_(ctx.memory) {
  set_deadline(ctx_.timeouts.header_ms, AXLE_TIMEOUT_HEADER);
}

Engine::~Engine() {
  out_.clear();
  buffer_release();
  if (stored_) ctx_.memory.free(stored_, stored_->bytes);
  stored_ = nullptr;
  account();
}

// ---- events ----

void Engine::receive(const char *data, size_t len) {
  // Lingering, or the last response is already decided: discard the rest.
  if (phase_ == Phase::Closing || final_ || closed_) return;
  if (in_len_ == 0 && phase_ == Phase::Head && !paused_) {
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
  if (err != 0 || phase_ == Phase::Closing) {
    if (err != 0 || out_.empty()) closed_ = true;
    account();
    return;
  }
  finish_if_done();
}

void Engine::output_done(int err) {
  out_.complete_in_flight();
  if (err != 0) {
    closed_ = true;
    account();
    return;
  }
  if (out_.empty()) {
    queued_responses_ = 0;
    if (final_) {
      if (peer_eof_) {
        closed_ = true;
      } else if (phase_ != Phase::Closing || !linger_) {
        // Lingering close: stop sending, read and drop what the client still
        // sends, so its unread bytes do not turn our close into a reset that
        // destroys the response in flight.
        linger_ = true;
        shutdown_wanted_ = true;
        phase_ = Phase::Closing;
        paused_ = false;
        buffer_release();
        set_deadline(kLingerMs, kTimeoutLinger);
      }
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
}

void Engine::tick(uint64_t now_ms) {
  if (!timeout_kind_ || closed_ || now_ms < deadline_ms_) return;
  uint8_t kind = timeout_kind_;
  timeout_kind_ = 0;
  if (kind != kTimeoutLinger && ctx_.observer) ctx_.observer->timeout(kind);
  // A client that started a request and stalled gets a 408 if nothing else
  // is being written; every other expiry closes quietly.
  bool stalled_request = (kind == AXLE_TIMEOUT_HEADER && in_len_ > 0) || kind == AXLE_TIMEOUT_BODY;
  if (stalled_request && !out_.in_flight() && !final_) {
    refusing_ = true;
    answer_error(408, nullptr, 0, AXLE_ROUTE_NONE, 0, false, true, ctx_.observer ? ctx_.now_ns() : 0);
    refusing_ = false;
    stop_reading_requests();
    return;
  }
  closed_ = true;
  account();
}

void Engine::drain(bool close_idle) {
  if (close_idle && idle()) closed_ = true;
}

// ---- actions ----

OutputRun Engine::take_output() {
  if (closed_) return {};
  OutputRun run = out_.next_run(ctx_.iov, EngineContext::kMaxIov);
  if (!run.empty()) set_deadline(ctx_.timeouts.write_ms, AXLE_TIMEOUT_WRITE);
  return run;
}

bool Engine::take_shutdown_write() {
  bool wanted = shutdown_wanted_;
  shutdown_wanted_ = false;
  return wanted;
}

bool Engine::idle() const { return phase_ == Phase::Head && in_len_ == 0 && out_.empty() && !final_ && !closed_; }

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
    size_t consumed = 0;
    axle_parse_result_t r =
        ctx_.parser.vt->parse_request(ctx_.parser.ctx, buf + pos, len - pos, &ctx_.parse_limits, &head, &consumed);
    if (r == AXLE_PARSE_INCOMPLETE) break;
    if (r == AXLE_PARSE_ERROR || consumed == 0 || consumed > len - pos) {
      reject(head.error_status ? head.error_status : 400, nullptr, len - pos);
      return len;
    }
    HeadInfo info = check_head(head, ctx_.limits.max_body_bytes);
    if (info.error_status) {
      reject(info.error_status, &head, consumed);
      return len;
    }
    size_t available = len - pos - consumed;
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
    if (!store_head(head, info, buf + pos, consumed)) {
      closed_ = true;
      return len;
    }
    phase_ = Phase::Body;
    if (info.body == BodyKind::Chunked) chunked_.start(consumed);
    if (info.expect_continue && available == 0 && !queue_continue(out_)) {
      closed_ = true;
      return len;
    }
    set_deadline(ctx_.timeouts.body_ms, AXLE_TIMEOUT_BODY);
    break;
  }
  return pos;
}

void Engine::run_buffered() {
  while (in_len_ > 0 && phase_ != Phase::Closing && !final_ && !paused_ && !closed_) {
    if (phase_ == Phase::Body) {
      if (!continue_body()) break;
      continue;
    }
    size_t used = process(in_, in_len_);
    if (phase_ == Phase::Closing || closed_) break;
    buffer_consume(used);
    if (used == 0 && phase_ == Phase::Head) break;  // an incomplete head, or paused
  }
}

bool Engine::continue_body() {
  const uint32_t head_len = stored_->head_len;
  size_t raw_end;
  uint64_t body_len;
  if (stored_->info.body == BodyKind::Length) {
    if (in_len_ - head_len < stored_->info.content_length) return false;
    body_len = stored_->info.content_length;
    raw_end = head_len + static_cast<size_t>(body_len);
  } else {
    switch (chunked_.decode(in_, &in_len_, ctx_.parser, ctx_.limits.max_body_bytes, ctx_.limits.max_head_bytes)) {
      case ChunkedDecoder::Result::NeedMore:
        return false;
      case ChunkedDecoder::Result::Malformed:
        reject(400, nullptr, 0);
        return false;
      case ChunkedDecoder::Result::TooLarge:
        reject(413, nullptr, 0);
        return false;
      case ChunkedDecoder::Result::Done:
        break;
    }
    body_len = chunked_.body_length();
    raw_end = chunked_.raw_end();
  }
  axle_request_head_t head{};
  HeadInfo info = restore_head(head);
  phase_ = Phase::Head;
  dispatch(head, info, {in_ + head_len, static_cast<size_t>(body_len)}, raw_end);
  buffer_consume(raw_end);
  return !closed_;
}

bool Engine::store_head(const axle_request_head_t &head, const HeadInfo &info, const char *base, size_t head_len) {
  size_t bytes = sizeof(StoredHead) + 2 * head.header_count * sizeof(StoredHead::Slice);
  auto *s = static_cast<StoredHead *>(ctx_.memory.alloc(bytes));
  if (!s) return false;
  auto slice = [base](axle_str_t v) {
    return StoredHead::Slice{v.len ? static_cast<uint32_t>(v.ptr - base) : 0, static_cast<uint32_t>(v.len)};
  };
  s->info = info;
  s->bytes = bytes;
  s->head_len = static_cast<uint32_t>(head_len);
  s->header_count = head.header_count;
  s->version_major = head.version_major;
  s->version_minor = head.version_minor;
  s->method = slice(head.method);
  s->target = slice(head.target);
  s->path = slice(head.path);
  s->query = slice(head.query);
  for (uint32_t i = 0; i < head.header_count; ++i) {
    s->fields[2 * i] = slice(head.headers[i].name);
    s->fields[2 * i + 1] = slice(head.headers[i].value);
  }
  stored_ = s;
  return true;
}

HeadInfo Engine::restore_head(axle_request_head_t &head) {
  const char *base = in_;
  auto str = [base](StoredHead::Slice s) { return axle_str_t{base + s.off, s.len}; };
  head.struct_size = sizeof head;
  head.method = str(stored_->method);
  head.target = str(stored_->target);
  head.path = str(stored_->path);
  head.query = str(stored_->query);
  head.version_major = stored_->version_major;
  head.version_minor = stored_->version_minor;
  head.headers = ctx_.headers.data();
  head.header_capacity = static_cast<uint32_t>(ctx_.headers.size());
  head.header_count = stored_->header_count;
  for (uint32_t i = 0; i < stored_->header_count; ++i)
    ctx_.headers[i] = {str(stored_->fields[2 * i]), str(stored_->fields[2 * i + 1])};
  HeadInfo info = stored_->info;
  ctx_.memory.free(stored_, stored_->bytes);
  stored_ = nullptr;
  return info;
}

// ---- answers ----

void Engine::dispatch(const axle_request_head_t &head, const HeadInfo &info, std::string_view body,
                      size_t bytes_in) {
  uint64_t started_ns = ctx_.observer ? ctx_.now_ns() : 0;
  const bool close = !info.keep_alive || ctx_.draining;
  Response &resp = ctx_.response;
  DispatchResult r = ctx_.dispatcher.dispatch(head, body, resp);
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
  ResponseFrame frame{ctx_.date.view(), head.version_minor, close, info.head_method};
  int64_t queued = serialize_response(out_, resp, frame);
  ++queued_responses_;
  if (close) final_ = true;
  if (queued < 0) {
    closed_ = true;  // out of memory: nothing sensible can be sent
    return;
  }
  report(&head, r.route_id, status, bytes_in, queued, started_ns);
}

void Engine::answer_error(uint16_t status, const axle_request_head_t *head, size_t bytes_in, uint32_t route_id,
                          uint32_t allow, bool head_only, bool close, uint64_t started_ns) {
  ErrorFrame frame{ctx_.date.view(), close, head_only, allow, status == 503 ? 1u : 0u};
  int64_t queued = queue_error_response(out_, status, frame);
  ++queued_responses_;
  if (close) final_ = true;
  if (queued < 0) {
    closed_ = true;
    return;
  }
  report(head, route_id, status, bytes_in, queued, started_ns);
}

void Engine::reject(uint16_t status, const axle_request_head_t *head, size_t bytes_in) {
  if (ctx_.observer) ctx_.observer->parse_error(status);
  refusing_ = true;
  answer_error(status, head, bytes_in, AXLE_ROUTE_NONE, 0, false, true, ctx_.observer ? ctx_.now_ns() : 0);
  refusing_ = false;
  stop_reading_requests();
}

void Engine::stop_reading_requests() {
  phase_ = Phase::Closing;  // what still arrives is read and dropped
  paused_ = false;
  buffer_release();
  if (stored_) ctx_.memory.free(stored_, stored_->bytes);
  stored_ = nullptr;
  account();
}

void Engine::report(const axle_request_head_t *head, uint32_t route_id, uint16_t status, size_t bytes_in,
                    int64_t bytes_out, uint64_t started_ns) {
  if (!ctx_.observer) return;
  RequestRecord rec{head, route_id, status, bytes_in, static_cast<uint64_t>(bytes_out), started_ns, refusing_};
  ctx_.observer->request_done(conn_, rec);
}

// ---- flow control and deadlines ----

bool Engine::output_full() const {
  const Limits &lim = ctx_.limits;
  if (out_.memory_bytes() >= lim.max_conn_output_bytes || out_.open_files() >= lim.max_conn_output_files ||
      queued_responses_ >= lim.max_pipelined)
    return true;
  // With the process budget spent, a connection that still holds output
  // waits for its client to read it before it takes more work; one that holds
  // none is still answered (its answer is bounded), so a fresh client is served.
  return out_.memory_bytes() > 0 && ctx_.budget.exhausted();
}

void Engine::finish_if_done() {
  // The peer sent all it will: once everything answerable is answered, close.
  if (peer_eof_ && !closed_ && out_.empty() && !paused_) closed_ = true;
}

void Engine::set_deadline(uint32_t ms, uint8_t kind) {
  timeout_kind_ = kind;
  deadline_ms_ = ctx_.now_ms() + ms;
}

void Engine::settle_deadline() {
  if (closed_ || linger_ || out_.in_flight() || !out_.empty()) return;  // the write deadline runs
  if (phase_ == Phase::Body) {
    if (timeout_kind_ != AXLE_TIMEOUT_BODY) set_deadline(ctx_.timeouts.body_ms, AXLE_TIMEOUT_BODY);
  } else if (in_len_ > 0) {
    if (timeout_kind_ != AXLE_TIMEOUT_HEADER) set_deadline(ctx_.timeouts.header_ms, AXLE_TIMEOUT_HEADER);
  } else if (timeout_kind_ != AXLE_TIMEOUT_IDLE) {
    set_deadline(ctx_.timeouts.idle_ms, AXLE_TIMEOUT_IDLE);
  }
}

// ---- input buffer (allocator memory; freed whenever it empties) ----

bool Engine::buffer_append(const char *data, size_t len) {
  if (len == 0) return true;
  const Limits &lim = ctx_.limits;
  size_t hard_cap = size_t(lim.max_head_bytes) + lim.max_body_bytes + kSlackInput;
  size_t need = in_len_ + len;
  if (need > hard_cap) {
    // Paused, the excess is pipelined requests the client sent without
    // reading its answers: the server is busy for it, not the head too large.
    reject(phase_ == Phase::Body ? 413 : paused_ ? 503 : 431, nullptr, 0);
    return false;
  }
  if (need > in_cap_) {
    if (in_cap_ >= kInitialInput && ctx_.budget.exhausted()) {
      reject(503, nullptr, 0);
      return false;
    }
    size_t cap = in_cap_ ? in_cap_ : kInitialInput;
    while (cap < need) cap *= 2;
    cap = std::min(cap, hard_cap);
    char *bigger = static_cast<char *>(ctx_.memory.alloc(cap));
    if (!bigger) {
      closed_ = true;
      return false;
    }
    if (in_len_) std::memcpy(bigger, in_, in_len_);
    if (in_) ctx_.memory.free(in_, in_cap_);
    in_ = bigger;
    in_cap_ = cap;
  }
  std::memcpy(in_ + in_len_, data, len);
  in_len_ += len;
  return true;
}

void Engine::buffer_consume(size_t n) {
  if (n == 0) return;
  if (n >= in_len_) {
    buffer_release();
    return;
  }
  std::memmove(in_, in_ + n, in_len_ - n);
  in_len_ -= n;
}

void Engine::buffer_release() {
  if (in_) ctx_.memory.free(in_, in_cap_);
  in_ = nullptr;
  in_len_ = in_cap_ = 0;
}

void Engine::account() {
  uint64_t held = in_cap_ + out_.memory_bytes() + (stored_ ? stored_->bytes : 0);
  if (held == charged_) return;
  ctx_.budget.charge(static_cast<int64_t>(held) - static_cast<int64_t>(charged_));
  charged_ = held;
}

}  // namespace axle::http
