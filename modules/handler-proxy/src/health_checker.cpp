#include "health_checker.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

namespace axle::proxy {

namespace {

// "HTTP/1.1 200" and the SP (or the CR of an empty reason) that ends the
// code: all a check reads of the answer.
constexpr size_t kStatusLineBytes = 13;

bool digit(char c) { return c >= '0' && c <= '9'; }

// "HTTP/1.x NNN" then SP or CR, exactly (RFC 9112 status-line; CR for the
// servers that leave out the SP before an empty reason): the status code,
// or -1 for anything else.
int parse_status_line(const char *s) {
  if (std::memcmp(s, "HTTP/1.", 7) != 0 || !digit(s[7]) || s[8] != ' ') return -1;
  if (s[9] < '1' || s[9] > '5' || !digit(s[10]) || !digit(s[11])) return -1;
  if (s[12] != ' ' && s[12] != '\r') return -1;
  return (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
}

bool host_has_loop_services(const axle_host_api_t *host) {
  return host && AXLE_STRUCT_HAS(host, axle_host_api_t, outgoing_close) && host->timer_start && host->timer_stop &&
         host->outgoing_connect && host->outgoing_send && host->outgoing_close && host->now_ns;
}

}  // namespace

struct HealthChecker::Check {
  HealthChecker *owner;
  size_t server;
  HealthCheckTarget target;
  std::string request;              // the whole GET, built once
  axle_outgoing_t *conn = nullptr;  // non-null: a check is in flight
  axle_timer_t *timeout = nullptr;  // its deadline, while armed
  bool sent = false;                // outgoing_send took the request
  char head[kStatusLineBytes] = {};
  size_t have = 0;  // bytes of head received
};

HealthChecker::HealthChecker(const axle_host_api_t *host, const axle_config_t *log_config, axle_worker_t *worker,
                             std::vector<HealthCheckTarget> targets, const HealthCheckSettings &settings,
                             Health &health)
    : host_(host), log_config_(log_config), worker_(worker), settings_(settings), health_(health) {
  if (!host_has_loop_services(host_)) return;
  const size_t n = std::min(targets.size(), health_.server_count());
  checks_.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    auto c = std::make_unique<Check>();
    c->owner = this;
    c->server = i;
    c->request = "GET " + settings_.path + " HTTP/1.1\r\nHost: " + targets[i].host + "\r\nConnection: close\r\n\r\n";
    c->target = std::move(targets[i]);
    checks_.push_back(std::move(c));
  }
  if (checks_.empty()) return;
  // repeat_ms 0 would make a one-shot timer: at least every millisecond.
  const uint64_t every = std::max<uint64_t>(settings_.interval_ms, 1);
  interval_ = host_->timer_start(worker_, every, every, &HealthChecker::on_interval, this);
}

HealthChecker::~HealthChecker() { stop(); }

void HealthChecker::stop() {
  if (interval_) host_->timer_stop(interval_);
  interval_ = nullptr;
  for (auto &c : checks_) release(*c);
}

void HealthChecker::release(Check &c) {
  if (c.timeout) host_->timer_stop(c.timeout);
  c.timeout = nullptr;
  if (c.conn) host_->outgoing_close(c.conn);
  c.conn = nullptr;
}

void HealthChecker::on_interval(void *self) { static_cast<HealthChecker *>(self)->round(); }

// A server whose last check is still in flight is skipped: its timeout
// gives the verdict, and a slow server never gets a pile of checks.
void HealthChecker::round() {
  for (auto &c : checks_) {
    if (!c->conn) start(*c);
  }
}

void HealthChecker::start(Check &c) {
  static const axle_outgoing_events_t events = {sizeof(axle_outgoing_events_t), &HealthChecker::on_connected,
                                                &HealthChecker::on_data, &HealthChecker::on_eof,
                                                &HealthChecker::on_writable};
  c.sent = false;
  c.have = 0;
  c.conn = host_->outgoing_connect(worker_, &c.target.address, &events, &c, nullptr);
  if (!c.conn) return finish(c, false, "connect failed at once");
  c.timeout = host_->timer_start(worker_, settings_.timeout_ms, 0, &HealthChecker::on_timeout, &c);
  // Refused: the worker's timer bound, not the server; no verdict, the next round retries.
  if (!c.timeout) release(c);
}

void HealthChecker::send_request(Check &c) {
  const axle_status_t st = host_->outgoing_send(c.conn, c.request.data(), c.request.size());
  if (st == AXLE_OK) {
    c.sent = true;
  } else if (st != AXLE_AGAIN) {  // AGAIN: on_writable sends it
    finish(c, false, "send failed");
  }
}

// The check is over: its connection and deadline go, then the verdict. A
// change of availability is logged once, not every failed check.
void HealthChecker::finish(Check &c, bool passed, std::string_view why) {
  release(c);
  const uint64_t now_ms = host_->now_ns() / 1000000;
  const bool was = health_.available(c.server, now_ms);
  if (passed) {
    health_.check_passed(c.server);
  } else {
    health_.check_failed(c.server);
  }
  const bool is = health_.available(c.server, now_ms);
  if (was == is || !log_config_ || !host_->log) return;
  std::string line = "upstream server " + c.target.host + (is ? " is back: " : " is down: ");
  line += why;
  host_->log(log_config_, is ? AXLE_LOG_INFO : AXLE_LOG_WARN, line.data(), line.size());
}

void HealthChecker::on_connected(void *check, int err) {
  Check &c = *static_cast<Check *>(check);
  if (err == ECONNABORTED) return c.owner->release(c);  // the worker is ending, not the server
  if (err != 0) return c.owner->finish(c, false, std::string("connect failed: ") + std::strerror(err));
  c.owner->send_request(c);
}

void HealthChecker::on_writable(void *check) {
  Check &c = *static_cast<Check *>(check);
  if (!c.sent) c.owner->send_request(c);
}

void HealthChecker::on_data(void *check, const char *data, size_t len) {
  Check &c = *static_cast<Check *>(check);
  const size_t take = std::min(len, kStatusLineBytes - c.have);
  std::memcpy(c.head + c.have, data, take);
  c.have += take;
  if (c.have < kStatusLineBytes) return;
  const int status = parse_status_line(c.head);
  if (status < 0) return c.owner->finish(c, false, "malformed status line");
  c.owner->finish(c, status == c.owner->settings_.status, "status " + std::to_string(status));
}

void HealthChecker::on_eof(void *check, int err) {
  Check &c = *static_cast<Check *>(check);
  if (err == ECONNABORTED) return c.owner->release(c);  // the worker is ending, not the server
  if (err != 0) return c.owner->finish(c, false, std::string("connection failed: ") + std::strerror(err));
  c.owner->finish(c, false, "closed before the status line");
}

void HealthChecker::on_timeout(void *check) {
  Check &c = *static_cast<Check *>(check);
  c.timeout = nullptr;  // a one-shot timer that fired: its handle is spent
  c.owner->finish(c, false, "timed out");
}

}  // namespace axle::proxy
