// One proxied request on its worker, from handle() to its end: picks a
// server, takes a pooled connection or opens one, sends the head and streams
// the body (back-pressure both ways), parses the response and streams it to
// the client, retries where allowed, times out, tunnels an Upgrade. It frees
// itself when the response ends or the host aborts it.
#pragma once

#include "instance.h"
#include "request_head.h"
#include "response_parser.h"
#include "upstream_conn.h"
#include "worker_context.h"

#include <axle/handler.h>

#include <optional>
#include <string>

namespace axle::proxy {

class ProxyRequest final : public ConnOwner {
 public:
  // handle()'s body: keeps the response and starts; returns what handle() returns.
  static axle_status_t start(const Route &route, WorkerContext &ctx, const axle_request_t *req,
                             axle_response_t *resp);

  void conn_connected(UpstreamConn &c, int err) override;
  void conn_data(UpstreamConn &c, const char *data, size_t len) override;
  void conn_eof(UpstreamConn &c, int err) override;
  void conn_writable(UpstreamConn &c) override;

 private:
  // Why an attempt failed, and the answer if nothing else can be tried.
  enum class Failure { connect, connect_timeout, reset, first_byte_timeout, idle_timeout, malformed, status_5xx, no_server, client };
  enum class Timer { none, connect, first_byte, idle };

  ProxyRequest(const Route &route, WorkerContext &ctx, UpstreamState &up);
  ~ProxyRequest();

  // Every call below that returns bool returns false when it freed this.
  enum class Wrote { ok, held, dead };
  bool attempt();
  bool flush_upstream();
  void frame_body(const char *data, size_t len, bool last);
  void retire_sent();  // all of out_ went out: keep it for a replay, or drop it
  bool process(std::string_view input);
  bool on_head(size_t input_left);  // input_left: bytes after the head in this input
  Wrote write_client(std::string_view data);
  bool hold(std::string_view rest);
  bool resume_client();
  bool upstream_ended();
  bool response_done(bool leftover);
  bool tunnel_start(std::string_view rest);
  bool fail(Failure why, int err, std::string_view detail);
  bool retry_possible(Failure why) const;
  bool give_up(Failure why);  // answers the failure's status
  bool answer(unsigned status, std::string_view text);
  void attempt_over(bool ok);
  void release_conn(bool reusable);
  void arm(Timer kind, uint64_t ms);  // the deadline of `kind` is now + ms
  uint64_t timer_step() const;
  void finish_client(const std::vector<std::pair<std::string, std::string>> &trailers);
  bool end();  // frees this; returns false

  static void on_abort(void *arg, axle_abort_reason_t reason);
  static void on_writable(void *arg);
  static void on_body(void *arg, const char *data, size_t len, int last);
  static void on_timer(void *arg);
  static const axle_response_hooks_t hooks;

  const Route &route_;
  WorkerContext &ctx_;
  UpstreamState &up_;
  const axle_host_api_t *api_;
  axle_response_t *resp_ = nullptr;

  // ---- the request, copied out of handle() ----
  std::string hash_key_;
  bool idempotent_ = false;
  bool head_request_ = false;
  bool upgrade_ = false;
  BodyFraming framing_ = BodyFraming::none;
  bool body_streamed_ = false;
  bool body_done_ = true;     // the client's body has fully arrived (on_body last)
  bool body_paused_ = false;  // request_body_pause(1) in effect

  // ---- bytes toward the upstream ----
  // The bytes of out_ already sent, kept while the request fits (head +
  // retry_body_bytes) so another attempt can send replay_ + out_ again;
  // cleared once it does not.
  std::string replay_;
  bool replayable_ = true;
  uint64_t body_bytes_ = 0;  // body bytes received from the client
  // Queued for the current connection: bounded by pausing the client's body
  // while it holds more than out_high bytes.
  static constexpr size_t out_high = 64 * 1024;
  std::string out_;
  size_t out_sent_ = 0;
  bool ever_sent_ = false;  // some attempt handed bytes to the host
  bool shutdown_pending_ = false;  // tunnel: half-close once out_ drained

  // ---- the current attempt ----
  UpstreamConn *conn_ = nullptr;
  bool conn_ready_ = false;
  int server_ = -1;
  uint64_t tried_ = 0;
  uint32_t attempts_ = 0;  // counted attempts (not the free retry of a stale pooled connection)
  bool fresh_only_ = false;  // the next attempt on server_ opens a new connection
  bool attempt_open_ = false;  // balancer.started() without its finished() yet
  bool retry_spent_ = false;    // the budget already paid for the retry under way
  // A server may send a few 1xx before its answer, not an endless stream.
  static constexpr unsigned max_interim = 16;
  unsigned interim_ = 0;
  std::optional<ResponseParser> parser_;
  Failure last_failure_ = Failure::no_server;
  int eof_err_ = 0;

  // ---- bytes toward the client ----
  bool begun_ = false;     // the final head was handed over (response_begin, whole_, or the tunnel switched)
  bool whole_ = false;     // the body came with the head: response_body_copy + response_finish
  bool tunnel_ = false;
  bool upstream_eof_ = false;
  std::string client_held_;  // upstream bytes not yet written (unparsed); upstream paused while non-empty
  std::string body_held_;    // a body slice response_write refused, before client_held_
  bool upstream_paused_ = false;

  // ---- timing ----
  axle_timer_t *timer_ = nullptr;
  Timer timer_kind_ = Timer::none;
  uint64_t deadline_ms_ = 0;
  uint64_t last_activity_ms_ = 0;
  uint64_t piece_max_ = 64 * 1024;  // largest single write; drops to 4096 if a host refuses that
};

}  // namespace axle::proxy
