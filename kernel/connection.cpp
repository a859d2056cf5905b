#include "connection.h"

#include "access_log.h"
#include "char_class.h"
#include "http_status.h"
#include "request_path.h"
#include "worker.h"

#include <spdlog/spdlog.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>

namespace axle {
namespace {

using namespace std::string_view_literals;

constexpr uint32_t kLingerMs = 2000;          // discard input this long after a final error response
constexpr size_t kSmallBodyBytes = 1024;      // copied bodies up to this size share the head's block
constexpr size_t kChunkLineLimit = 4096;      // a chunk-size line longer than this is an attack
constexpr uint8_t kTimeoutLinger = 100;       // internal kind beside axle_timeout_kind_t

bool iequals(axle_str_t s, std::string_view lower) {
  if (s.len != lower.size()) return false;
  for (size_t i = 0; i < s.len; ++i) {
    char c = s.ptr[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    if (c != lower[i]) return false;
  }
  return true;
}

std::string_view trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

// Calls fn(token) for each comma-separated, trimmed, non-empty token.
template <class Fn>
void for_each_token(axle_str_t value, Fn fn) {
  std::string_view rest(value.ptr, value.len);
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view token = trim(rest.substr(0, comma));
    if (!token.empty()) fn(token);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
}

bool token_iequals(std::string_view token, std::string_view lower) {
  return iequals({token.data(), token.size()}, lower);
}

// Host = uri-host [ ":" port ] (RFC 9110 7.2): reg-name or IP-literal bytes only.
bool valid_host(axle_str_t v) {
  for (size_t i = 0; i < v.len; ++i)
    if (!kHostChar[static_cast<unsigned char>(v.ptr[i])]) return false;
  return true;
}

uint32_t method_bit(axle_str_t m) {
  std::string_view s(m.ptr, m.len);
  if (s == "GET") return AXLE_METHOD_GET;
  if (s == "HEAD") return AXLE_METHOD_HEAD;
  if (s == "POST") return AXLE_METHOD_POST;
  if (s == "PUT") return AXLE_METHOD_PUT;
  if (s == "DELETE") return AXLE_METHOD_DELETE;
  if (s == "PATCH") return AXLE_METHOD_PATCH;
  if (s == "OPTIONS") return AXLE_METHOD_OPTIONS;
  return AXLE_METHOD_OTHER;
}

void append_allow(std::string &out, uint32_t mask) {
  static constexpr std::pair<uint32_t, const char *> kNames[] = {
      {AXLE_METHOD_GET, "GET"},     {AXLE_METHOD_HEAD, "HEAD"},     {AXLE_METHOD_POST, "POST"},
      {AXLE_METHOD_PUT, "PUT"},     {AXLE_METHOD_DELETE, "DELETE"}, {AXLE_METHOD_PATCH, "PATCH"},
      {AXLE_METHOD_OPTIONS, "OPTIONS"}};
  if (mask & AXLE_METHOD_GET) mask |= AXLE_METHOD_HEAD;  // HEAD is served wherever GET is
  bool first = true;
  for (auto [bit, name] : kNames) {
    if (!(mask & bit)) continue;
    if (!first) out += ", "sv;
    out += name;
    first = false;
  }
}

void append_number(std::string &out, uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

}  // namespace

Connection::Connection(Worker &worker, void *io_conn, int fd) : worker_(worker), io_conn_(io_conn), fd_(fd), out_(worker) {
  set_deadline(worker_.gen.config.timeouts.header_ms, AXLE_TIMEOUT_HEADER);
}

Connection::~Connection() { buffer_release(); }

// ---- input buffer (allocator memory; freed whenever it empties) ----

bool Connection::buffer_append(const char *data, size_t len) {
  if (len == 0) return true;
  const Limits &lim = worker_.gen.config.limits;
  // Head + body + room for chunk framing and the next pipelined request.
  size_t hard_cap = size_t(lim.max_head_bytes) + lim.max_body_bytes + 64 * 1024;
  size_t need = in_len_ + len;
  if (need > hard_cap) return false;
  if (need > in_cap_) {
    size_t cap = in_cap_ ? in_cap_ : 4096;
    while (cap < need) cap *= 2;
    cap = std::min(cap, hard_cap);
    char *bigger = static_cast<char *>(worker_.alloc(cap));
    if (!bigger) return false;
    if (in_len_) std::memcpy(bigger, in_, in_len_);
    if (in_) worker_.free(in_, in_cap_);
    in_ = bigger;
    in_cap_ = cap;
  }
  std::memcpy(in_ + in_len_, data, len);
  in_len_ += len;
  return true;
}

void Connection::buffer_consume(size_t n) {
  if (n == 0) return;
  if (n >= in_len_) {
    buffer_release();
    return;
  }
  std::memmove(in_, in_ + n, in_len_ - n);
  in_len_ -= n;
}

void Connection::buffer_release() {
  if (in_) worker_.free(in_, in_cap_);
  in_ = nullptr;
  in_len_ = in_cap_ = 0;
}

// ---- io events ----

void Connection::on_data(const char *data, size_t len) {
  // Lingering, or the last response is already decided: discard the rest.
  if (phase_ == Phase::Closing || closing_ || close_after_write_) return;
  if (in_len_ == 0 && phase_ == Phase::Head) {
    // Fast path: parse straight from the io module's buffer, copy only a tail.
    size_t used = process(data, len);
    if (phase_ != Phase::Closing && used < len && !buffer_append(data + used, len - used)) {
      reject(phase_ == Phase::Body ? 413 : 431, nullptr, 0);
    }
  } else if (!buffer_append(data, len)) {
    reject(phase_ == Phase::Body ? 413 : 431, nullptr, 0);
  }
  while (in_len_ > 0 && phase_ != Phase::Closing && !close_after_write_ && !recv_paused_) {
    if (phase_ == Phase::Body) {
      if (!continue_body()) break;
      continue;
    }
    size_t used = process(in_, in_len_);
    if (phase_ == Phase::Closing) break;
    buffer_consume(used);
    if (used == 0 && phase_ == Phase::Head) break;  // incomplete head
  }
  flush();
}

void Connection::on_eof(int err) {
  peer_eof_ = true;
  if (err != 0 || phase_ == Phase::Closing || (!out_.in_flight() && out_.empty())) {
    close();
    return;
  }
  // Answer what was already received, then close.
  close_after_write_ = true;
}

void Connection::on_sent(int err) {
  out_.complete_in_flight();
  if (err != 0) {
    close();
    return;
  }
  if (!out_.empty()) {
    flush();
    return;
  }
  after_output_drained();
}

void Connection::after_output_drained() {
  queued_responses_ = 0;
  if (close_after_write_) {
    if (peer_eof_) {
      close();
      return;
    }
    // Lingering close: stop sending, read and drop what the client still
    // sends, so its unread bytes do not turn our close into a reset that
    // destroys the response in flight.
    ::shutdown(fd_, SHUT_WR);
    phase_ = Phase::Closing;
    buffer_release();
    set_deadline(kLingerMs, kTimeoutLinger);
    if (recv_paused_) {
      recv_paused_ = false;
      worker_.gen.io_vt->recv_resume(worker_.loop, io_conn_);
    }
    return;
  }
  if (recv_paused_) {
    recv_paused_ = false;
    worker_.gen.io_vt->recv_resume(worker_.loop, io_conn_);
  }
  // Pipelined requests that waited for room.
  if (in_len_ > 0) on_data(nullptr, 0);
  if (phase_ == Phase::Head && in_len_ == 0 && out_.empty())
    set_deadline(worker_.gen.config.timeouts.idle_ms, AXLE_TIMEOUT_IDLE);
}

void Connection::on_tick(uint64_t now_ms) {
  if (!timeout_kind_ || closing_ || now_ms < deadline_ms_) return;
  uint8_t kind = timeout_kind_;
  timeout_kind_ = 0;
  if (kind != kTimeoutLinger && worker_.gen.metrics_vt)
    worker_.gen.metrics_vt->timeout(worker_.metrics_ctx, static_cast<axle_timeout_kind_t>(kind));
  // A client that started a request and stalled gets a 408 if nothing else is
  // being written; every other expiry closes quietly.
  if ((kind == AXLE_TIMEOUT_HEADER && in_len_ > 0) || kind == AXLE_TIMEOUT_BODY) {
    if (!out_.in_flight()) {
      fail(408);
      return;
    }
  }
  close();
}

void Connection::begin_drain(bool close_idle) {
  if (close_idle && phase_ == Phase::Head && in_len_ == 0 && out_.empty()) {
    close();
    return;
  }
  // The next response carries Connection: close (dispatch sees draining);
  // responses already queued went out as keep-alive, so the client may send
  // once more and is answered, not cut off.
  keep_alive_ = false;
}

void Connection::close() {
  if (closing_) return;
  closing_ = true;
  timeout_kind_ = 0;
  worker_.gen.io_vt->close(worker_.loop, io_conn_);
}

// ---- parsing ----

size_t Connection::process(const char *buf, size_t len) {
  const Generation &gen = worker_.gen;
  size_t pos = 0;
  while (pos < len && phase_ == Phase::Head && !close_after_write_) {
    if (queued_responses_ >= gen.config.limits.max_pipelined) {
      // Enough answers waiting for the client to read: stop reading.
      if (!recv_paused_) {
        recv_paused_ = true;
        gen.io_vt->recv_pause(worker_.loop, io_conn_);
      }
      break;
    }
    axle_request_head_t head{};
    head.struct_size = sizeof head;
    head.headers = worker_.header_scratch.data();
    head.header_capacity = static_cast<uint32_t>(worker_.header_scratch.size());
    size_t consumed = 0;
    axle_parse_result_t r =
        gen.parser_vt->parse_request(worker_.parser_ctx, buf + pos, len - pos, &worker_.limits, &head, &consumed);
    if (r == AXLE_PARSE_INCOMPLETE) break;
    if (r == AXLE_PARSE_ERROR || consumed == 0) {
      uint16_t status = head.error_status ? head.error_status : 400;
      spdlog::debug("worker {}: rejecting request: {} ({})", worker_.index, status,
                    head.error_reason ? head.error_reason : "parse error");
      reject(status, consumed ? &head : nullptr, len - pos);
      return len;
    }
    if (uint16_t status = check_head(head)) {
      reject(status, &head, consumed);
      return len;
    }
    size_t available = len - pos - consumed;
    if (body_kind_ == BodyKind::None ||
        (body_kind_ == BodyKind::Length && available >= body_length_)) {
      size_t body_len = body_kind_ == BodyKind::None ? 0 : body_length_;
      dispatch(head, {buf + pos + consumed, body_len}, consumed + body_len);
      pos += consumed + body_len;
      continue;
    }
    // The body is still arriving: keep the head at the start of in_ and go on
    // from there (the caller copies or compacts the buffer first).
    phase_ = Phase::Body;
    head_len_ = consumed;
    chunk_scan_ = consumed;
    chunk_state_ = ChunkState::Size;
    chunk_left_ = 0;
    if (body_kind_ == BodyKind::Chunked) body_length_ = 0;
    if (expect_continue_ && available == 0) {
      out_.append_copy("HTTP/1.1 100 Continue\r\n\r\n");
    }
    set_deadline(gen.config.timeouts.body_ms, AXLE_TIMEOUT_BODY);
    break;
  }
  return pos;
}

uint16_t Connection::check_head(const axle_request_head_t &head) {
  const Limits &lim = worker_.gen.config.limits;
  if (head.version_major != 1) return 505;
  keep_alive_ = head.version_minor >= 1;
  expect_continue_ = false;
  body_kind_ = BodyKind::None;
  body_length_ = 0;
  bool have_length = false, have_te = false, chunked = false;
  uint32_t hosts = 0;
  for (uint32_t i = 0; i < head.header_count; ++i) {
    const axle_header_t &h = head.headers[i];
    switch (h.name.len) {
      case 4:
        if (iequals(h.name, "host")) {
          if (!valid_host(h.value)) return 400;
          ++hosts;
        }
        break;
      case 6:
        if (iequals(h.name, "expect")) {
          if (!iequals(h.value, "100-continue")) return 417;
          expect_continue_ = head.version_minor >= 1;
        }
        break;
      case 10:
        if (iequals(h.name, "connection")) {
          for_each_token(h.value, [&](std::string_view t) {
            if (token_iequals(t, "close")) keep_alive_ = false;
            else if (token_iequals(t, "keep-alive") && head.version_minor == 0) keep_alive_ = true;
          });
        }
        break;
      case 14:
        if (iequals(h.name, "content-length")) {
          // Every value (repeated fields or a list) must be the same number.
          bool bad = false;
          uint64_t value = 0;
          size_t count = 0;
          for_each_token(h.value, [&](std::string_view t) {
            uint64_t v = 0;
            auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
            if (ec != std::errc() || end != t.data() + t.size() || t.size() > 18) bad = true;
            if (count++ && v != value) bad = true;
            value = v;
          });
          if (bad || count == 0) return 400;
          if (have_length && value != body_length_) return 400;
          have_length = true;
          body_length_ = value;
        }
        break;
      case 17:
        if (iequals(h.name, "transfer-encoding")) {
          if (have_te) return 400;  // one field only: no split coding lists
          have_te = true;
          size_t codings = 0;
          bool unknown = false;
          for_each_token(h.value, [&](std::string_view t) {
            ++codings;
            if (!token_iequals(t, "chunked")) unknown = true;
          });
          if (codings == 0) return 400;
          if (unknown) return 501;
          if (codings != 1) return 400;  // "chunked, chunked"
          chunked = true;
        }
        break;
      default:
        break;
    }
  }
  // RFC 9112 6.1/6.3: both framings at once is how requests get smuggled.
  if (have_te && have_length) return 400;
  if (have_te && head.version_minor == 0) return 400;
  if (head.version_minor >= 1 && hosts != 1) return 400;
  if (hosts > 1) return 400;
  if (chunked) {
    body_kind_ = BodyKind::Chunked;
  } else if (have_length && body_length_ > 0) {
    if (body_length_ > lim.max_body_bytes) return 413;
    body_kind_ = BodyKind::Length;
  }
  if (body_kind_ == BodyKind::None) expect_continue_ = false;
  return 0;
}

bool Connection::continue_body() {
  const Generation &gen = worker_.gen;
  size_t raw_end;
  if (body_kind_ == BodyKind::Length) {
    if (in_len_ - head_len_ < body_length_) return false;
    raw_end = head_len_ + body_length_;
  } else {
    if (!decode_chunks()) return false;
    raw_end = chunk_scan_;
  }
  // The buffer may have moved since the head was parsed: parse it again for
  // fresh slices (once per request with a body).
  axle_request_head_t head{};
  head.struct_size = sizeof head;
  head.headers = worker_.header_scratch.data();
  head.header_capacity = static_cast<uint32_t>(worker_.header_scratch.size());
  size_t consumed = 0;
  if (gen.parser_vt->parse_request(worker_.parser_ctx, in_, head_len_, &worker_.limits, &head, &consumed) !=
          AXLE_PARSE_COMPLETE ||
      consumed != head_len_) {
    spdlog::error("worker {}: parser module '{}' gave a different result on the same head", worker_.index,
                  gen.parser.desc().name);
    fail(500);
    return false;
  }
  phase_ = Phase::Head;
  dispatch(head, {in_ + head_len_, static_cast<size_t>(body_length_)}, raw_end);
  buffer_consume(raw_end);
  body_kind_ = BodyKind::None;
  return phase_ != Phase::Closing;
}

bool Connection::decode_chunks() {
  const Generation &gen = worker_.gen;
  // Decoded bytes are moved down to follow the head, so the body ends up
  // contiguous at in_ + head_len_ and the framing bytes are overwritten.
  while (chunk_state_ != ChunkState::Done) {
    char *raw = in_ + chunk_scan_;
    size_t avail = in_len_ - chunk_scan_;
    size_t used = 0;
    switch (chunk_state_) {
      case ChunkState::Size: {
        uint64_t size = 0;
        axle_parse_result_t r = gen.parser_vt->parse_chunk_size(worker_.parser_ctx, raw, avail, &size, &used);
        if (r == AXLE_PARSE_INCOMPLETE) {
          if (avail > kChunkLineLimit) {
            reject(400, nullptr, 0);
            return false;
          }
          goto wait;
        }
        if (r == AXLE_PARSE_ERROR) {
          reject(400, nullptr, 0);
          return false;
        }
        chunk_scan_ += used;
        if (size == 0) {
          chunk_state_ = ChunkState::Trailers;
        } else {
          if (size > gen.config.limits.max_body_bytes - body_length_) {
            reject(413, nullptr, 0);
            return false;
          }
          chunk_left_ = size;
          chunk_state_ = ChunkState::Data;
        }
        break;
      }
      case ChunkState::Data: {
        size_t n = static_cast<size_t>(std::min<uint64_t>(avail, chunk_left_));
        if (n == 0) goto wait;
        std::memmove(in_ + head_len_ + body_length_, raw, n);
        body_length_ += n;
        chunk_scan_ += n;
        chunk_left_ -= n;
        if (chunk_left_ == 0) chunk_state_ = ChunkState::DataEnd;
        break;
      }
      case ChunkState::DataEnd:
        if (avail < 2) goto wait;
        if (raw[0] != '\r' || raw[1] != '\n') {
          reject(400, nullptr, 0);
          return false;
        }
        chunk_scan_ += 2;
        chunk_state_ = ChunkState::Size;
        break;
      case ChunkState::Trailers: {
        axle_parse_result_t r =
            gen.parser_vt->parse_trailers(worker_.parser_ctx, raw, avail, gen.config.limits.max_head_bytes, &used);
        if (r == AXLE_PARSE_INCOMPLETE) goto wait;
        if (r == AXLE_PARSE_ERROR) {
          reject(400, nullptr, 0);
          return false;
        }
        chunk_scan_ += used;
        chunk_state_ = ChunkState::Done;
        break;
      }
      case ChunkState::Done:
        break;
    }
  }
  return true;
wait:
  // Drop the framing already decoded so the buffer holds head + body + the
  // undecoded rest, never more.
  size_t body_end = head_len_ + body_length_;
  if (chunk_scan_ > body_end) {
    std::memmove(in_ + body_end, in_ + chunk_scan_, in_len_ - chunk_scan_);
    in_len_ -= chunk_scan_ - body_end;
    chunk_scan_ = body_end;
  }
  return false;
}

// ---- dispatch and responses ----

void Connection::dispatch(const axle_request_head_t &head, std::string_view body, size_t bytes_in) {
  const Generation &gen = worker_.gen;
  uint64_t started_ns = gen.metrics_vt || gen.access_log ? host_api()->now_ns() : 0;
  if (worker_.draining) keep_alive_ = false;
  std::string &path = worker_.path_scratch;
  if (!normalize_request_path({head.path.ptr, head.path.len}, path)) {
    reject(400, &head, bytes_in);
    return;
  }
  uint32_t method = method_bit(head.method);
  bool head_request = method == AXLE_METHOD_HEAD;
  axle_route_match_t match{};
  match.struct_size = sizeof match;
  match.params = worker_.params;
  match.param_capacity = Worker::kMaxParams;
  axle_str_t path_str{path.data(), path.size()};
  axle_route_result_t found = gen.router_vt->match(gen.router_table, method, path_str, &match);
  if (found == AXLE_ROUTE_METHOD_NOT_ALLOWED && head_request && (match.allowed_methods & AXLE_METHOD_GET)) {
    match.param_count = 0;
    found = gen.router_vt->match(gen.router_table, AXLE_METHOD_GET, path_str, &match);
  }
  worker_.head_request = head_request;
  worker_.version_minor = head.version_minor;
  if (found == AXLE_ROUTE_NOT_FOUND) {
    size_t out = queue_error(404, !keep_alive_);
    finish_request(&head, AXLE_ROUTE_NONE, 404, bytes_in, out, started_ns);
    return;
  }
  if (found == AXLE_ROUTE_METHOD_NOT_ALLOWED) {
    std::string allow;
    append_allow(allow, match.allowed_methods);
    size_t out = queue_error(405, !keep_alive_, allow);
    finish_request(&head, AXLE_ROUTE_NONE, 405, bytes_in, out, started_ns);
    return;
  }
  const RouteEntry &route = gen.routes[match.route_id];
  Response &resp = worker_.response;
  resp.reset();
  axle_status_t status;
  if (!route.handler) {
    status = gen.metrics_vt->render(gen.metrics.instance, &resp);
  } else {
    axle_request_t req{};
    req.struct_size = sizeof req;
    req.method = head.method;
    req.method_bit = method;
    req.target = head.target;
    req.path = path_str;
    req.query = head.query;
    req.version_minor = head.version_minor;
    req.headers = head.headers;
    req.header_count = head.header_count;
    req.params = match.params;
    req.param_count = match.param_count;
    req.body = {body.data(), body.size()};
    req.worker = &worker_;
    status = route.handler->handle(route.route_state, worker_.handler_ctx[route.handler_slot], &req, &resp);
  }
  if (status != AXLE_OK) {
    spdlog::error("worker {}: handler '{}' for route {} failed with status {}", worker_.index, route.handler_name,
                  route.pattern, static_cast<int>(status));
    resp.reset();
    size_t out = queue_error(500, !keep_alive_);
    finish_request(&head, match.route_id, 500, bytes_in, out, started_ns);
    return;
  }
  queue_response(head, match.route_id, started_ns, bytes_in);
}

void Connection::queue_response(const axle_request_head_t &head, uint32_t route_id, uint64_t started_ns,
                                size_t bytes_in) {
  Response &resp = worker_.response;
  const bool closing = !keep_alive_;
  const bool head_only = worker_.head_request;
  uint16_t status = resp.status ? resp.status : 200;
  size_t bytes_out = 0;
  bool ok = true;

  if (resp.body == Response::Body::Prebuilt) {
    std::string_view wire(resp.data, resp.len);
    size_t head_len = resp.prebuilt_head_len;
    axle_release_fn release = resp.release;
    void *arg = resp.release_arg;
    resp.body = Response::Body::None;  // the queue owns the lend now
    resp.release = nullptr;
    if (!closing && !head_only) {
      ok = out_.append_lent(wire.data(), wire.size(), release, arg);
      bytes_out = wire.size();
    } else {
      // Splice "Connection: close" in before the blank line; keep the body
      // lent. The last segment carries the release (append_lent runs it
      // itself if it fails), so it runs once the whole image is sent.
      ok = out_.append_lent(wire.data(), head_len - 2, nullptr, nullptr);
      if (closing) ok = ok && out_.append_copy("Connection: close\r\n");
      ok = ok && out_.append_copy("\r\n");
      bytes_out = head_len + (closing ? 19 : 0);
      size_t body_len = head_only ? 0 : wire.size() - head_len;
      if (ok) ok = out_.append_lent(wire.data() + head_len, body_len, release, arg);
      else if (release) release(arg);
      bytes_out += body_len;
    }
  } else {
    const bool no_body = status < 200 || status == 204 || status == 304;
    uint64_t body_len = 0;
    if (resp.body == Response::Body::File) body_len = resp.file_length;
    else if (resp.body != Response::Body::None) body_len = resp.len;
    std::string &h = worker_.head_scratch;
    h.clear();
    h += "HTTP/1.1 "sv;
    append_number(h, status);
    h += ' ';
    h += reason_phrase(status);
    h += "\r\nServer: axle\r\nDate: "sv;
    h += worker_.date.view();
    h += "\r\n"sv;
    h += resp.header_lines;
    if (!no_body) {
      h += "Content-Length: "sv;
      append_number(h, body_len);
      h += "\r\n"sv;
    }
    if (closing) h += "Connection: close\r\n"sv;
    else if (head.version_minor == 0) h += "Connection: keep-alive\r\n"sv;
    h += "\r\n"sv;
    bytes_out = h.size();
    bool send_body = !head_only && !no_body && body_len > 0;
    if (send_body && resp.body == Response::Body::Owned && resp.len <= kSmallBodyBytes) {
      h.append(resp.data, resp.len);  // one copy into the head's block, one iovec
      bytes_out += resp.len;
      send_body = false;
    }
    ok = out_.append_copy(h);
    if (send_body) {
      bytes_out += body_len;
      switch (resp.body) {
        case Response::Body::Owned:
          ok = ok && out_.append_owned(resp.owned_block, resp.owned_size, resp.len);
          resp.owned_block = nullptr;
          break;
        case Response::Body::Lent:
          ok = ok && out_.append_lent(resp.data, resp.len, resp.release, resp.release_arg);
          resp.release = nullptr;
          break;
        case Response::Body::File:
          ok = ok && out_.append_file(resp.file_fd, resp.file_offset, resp.file_length);
          resp.file_fd = -1;
          break;
        default:
          break;
      }
      resp.body = Response::Body::None;
    }
  }
  resp.reset();
  ++queued_responses_;
  if (closing) close_after_write_ = true;
  if (!ok) {
    spdlog::error("worker {}: out of memory queueing a response; closing the connection", worker_.index);
    close();
    return;
  }
  finish_request(&head, route_id, status, bytes_in, bytes_out, started_ns);
}

void Connection::finish_request(const axle_request_head_t *head, uint32_t route_id, uint16_t status,
                                size_t bytes_in, size_t bytes_out, uint64_t started_ns) {
  const Generation &gen = worker_.gen;
  if (!gen.metrics_vt && !gen.access_log) return;
  uint64_t elapsed_ns = host_api()->now_ns() - started_ns;
  if (gen.metrics_vt) {
    axle_request_record_t rec{sizeof rec, route_id, status, elapsed_ns, bytes_in, bytes_out};
    gen.metrics_vt->request_done(worker_.metrics_ctx, &rec);
  }
  if (gen.access_log) {
    std::string &line = worker_.log_scratch;
    line.clear();
    append_peer_address(line);
    line += " - - ["sv;
    line += worker_.date.clf_view();
    line += "] \""sv;
    if (head) {
      append_log_escaped(line, {head->method.ptr, head->method.len});
      line += ' ';
      append_log_escaped(line, {head->target.ptr, head->target.len});
      line += head->version_minor == 0 ? " HTTP/1.0" : " HTTP/1.1";
    } else {
      line += '-';
    }
    line += "\" "sv;
    append_number(line, status);
    line += ' ';
    append_number(line, bytes_out);
    for (const char *name : {"referer", "user-agent"}) {
      line += " \""sv;
      const axle_header_t *h = nullptr;
      for (uint32_t i = 0; head && i < head->header_count && !h; ++i)
        if (iequals(head->headers[i].name, name)) h = &head->headers[i];
      if (h) append_log_escaped(line, {h->value.ptr, h->value.len});
      else line += '-';
      line += '"';
    }
    char seconds[32];
    auto n = std::snprintf(seconds, sizeof seconds, " %.6f", double(elapsed_ns) / 1e9);
    line.append(seconds, static_cast<size_t>(n));
    gen.access_log->write(line);
  }
}

void Connection::reject(uint16_t status, const axle_request_head_t *head, size_t bytes_in) {
  const Generation &gen = worker_.gen;
  if (gen.metrics_vt) gen.metrics_vt->parse_error(worker_.metrics_ctx, status);
  uint64_t started_ns = gen.access_log ? host_api()->now_ns() : 0;
  worker_.head_request = false;
  size_t out = queue_error(status, true);
  if (gen.access_log) finish_request(head, AXLE_ROUTE_NONE, status, bytes_in, out, started_ns);
  phase_ = Phase::Closing;
  buffer_release();
  flush();
}

void Connection::append_peer_address(std::string &out) const {
  char text[INET6_ADDRSTRLEN] = "-";
  if (peer_.v4.sin_family == AF_INET) ::inet_ntop(AF_INET, &peer_.v4.sin_addr, text, sizeof text);
  else if (peer_.v6.sin6_family == AF_INET6) ::inet_ntop(AF_INET6, &peer_.v6.sin6_addr, text, sizeof text);
  out += text;
}

void Connection::remember_peer() {
  socklen_t len = sizeof peer_;
  if (::getpeername(fd_, reinterpret_cast<sockaddr *>(&peer_), &len) != 0) peer_.v4.sin_family = AF_UNSPEC;
}

size_t Connection::queue_error(uint16_t status, bool close_after, std::string_view allow) {
  std::string &h = worker_.head_scratch;
  std::string_view reason = reason_phrase(status);
  h.clear();
  h += "HTTP/1.1 "sv;
  append_number(h, status);
  h += ' ';
  h += reason;
  h += "\r\nServer: axle\r\nDate: "sv;
  h += worker_.date.view();
  h += "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "sv;
  append_number(h, reason.size() + 5);  // "404 " + reason + "\n"
  h += "\r\n"sv;
  if (!allow.empty()) {
    h += "Allow: "sv;
    h += allow;
    h += "\r\n"sv;
  }
  if (close_after) h += "Connection: close\r\n"sv;
  h += "\r\n"sv;
  if (!worker_.head_request) {
    append_number(h, status);
    h += ' ';
    h += reason;
    h += '\n';
  }
  if (!out_.append_copy(h)) {
    close();
    return 0;
  }
  ++queued_responses_;
  if (close_after) close_after_write_ = true;
  return h.size();
}

void Connection::fail(uint16_t status) {
  worker_.head_request = false;
  queue_error(status, true);
  phase_ = Phase::Closing;  // read nothing more as requests
  buffer_release();
  flush();
}

void Connection::flush() {
  if (closing_) return;
  if (!out_.in_flight() && !out_.empty()) {
    if (!out_.flush(worker_.gen.io_vt, worker_.loop, io_conn_)) {
      close();
      return;
    }
    set_deadline(worker_.gen.config.timeouts.write_ms, AXLE_TIMEOUT_WRITE);
    return;
  }
  if (out_.in_flight() || !out_.empty()) return;
  // Nothing to write: the input side decides the next deadline.
  if (phase_ == Phase::Head) {
    if (in_len_ > 0) {
      if (timeout_kind_ != AXLE_TIMEOUT_HEADER) set_deadline(worker_.gen.config.timeouts.header_ms, AXLE_TIMEOUT_HEADER);
    } else if (timeout_kind_ != AXLE_TIMEOUT_IDLE) {
      set_deadline(worker_.gen.config.timeouts.idle_ms, AXLE_TIMEOUT_IDLE);
    }
  }
}

void Connection::set_deadline(uint32_t ms, uint8_t kind) {
  timeout_kind_ = kind;
  deadline_ms_ = coarse_now_ms() + ms;
}

}  // namespace axle
