// axle C++ SDK: Exchange, what a coroutine handler gets for one request — the
// request (until its first suspension), the response to build or stream, its
// streamed body, and the loop services (sleep, outgoing connections).
//
//   axle::sdk::Task handle(axle::sdk::Exchange &ex) const {
//     auto ms = std::stoul(std::string(ex.request().param("ms").value_or("0")));  // before any co_await
//     co_await ex.sleep(ms);
//     ex.header("Content-Type", "text/plain");
//     ex.reply("slept\n");
//   }
//
// Rules the types enforce (a broken one throws axle::sdk::Error, never UB):
// - request() works only until the coroutine first suspends: after that the
//   host's request memory is gone. Copy what you need before the first
//   co_await that waits (views taken from it must not be used after it).
// - status()/header()/close_connection() only before begin(); write() only
//   between begin() and finish(); finish()/reply() once. Anything after the
//   response was finished throws, waiting included.
// - When the coroutine returns, an unfinished response is finished for it.
//   An exception escaping it before begin() gives a 500 (logged); after
//   begin() the response is ended early and the error logged.
// - If the client leaves (or a timeout or drain aborts the request), the
//   coroutine frame is destroyed where it waits: destructors run (timers
//   stop, outgoing connections close) and the coroutine never resumes.
// Everything runs on the request's worker thread.
#pragma once

#include <axle/handler.h>
#include <axle/module.h>
#include <axle/sdk/driver.hpp>
#include <axle/sdk/error.hpp>
#include <axle/sdk/outgoing.hpp>
#include <axle/sdk/request.hpp>
#include <axle/sdk/timer.hpp>

#include <coroutine>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace axle::sdk {

namespace detail {
class Pending;
}

// A header or trailer line: views, copied by the call they are passed to.
struct Field {
  std::string_view name;
  std::string_view value;
};

// One piece of a request body: `data` lives in the Exchange until the next
// co_await ex.body(); `last` is true on the final piece (data may be empty).
struct BodyChunk {
  std::string_view data;
  bool last;
};

class Exchange : private detail::Driver {
 public:
  // ---- the request ----

  // The request's views. Throws once the coroutine has suspended.
  Request request() const {
    if (!req_) throw Error(AXLE_ERR_INVALID, "the request is readable only before the handler's first suspension");
    return Request(req_);
  }
  // Copied, so valid for the whole exchange.
  uint64_t request_id() const { return request_id_; }
  uint32_t method_bit() const { return method_bit_; }
  unsigned version_minor() const { return version_minor_; }
  // The client connection's peer (or local) address; nullopt when the
  // transport has none.
  std::optional<axle_address_t> address(axle_conn_end_t end = AXLE_CONN_PEER) const {
    axle_address_t out{};
    out.struct_size = sizeof out;
    if (api()->request_address(resp_, end, &out) != AXLE_OK) return std::nullopt;
    return out;
  }
  using Driver::worker;

  // ---- the response head (kept here until begin/finish, so an error before
  // then can still answer a clean 500) ----

  Exchange &status(unsigned code) {
    check_phase(Phase::head, "status");
    if (code < 100 || code > 599) throw Error(AXLE_ERR_INVALID, "HTTP status " + std::to_string(code) + " out of range");
    status_ = static_cast<uint16_t>(code);
    return *this;
  }
  Exchange &header(std::string_view name, std::string_view value) {
    check_phase(Phase::head, "header");
    headers_.emplace_back(name, value);
    return *this;
  }
  // "Connection: close" after this response.
  Exchange &close_connection() {
    check_phase(Phase::head, "close_connection");
    close_ = true;
    return *this;
  }

  // ---- a streamed response ----

  // Sends the status and headers and starts the body: content_length bytes,
  // or -1 for unknown (chunked on HTTP/1.1, close-delimited on HTTP/1.0).
  void begin(int64_t content_length = -1) {
    check_phase(Phase::head, "begin");
    keep();
    send_head();
    check(api()->response_begin(resp_, content_length), "response_begin refused");
    phase_ = Phase::body;
  }
  void begin(unsigned code, std::initializer_list<Field> headers, int64_t content_length = -1) {
    status(code);
    for (const Field &f : headers) header(f.name, f.value);
    begin(content_length);
  }

  // `co_await ex.write(bytes)`: the host copies them; waits while the
  // connection's output is at its bound. `bytes` must stay valid until the
  // co_await returns (a temporary in the same expression is).
  [[nodiscard]] auto write(std::string_view bytes) {
    struct Awaiter {
      Exchange *ex;
      bool await_ready() {
        ex->check_phase(Phase::body, "write");
        ex->write_status_ = AXLE_OK;
        return ex->push_write();
      }
      void await_suspend(std::coroutine_handle<> h) {
        ex->waiter_ = h;
        ex->wait_ = Wait::writable;
      }
      void await_resume() const { check(ex->write_status_, "response_write refused"); }
    };
    write_rest_ = bytes;
    return Awaiter{this};
  }

  // Ends the response. Before begin(): sends status, headers (and a body
  // given to reply()) with a Content-Length. After begin(): ends the body,
  // with trailers if it was chunked.
  void finish(std::span<const Field> trailers = {}) {
    if (phase_ == Phase::head) {
      send_head();
      if (!body_.empty()) check(api()->response_body_copy(resp_, body_.data(), body_.size()), "response body refused");
      phase_ = Phase::done;
      mark_finished();
      // Not kept: handle() returns and the host sends what was set.
      if (kept_) check(api()->response_finish(resp_, nullptr, 0), "response_finish refused");
      return;
    }
    check_phase(Phase::body, "finish");
    std::vector<axle_header_t> lines;
    lines.reserve(trailers.size());
    for (const Field &f : trailers) lines.push_back({{f.name.data(), f.name.size()}, {f.value.data(), f.value.size()}});
    phase_ = Phase::done;
    mark_finished();
    check(api()->response_finish(resp_, lines.data(), static_cast<uint32_t>(lines.size())), "response_finish refused");
  }
  // Ends a kept response unfinished, e.g. when its source failed: before
  // begin the host answers 500; after begin the connection closes without
  // the body's end. Never throws.
  void cancel() noexcept {
    if (phase_ == Phase::done) return;
    phase_ = Phase::done;
    mark_finished();
    if (AXLE_STRUCT_HAS(api(), axle_host_api_t, response_cancel) && api()->response_cancel) {
      api()->response_cancel(resp_);
    } else {  // a host table without the slot: close after an early finish
      api()->response_close_connection(resp_);
      api()->response_finish(resp_, nullptr, 0);
    }
  }
  // A whole response at once (before begin): the body, then finish().
  void reply(std::string_view body) {
    check_phase(Phase::head, "reply");
    body_.assign(body);
    finish();
  }

  // ---- a protocol switch (Upgrade, e.g. WebSocket; ABI 1.3) ----

  // Answers "101 Switching Protocols" with the headers set so far (set
  // Upgrade and the rest; the host adds "Connection: upgrade") and turns the
  // connection into a tunnel: write() sends raw bytes, body() gives every
  // byte the client sends from now on (a new stream, last at the client's
  // end of stream), finish() closes the connection once the written bytes
  // are out. Only before begin(), for an HTTP/1.1 request with Upgrade and
  // Connection: upgrade whose own body was read whole; otherwise throws.
  void switch_protocols() {
    check_phase(Phase::head, "switch_protocols");
    if (!AXLE_STRUCT_HAS(api(), axle_host_api_t, response_switch_protocols) || !api()->response_switch_protocols)
      throw Error(AXLE_ERR_UNSUPPORTED, "the host has no response_switch_protocols (ABI 1.3)");
    keep();
    send_head();
    check(api()->response_switch_protocols(resp_), "response_switch_protocols refused");
    phase_ = Phase::body;
    streamed_ = true;  // the request's own body is over: the tunnel's stream replaces it
    body_taken_ = true;
    body_unread_ = body_last_ = false;
    body_buf_.clear();
  }

  bool begun() const { return phase_ != Phase::head; }
  bool finished() const { return phase_ == Phase::done; }

  // ---- the request body ----

  // `co_await ex.body()`: the next piece of the request body. On a route with
  // stream_body = true the pieces arrive as the client sends them, and the
  // host is paused whenever the coroutine is not waiting for one, so at most
  // one piece is held. Otherwise the whole body comes as one last piece.
  // After the last piece, more calls give an empty last piece.
  [[nodiscard]] auto body() {
    struct Awaiter {
      Exchange *ex;
      bool await_ready() {
        ex->check_can_wait("body");
        return ex->body_ready();
      }
      void await_suspend(std::coroutine_handle<> h) {
        ex->waiter_ = h;
        ex->wait_ = Wait::body;
      }
      BodyChunk await_resume() {
        ex->body_unread_ = false;
        return {ex->body_buf_, ex->body_last_};
      }
    };
    return Awaiter{this};
  }

  // ---- loop services ----

  // `co_await ex.sleep(ms)`: resumes after ms milliseconds (timer.hpp).
  Sleep sleep(uint64_t ms) { return Sleep(*this, ms); }
  // `co_await ex.connect(to)`: an outgoing TCP connection (outgoing.hpp).
  Outgoing::Connect connect(const axle_address_t &to) { return Outgoing::Connect(*this, to); }

 private:
  friend class detail::Pending;

  enum class Phase { head, body, done };
  enum class Wait { none, body, writable };

  Exchange(const axle_host_api_t *api, const axle_request_t *req, axle_response_t *resp)
      : Driver(api, req->worker), req_(req), resp_(resp) {
    request_id_ = AXLE_STRUCT_HAS(req, axle_request_t, request_id) ? req->request_id : 0;
    streamed_ = AXLE_STRUCT_HAS(req, axle_request_t, flags) && (req->flags & AXLE_REQUEST_BODY_STREAM);
    method_bit_ = req->method_bit;
    version_minor_ = req->version_minor;
  }

  void check_phase(Phase want, const char *what) const {
    if (phase_ == want) return;
    static constexpr const char *where[] = {"before begin()", "after begin()", "after the response was finished"};
    throw Error(AXLE_ERR_INVALID, std::string(what) + " is not allowed " + where[static_cast<int>(phase_)]);
  }

  // The response outlives handle() from here on (at begin, or when the
  // coroutine first suspends).
  void keep() {
    if (kept_) return;
    axle_response_t *kept = api()->response_keep(resp_, hooks_, hooks_arg_);
    if (!kept) throw Error(AXLE_ERR_INTERNAL, "response_keep refused");
    resp_ = kept;
    kept_ = true;
  }

  void send_head() {
    api()->response_set_status(resp_, status_);
    for (const auto &[name, value] : headers_)
      check(api()->response_add_header(resp_, {name.data(), name.size()}, {value.data(), value.size()}),
            "response header refused");
    if (close_) check(api()->response_close_connection(resp_), "response_close_connection refused");
    headers_.clear();
  }

  bool push_write() {
    return detail::push_pieces(write_rest_, write_status_, [&](std::string_view piece) {
      return api()->response_write(resp_, piece.data(), piece.size());
    });
  }

  // A non-streamed body is in the request: take it while it is valid.
  void take_buffered_body() {
    if (streamed_ || body_taken_ || !req_) return;
    body_taken_ = true;
    body_buf_.assign(view(req_->body));
    body_unread_ = true;
    body_last_ = true;
  }

  bool body_ready() {
    take_buffered_body();
    if (body_unread_ || body_last_) return true;
    if (!streamed_) throw Error(AXLE_ERR_INVALID, "the request body was not taken before the first suspension");
    body_buf_.clear();
    if (body_paused_) {
      body_paused_ = false;
      check(api()->request_body_pause(resp_, 0), "request_body_pause refused");
    }
    return false;
  }

  // ---- host events, from the hooks (pending.hpp) ----

  void on_body(const char *data, size_t len, bool last) {
    if (!body_unread_) body_buf_.clear();
    body_buf_.append(data, len);
    body_unread_ = true;
    body_last_ = last;
    if (wait_ == Wait::body) {
      wait_ = Wait::none;
      resume(waiter_);  // may free this
      return;
    }
    // Nobody waits: hold this piece and stop the flow until body() is awaited.
    if (!last && !body_paused_ && api()->request_body_pause(resp_, 1) == AXLE_OK) body_paused_ = true;
  }
  void on_writable() {
    if (wait_ != Wait::writable || !push_write()) return;
    wait_ = Wait::none;
    resume(waiter_);  // may free this
  }

  // Set by Pending.
  const axle_response_hooks_t *hooks_ = nullptr;
  void *hooks_arg_ = nullptr;

  const axle_request_t *req_;  // until the first suspension, then null
  axle_response_t *resp_;      // handle()'s, then the kept handle
  bool kept_ = false;
  uint64_t request_id_;
  uint32_t method_bit_;
  unsigned version_minor_;

  Phase phase_ = Phase::head;
  uint16_t status_ = 200;
  std::vector<std::pair<std::string, std::string>> headers_;
  bool close_ = false;
  std::string body_;  // reply()'s

  Wait wait_ = Wait::none;
  std::coroutine_handle<> waiter_;
  std::string_view write_rest_;
  axle_status_t write_status_ = AXLE_OK;

  bool streamed_ = false;
  bool body_taken_ = false;
  std::string body_buf_;  // one piece: the host is paused while it is unread
  bool body_unread_ = false;
  bool body_last_ = false;
  bool body_paused_ = false;
};

}  // namespace axle::sdk
