#include "proxy_request.h"

#include "rewrite.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

namespace axle::proxy {

namespace {

std::string_view view(axle_str_t s) { return s.len ? std::string_view(s.ptr, s.len) : std::string_view(); }
axle_str_t str(std::string_view s) { return {s.data(), s.size()}; }

bool is_idempotent(std::string_view m) {
  for (std::string_view i : {"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
    if (m == i) return true;
  return false;
}

// Fields the host writes itself or that describe only the upstream hop.
bool dropped_response_field(std::string_view name, std::string_view connection, bool keep_upgrade) {
  for (std::string_view own : {"date", "server", "content-length", "transfer-encoding", "connection"})
    if (iequals(name, own)) return true;
  return is_hop_by_hop(name, connection, keep_upgrade);
}

using Fields = std::vector<std::pair<std::string, std::string>>;

// Calls fn(name, value) for each field to hand the host. Several Connection
// lines are joined; the usual one or none costs no allocation.
template <class Fn>
void each_forwardable(const Fields &fields, bool keep_upgrade, Fn fn) {
  std::string_view connection;
  std::string joined;
  for (const auto &[n, v] : fields) {
    if (!iequals(n, "connection")) continue;
    if (!connection.empty()) joined.append(joined.empty() ? connection : "").append(",").append(v);
    connection = joined.empty() ? std::string_view(v) : std::string_view(joined);
  }
  for (const auto &[n, v] : fields)
    if (!dropped_response_field(n, connection, keep_upgrade)) fn(str(n), str(v));
}

// The same as an array, for the calls that take one (early hints, trailers).
std::vector<axle_header_t> forwardable(const Fields &fields, bool keep_upgrade) {
  std::vector<axle_header_t> out;
  if (fields.empty()) return out;
  out.reserve(fields.size());
  each_forwardable(fields, keep_upgrade, [&](axle_str_t n, axle_str_t v) { out.push_back({n, v}); });
  return out;
}

}  // namespace

const axle_response_hooks_t ProxyRequest::hooks = {
    .struct_size = sizeof(axle_response_hooks_t),
    .on_abort = on_abort,
    .on_writable = on_writable,
    .on_body = on_body,
};

ProxyRequest::ProxyRequest(const Route &route, WorkerContext &ctx, UpstreamState &up)
    : route_(route), ctx_(ctx), up_(up), api_(ctx.api()) {}

ProxyRequest::~ProxyRequest() = default;

axle_status_t ProxyRequest::start(const Route &route, WorkerContext &ctx, const axle_request_t *req,
                                  axle_response_t *resp) {
  const axle_host_api_t *api = ctx.api();
  const RouteSettings &rs = route.settings;
  bump(api, route.instance->metrics.requests);
  auto *p = new (std::nothrow) ProxyRequest(route, ctx, ctx.upstream(rs.upstream));
  if (!p) return AXLE_ERR_NOMEM;
  try {
    std::string_view method = view(req->method);
    p->idempotent_ = is_idempotent(method);
    p->head_request_ = method == "HEAD";
    const uint32_t flags = AXLE_STRUCT_HAS(req, axle_request_t, flags) ? req->flags : 0;

    bool connection_upgrade = false;
    for (uint32_t i = 0; i < req->header_count; ++i)
      if (iequals(view(req->headers[i].name), "connection") && has_token(view(req->headers[i].value), "upgrade"))
        connection_upgrade = true;
    p->upgrade_ = connection_upgrade && axle_request_find_header(req, "upgrade", 7) && req->version_minor == 1 &&
                  AXLE_STRUCT_HAS(api, axle_host_api_t, response_switch_protocols) && api->response_switch_protocols;

    const axle_header_t *cl = axle_request_find_header(req, "content-length", 14);
    const axle_header_t *te = axle_request_find_header(req, "transfer-encoding", 17);
    p->body_streamed_ = (flags & AXLE_REQUEST_BODY_STREAM) && (cl || te) && !p->upgrade_;
    ForwardInfo fi;
    if (p->body_streamed_) {
      // The host checked the framing: a Content-Length it accepted is digits.
      fi.framing = te ? BodyFraming::chunked : BodyFraming::length;
      if (!te) fi.content_length = std::strtoull(std::string(view(cl->value)).c_str(), nullptr, 10);
      p->body_done_ = false;
    } else if (!(flags & AXLE_REQUEST_BODY_STREAM) && (req->body.len || cl || te)) {
      fi.framing = BodyFraming::length;
      fi.content_length = req->body.len;
    }
    p->framing_ = fi.framing;

    if (p->up_.cfg.policy == Policy::hash) {
      const std::string &h = p->up_.cfg.hash_header;
      if (h.empty()) {
        p->hash_key_ = std::string(view(req->path));
      } else if (const axle_header_t *hv = axle_request_find_header(req, h.data(), h.size())) {
        p->hash_key_ = std::string(view(hv->value));
      }
    }

    axle_address_t peer{};
    peer.struct_size = sizeof peer;
    std::string ip;
    if (api->request_address(resp, AXLE_CONN_PEER, &peer) == AXLE_OK) ip = format_ip(peer);
    fi.client_ip = ip;
    fi.secure = (flags & AXLE_REQUEST_SECURE) != 0;
    fi.host_override = rs.host_header;
    fi.request_id = AXLE_STRUCT_HAS(req, axle_request_t, request_id) ? req->request_id : 0;
    fi.upgrade = p->upgrade_;
    std::string target = rewrite_target(view(req->target), view(req->path), view(req->query), rs.prefix, rs.rewrite);
    append_request_head(p->out_, method, target, std::span(req->headers, req->header_count), fi);
    if (fi.framing == BodyFraming::length && !p->body_streamed_ && req->body.len)
      p->frame_body(req->body.ptr, req->body.len, true);
  } catch (const std::bad_alloc &) {
    delete p;
    return AXLE_ERR_NOMEM;
  }

  p->resp_ = api->response_keep(resp, &hooks, p);
  if (!p->resp_) {
    delete p;
    return AXLE_ERR_INTERNAL;
  }
  uint64_t now = ctx.now_ms();
  p->up_.budget.request(now);
  p->last_activity_ms_ = now;
  p->attempt();  // may already have answered (and freed p)
  return AXLE_PENDING;
}

// ---- attempts ----

bool ProxyRequest::attempt() {
  const bool fresh = fresh_only_;
  fresh_only_ = false;
  uint64_t now = ctx_.now_ms();
  int s = fresh ? server_ : up_.balancer.pick(hash_key_, tried_, now);
  if (s < 0) {
    if (attempts_ == 0) return fail(Failure::no_server, 0, "no server available (all down or ejected)");
    return give_up(last_failure_);
  }
  if (!fresh) {
    tried_ |= uint64_t{1} << s;
    ++attempts_;
  }
  server_ = s;
  up_.balancer.started(s);
  attempt_open_ = true;
  parser_.emplace(head_request_);
  upstream_eof_ = false;  // a failed attempt's end of stream is not this one's
  eof_err_ = 0;
  if (ever_sent_) {
    // The whole request again: what went out (replay_) and what was queued.
    // retry_possible() made sure it is whole.
    replay_.append(out_);
    out_.swap(replay_);
    replay_.clear();
    out_sent_ = 0;
  }
  UpstreamConn *c = fresh ? nullptr : up_.pools[static_cast<size_t>(s)]->take();
  if (c) {
    c->set_owner(this);
    conn_ = c;
    conn_ready_ = true;
    arm(Timer::idle, route_.settings.idle_timeout_ms);
    return flush_upstream();
  }
  bump(api_, route_.instance->metrics.connects);
  c = UpstreamConn::open(api_, ctx_.worker(), up_.cfg.addresses[static_cast<size_t>(s)], static_cast<size_t>(s), this);
  if (!c) return fail(Failure::connect, 0, "connect refused at once");
  conn_ = c;
  conn_ready_ = false;
  arm(Timer::connect, route_.settings.connect_timeout_ms);
  return true;
}

void ProxyRequest::conn_connected(UpstreamConn &c, int err) {
  if (&c != conn_) return;
  if (err) {
    fail(Failure::connect, err, std::strerror(err));
    return;
  }
  conn_ready_ = true;
  last_activity_ms_ = ctx_.now_ms();
  arm(Timer::idle, route_.settings.idle_timeout_ms);
  flush_upstream();
}

// ---- toward the upstream ----

void ProxyRequest::retire_sent() {
  if (replayable_) {
    if (replay_.empty()) replay_.swap(out_);  // the usual case: the head alone, moved, not copied
    else replay_.append(out_);
  }
  out_.clear();
  out_sent_ = 0;
}

void ProxyRequest::frame_body(const char *data, size_t len, bool last) {
  if (out_sent_ == out_.size()) retire_sent();
  if (framing_ == BodyFraming::chunked) {
    if (len) {
      char size[24];
      int n = std::snprintf(size, sizeof size, "%zx\r\n", len);
      out_.append(size, static_cast<size_t>(n)).append(data, len).append("\r\n");
    }
    if (last) out_.append("0\r\n\r\n");
  } else {
    out_.append(data, len);
  }
  body_bytes_ += len;
  if (replayable_ && (tunnel_ || body_bytes_ > route_.settings.retry_body_bytes)) {
    replayable_ = false;
    std::string().swap(replay_);
  }
}

bool ProxyRequest::flush_upstream() {
  if (!conn_ready_) return true;
  while (out_sent_ < out_.size()) {
    size_t piece = std::min<size_t>(piece_max_, out_.size() - out_sent_);
    axle_status_t st = api_->outgoing_send(conn_->handle(), out_.data() + out_sent_, piece);
    if (st == AXLE_AGAIN) return true;  // conn_writable follows
    if (st == AXLE_ERR_INVALID && piece_max_ > 4096) {
      piece_max_ = 4096;  // the host's output bound is smaller than our piece
      continue;
    }
    if (st != AXLE_OK) return fail(Failure::reset, 0, "send failed");
    out_sent_ += piece;
    ever_sent_ = true;
    last_activity_ms_ = ctx_.now_ms();
  }
  retire_sent();
  if (body_paused_) {
    body_paused_ = false;
    api_->request_body_pause(resp_, 0);
  }
  if (shutdown_pending_) {
    shutdown_pending_ = false;
    api_->outgoing_shutdown_write(conn_->handle());
  }
  // All sent: from now on the server owes the response.
  if (body_done_ && !tunnel_ && parser_ && !parser_->started() && timer_kind_ != Timer::first_byte)
    arm(Timer::first_byte, route_.settings.first_byte_timeout_ms);
  return true;
}

void ProxyRequest::conn_writable(UpstreamConn &c) {
  if (&c == conn_) flush_upstream();
}

void ProxyRequest::on_body(void *arg, const char *data, size_t len, int last) {
  auto *p = static_cast<ProxyRequest *>(arg);
  p->last_activity_ms_ = p->ctx_.now_ms();
  if (p->tunnel_) {
    if (p->body_done_) return;
    p->frame_body(data, len, false);
    if (last) {
      p->body_done_ = true;
      p->shutdown_pending_ = true;
    }
  } else {
    if (!p->body_streamed_ || p->body_done_) return;
    p->frame_body(data, len, last != 0);
    if (last) p->body_done_ = true;
  }
  if (!p->flush_upstream()) return;
  if (!p->body_done_ && !p->body_paused_ && p->out_.size() - p->out_sent_ >= out_high) {
    p->body_paused_ = true;
    p->api_->request_body_pause(p->resp_, 1);
  }
}

// ---- from the upstream ----

void ProxyRequest::conn_data(UpstreamConn &c, const char *data, size_t len) {
  if (&c != conn_) return;
  last_activity_ms_ = ctx_.now_ms();
  if (timer_kind_ == Timer::first_byte) arm(Timer::idle, route_.settings.idle_timeout_ms);
  // Nothing arrives while bytes are held: the upstream is paused then, and the
  // host delivers nothing to a paused outgoing connection (it holds what an io
  // module hands over late, kernel/outgoing.cpp).
  std::string_view input(data, len);
  if (tunnel_) {
    Wrote w = write_client(input);
    if (w == Wrote::held) hold({});
    return;
  }
  process(input);
}

bool ProxyRequest::process(std::string_view input) {
  for (;;) {
    switch (parser_->next(input)) {
      case ResponseParser::Event::need_more:
        return true;
      case ResponseParser::Event::head:
        if (!on_head(input.size())) return false;
        if (tunnel_) return tunnel_start(input);
        break;
      case ResponseParser::Event::body:
        if (whole_) {
          // The whole body is in this input (on_head): one Content-Length response.
          if (api_->response_body_copy(resp_, parser_->body().data(), parser_->body().size()) != AXLE_OK)
            return fail(Failure::client, 0, "out of memory for the response body");
          break;
        }
        switch (write_client(parser_->body())) {
          case Wrote::ok: break;
          case Wrote::held: return hold(input);
          case Wrote::dead: return false;
        }
        break;
      case ResponseParser::Event::end:
        return response_done(!input.empty());
      case ResponseParser::Event::error:
        return fail(Failure::malformed, 0, "malformed response: " + parser_->error_text());
    }
  }
}

bool ProxyRequest::on_head(size_t input_left) {
  const ResponseHead &h = parser_->head();
  if (h.status == 101) {
    if (!upgrade_) return fail(Failure::malformed, 0, "101 Switching Protocols to a request that asked for none");
    tunnel_ = true;
    return true;
  }
  if (h.status < 200) {  // 100 and other interim answers are the proxy's business; 103 goes on
    if (++interim_ > max_interim) return fail(Failure::malformed, 0, "more than 16 interim (1xx) responses");
    if (h.status == 103 && !begun_) {
      std::vector<axle_header_t> fields = forwardable(h.headers, false);
      api_->response_early_hints(resp_, fields.data(), static_cast<uint32_t>(fields.size()));
    }
    return true;
  }
  const uint64_t now = ctx_.now_ms();
  if (h.status == 502 || h.status == 503) {
    if (retry_possible(Failure::status_5xx) && up_.budget.try_spend(now)) {
      retry_spent_ = true;
      fail(Failure::status_5xx, 0, "answered " + std::to_string(h.status));
      return false;  // the retry owns this object now: stop reading this input
    }
    up_.health.request_failed(static_cast<size_t>(server_), now);
  } else {
    up_.health.request_succeeded(static_cast<size_t>(server_));
  }
  api_->response_set_status(resp_, static_cast<uint16_t>(h.status));
  each_forwardable(h.headers, false, [&](axle_str_t n, axle_str_t v) { api_->response_add_header(resp_, n, v); });
  begun_ = true;
  // The body already in hand: no streaming, response_finish sends it in one go.
  whole_ = !head_request_ && !h.chunked && h.content_length >= 0 && h.status != 204 && h.status != 304 &&
           static_cast<uint64_t>(h.content_length) <= input_left;
  if (whole_) return true;
  int64_t length = h.chunked ? -1 : h.content_length;
  if (api_->response_begin(resp_, length) != AXLE_OK) {
    api_->response_cancel(resp_);
    resp_ = nullptr;
    return end();
  }
  return true;
}

ProxyRequest::Wrote ProxyRequest::write_client(std::string_view data) {
  while (!data.empty()) {
    size_t piece = std::min<size_t>(piece_max_, data.size());
    axle_status_t st = api_->response_write(resp_, data.data(), piece);
    if (st == AXLE_AGAIN) {
      body_held_.assign(data);
      return Wrote::held;
    }
    if (st == AXLE_ERR_INVALID && piece_max_ > 4096) {
      piece_max_ = 4096;
      continue;
    }
    if (st != AXLE_OK) {
      fail(Failure::client, 0, "writing to the client failed");
      return Wrote::dead;
    }
    data.remove_prefix(piece);
  }
  return Wrote::ok;
}

// The client is not taking bytes: keep the rest of this input and stop the
// upstream until on_writable. Holds at most one on_data's bytes.
bool ProxyRequest::hold(std::string_view rest) {
  client_held_.assign(rest);
  if (!upstream_paused_ && conn_) {
    upstream_paused_ = true;
    api_->outgoing_pause(conn_->handle(), 1);
  }
  return true;
}

void ProxyRequest::on_writable(void *arg) { static_cast<ProxyRequest *>(arg)->resume_client(); }

bool ProxyRequest::resume_client() {
  if (!body_held_.empty()) {
    std::string piece = std::move(body_held_);
    body_held_.clear();
    Wrote w = write_client(piece);
    if (w == Wrote::dead) return false;
    if (w == Wrote::held) return true;
  }
  std::string rest = std::move(client_held_);
  client_held_.clear();
  if (tunnel_) {
    Wrote w = write_client(rest);
    if (w == Wrote::dead) return false;
    if (w == Wrote::held) return true;
  } else if (!rest.empty()) {
    if (!process(rest)) return false;
    if (!body_held_.empty()) return true;  // held again
  }
  if (upstream_eof_) return upstream_ended();
  if (upstream_paused_ && conn_) {
    upstream_paused_ = false;
    api_->outgoing_pause(conn_->handle(), 0);
  }
  return true;
}

void ProxyRequest::conn_eof(UpstreamConn &c, int err) {
  if (&c != conn_) return;
  upstream_eof_ = true;
  eof_err_ = err;
  if (!body_held_.empty() || !client_held_.empty()) return;  // after the held bytes went out
  upstream_ended();
}

bool ProxyRequest::upstream_ended() {
  if (tunnel_) {
    release_conn(false);
    finish_client({});
    return end();
  }
  switch (parser_->on_eof()) {
    case ResponseParser::Event::end:
      return response_done(true);
    case ResponseParser::Event::need_more:
      return true;
    default:
      break;
  }
  if (!parser_->started())
    return fail(Failure::reset, eof_err_, eof_err_ ? std::strerror(eof_err_) : "closed before responding");
  return fail(Failure::malformed, eof_err_, parser_->error_text());
}

bool ProxyRequest::response_done(bool leftover) {
  const ResponseHead &h = parser_->head();
  bool reusable = !leftover && !h.close && !upstream_eof_ && body_done_ && out_sent_ == out_.size() && !upgrade_;
  attempt_over(true);
  release_conn(reusable);
  finish_client(parser_->trailers());
  return end();
}

bool ProxyRequest::tunnel_start(std::string_view rest) {
  const ResponseHead &h = parser_->head();
  up_.health.request_succeeded(static_cast<size_t>(server_));
  api_->response_set_status(resp_, 101);
  each_forwardable(h.headers, true, [&](axle_str_t n, axle_str_t v) { api_->response_add_header(resp_, n, v); });
  if (api_->response_switch_protocols(resp_) != AXLE_OK) {
    api_->response_cancel(resp_);
    resp_ = nullptr;
    return end();
  }
  begun_ = true;
  body_done_ = false;
  replayable_ = false;
  std::string().swap(replay_);
  if (rest.empty()) return true;
  Wrote w = write_client(rest);
  if (w == Wrote::held) return hold({});
  return w == Wrote::ok;
}

// ---- failures ----

bool ProxyRequest::retry_possible(Failure why) const {
  if (why != Failure::connect && why != Failure::connect_timeout && why != Failure::reset &&
      why != Failure::status_5xx)
    return false;
  if (begun_ || tunnel_) return false;
  if (ever_sent_ && (!idempotent_ || !replayable_)) return false;
  if (attempts_ > route_.settings.retries) return false;
  return std::popcount(tried_) < static_cast<int>(up_.cfg.servers.size());
}

bool ProxyRequest::fail(Failure why, int err, std::string_view detail) {
  (void)err;
  const uint64_t now = ctx_.now_ms();
  const bool stale = conn_ && conn_->reused && why == Failure::reset && !parser_->started();
  if (why != Failure::client) {
    bump(api_, route_.instance->metrics.failures);
    std::string line = "upstream " + up_.cfg.name;
    if (server_ >= 0) line += " server " + up_.cfg.servers[static_cast<size_t>(server_)].text;
    line += ": ";
    line += detail;
    if (stale) line += " (reused idle connection; retrying on a new one)";
    ctx_.log_failure(line);
    if (!stale && server_ >= 0 && why != Failure::no_server) up_.health.request_failed(static_cast<size_t>(server_), now);
  }
  attempt_over(false);
  release_conn(false);
  if (!resp_) return end();
  if (begun_) {
    // Cut mid-body: the client sees a truncated response, never a complete-looking one.
    api_->response_cancel(resp_);
    resp_ = nullptr;
    return end();
  }
  last_failure_ = why;
  if (stale && (!ever_sent_ || replayable_)) {
    fresh_only_ = true;
    return attempt();
  }
  const bool spent = std::exchange(retry_spent_, false);
  if (retry_possible(why) && (spent || up_.budget.try_spend(now))) {
    bump(api_, route_.instance->metrics.retries);
    return attempt();
  }
  return give_up(why);
}

bool ProxyRequest::give_up(Failure why) {
  switch (why) {
    case Failure::connect: return answer(502, "502 Bad Gateway: could not connect to an upstream server\n");
    case Failure::connect_timeout: return answer(504, "504 Gateway Timeout: upstream connect timed out\n");
    case Failure::first_byte_timeout: return answer(504, "504 Gateway Timeout: upstream did not answer in time\n");
    case Failure::idle_timeout: return answer(504, "504 Gateway Timeout: upstream stalled\n");
    case Failure::no_server: return answer(503, "503 Service Unavailable: no upstream server available\n");
    default: return answer(502, "502 Bad Gateway: upstream failed\n");
  }
}

bool ProxyRequest::answer(unsigned status, std::string_view text) {
  bump(api_, route_.instance->metrics.generated_5xx);
  api_->response_set_status(resp_, static_cast<uint16_t>(status));
  api_->response_add_header(resp_, str("Content-Type"), str("text/plain"));
  api_->response_body_copy(resp_, text.data(), text.size());
  api_->response_finish(resp_, nullptr, 0);
  resp_ = nullptr;
  return end();
}

void ProxyRequest::attempt_over(bool) {
  if (!attempt_open_) return;
  attempt_open_ = false;
  up_.balancer.finished(server_);
}

void ProxyRequest::release_conn(bool reusable) {
  if (!conn_) return;
  UpstreamConn *c = std::exchange(conn_, nullptr);
  if (upstream_paused_) {
    upstream_paused_ = false;
    if (reusable) api_->outgoing_pause(c->handle(), 0);
  }
  if (reusable && conn_ready_) up_.pools[c->server()]->put(c, ctx_.now_ms());
  else c->close();
  conn_ready_ = false;
}

void ProxyRequest::finish_client(const std::vector<std::pair<std::string, std::string>> &trailers) {
  if (!resp_) return;
  std::vector<axle_header_t> fields = forwardable(trailers, false);
  api_->response_finish(resp_, fields.data(), static_cast<uint32_t>(fields.size()));
  resp_ = nullptr;
}

// ---- time ----

// One timer per request, started once: it fires every `step` (the route's
// shortest timeout) at most, so a deadline set later is never earlier than
// the timer, and moving the deadline costs no timer call.
uint64_t ProxyRequest::timer_step() const {
  const RouteSettings &rs = route_.settings;
  return std::min({rs.connect_timeout_ms, rs.first_byte_timeout_ms, rs.idle_timeout_ms});
}

void ProxyRequest::arm(Timer kind, uint64_t ms) {
  timer_kind_ = kind;
  deadline_ms_ = ctx_.now_ms() + ms;
  // Refused (the worker's bound of timers reached): the host's response
  // timeout still ends the request.
  if (!timer_) timer_ = api_->timer_start(ctx_.worker(), timer_step(), 0, &on_timer, this);
}

void ProxyRequest::on_timer(void *arg) {
  auto *p = static_cast<ProxyRequest *>(arg);
  p->timer_ = nullptr;  // a one-shot timer that fired
  const uint64_t now = p->ctx_.now_ms();
  if (p->timer_kind_ == Timer::idle) {
    // Waiting on the client (held output) is not the upstream's idleness.
    if (!p->body_held_.empty() || !p->client_held_.empty()) p->last_activity_ms_ = now;
    p->deadline_ms_ = std::max(p->deadline_ms_, p->last_activity_ms_ + p->route_.settings.idle_timeout_ms);
  }
  if (p->timer_kind_ == Timer::none) return;
  if (now < p->deadline_ms_) {
    p->timer_ = p->api_->timer_start(p->ctx_.worker(), std::min(p->timer_step(), p->deadline_ms_ - now), 0,
                                     &on_timer, p);
    return;
  }
  switch (p->timer_kind_) {
    case Timer::connect:
      p->fail(Failure::connect_timeout, 0, "connect timed out");
      return;
    case Timer::first_byte:
      p->fail(Failure::first_byte_timeout, 0, "no response within first_byte_timeout_ms");
      return;
    case Timer::idle:
      p->fail(Failure::idle_timeout, 0, "idle for idle_timeout_ms");
      return;
    case Timer::none:
      return;
  }
}

void ProxyRequest::on_abort(void *arg, axle_abort_reason_t) {
  auto *p = static_cast<ProxyRequest *>(arg);
  p->resp_ = nullptr;  // the handle is dead
  p->attempt_over(false);
  p->release_conn(false);
  p->end();
}

bool ProxyRequest::end() {
  if (timer_) api_->timer_stop(timer_);
  timer_ = nullptr;
  attempt_over(false);
  release_conn(false);
  delete this;
  return false;
}

}  // namespace axle::proxy
