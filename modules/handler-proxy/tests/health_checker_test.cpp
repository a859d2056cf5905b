// The active checker against a fake host table: the test records every
// timer and outgoing call, plays the network's part by delivering events,
// and fails on any misuse the kernel would refuse (send before connected,
// a handle used after close, a timer stopped twice, an event after close).
#include "health_checker.h"

#include <doctest/doctest.h>

#include <cerrno>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

using axle::proxy::Health;
using axle::proxy::HealthChecker;
using axle::proxy::HealthCheckSettings;
using axle::proxy::HealthCheckTarget;
using axle::proxy::HealthSettings;

namespace {

struct FakeTimer {
  uint64_t delay_ms, repeat_ms;
  axle_task_fn fn;
  void *arg;
  bool live = true;      // may still fire
  bool fired = false;    // a one-shot that fired (stopping it is allowed)
  bool stopped = false;
};

struct FakeConn {
  axle_address_t to;
  const axle_outgoing_events_t *events;
  void *arg;
  bool open = true;       // until outgoing_close
  bool connected = false; // on_connected(0) delivered
  std::string sent;
};

// The one fake host of the running test case (doctest runs cases one at a time).
struct FakeHost {
  axle_host_api_t api{};
  axle_worker_t *worker = reinterpret_cast<axle_worker_t *>(0x1000);
  std::map<uintptr_t, FakeTimer> timers;  // handle value -> timer
  std::map<uintptr_t, FakeConn> conns;    // handle value -> connection
  uintptr_t next_handle = 0x10;
  uint64_t now_ms = 1000;
  bool refuse_timers = false;
  bool refuse_connects = false;
  int send_again = 0;  // answer AXLE_AGAIN to this many sends
  std::vector<std::string> logs;

  FakeHost();
  ~FakeHost();

  // Live timers / open connections now.
  size_t live_timers() const {
    size_t n = 0;
    for (auto &[h, t] : timers) n += t.live;
    return n;
  }
  std::vector<uintptr_t> open_conns() const {
    std::vector<uintptr_t> out;
    for (auto &[h, c] : conns) {
      if (c.open) out.push_back(h);
    }
    return out;
  }
  // The interval timer: the one live repeating timer.
  uintptr_t interval() const {
    uintptr_t found = 0;
    for (auto &[h, t] : timers) {
      if (t.live && t.repeat_ms > 0) {
        REQUIRE(found == 0);
        found = h;
      }
    }
    REQUIRE(found != 0);
    return found;
  }
  // The live one-shot timer whose arg is that of connection h (its timeout).
  uintptr_t timeout_of(uintptr_t conn) const {
    for (auto &[h, t] : timers) {
      if (t.live && t.repeat_ms == 0 && t.arg == conns.at(conn).arg) return h;
    }
    return 0;
  }
  void fire(uintptr_t h) {
    FakeTimer &t = timers.at(h);
    REQUIRE(t.live);
    if (t.repeat_ms == 0) {  // a one-shot timer's handle is spent once it fired
      t.live = false;
      t.fired = true;
    }
    t.fn(t.arg);
  }
  void round() { fire(interval()); }

  // ---- the network's side: each REQUIREs the connection is still open ----
  FakeConn &live(uintptr_t h) {
    FakeConn &c = conns.at(h);
    REQUIRE(c.open);
    return c;
  }
  void connect_result(uintptr_t h, int err) {
    FakeConn &c = live(h);
    c.connected = err == 0;
    c.events->on_connected(c.arg, err);
  }
  void data(uintptr_t h, const std::string &bytes) {
    FakeConn &c = live(h);
    REQUIRE(c.connected);
    c.events->on_data(c.arg, bytes.data(), bytes.size());
  }
  void eof(uintptr_t h, int err) {
    FakeConn &c = live(h);
    c.events->on_eof(c.arg, err);
  }
  void writable(uintptr_t h) {
    FakeConn &c = live(h);
    c.events->on_writable(c.arg);
  }
  // The server accepts h and answers `answer`.
  void answer(uintptr_t h, const std::string &answer) {
    connect_result(h, 0);
    data(h, answer);
  }
};

FakeHost *g_host = nullptr;

FakeHost::FakeHost() {
  REQUIRE(g_host == nullptr);
  g_host = this;
  api.struct_size = sizeof(axle_host_api_t);
  api.abi_major = AXLE_ABI_MAJOR;
  api.abi_minor = AXLE_ABI_MINOR;
  api.now_ns = [] { return g_host->now_ms * 1000000; };
  api.log = [](const axle_config_t *, axle_log_level_t level, const char *msg, size_t len) {
    g_host->logs.push_back((level == AXLE_LOG_WARN ? "warn " : level == AXLE_LOG_INFO ? "info " : "other ") +
                           std::string(msg, len));
  };
  api.timer_start = [](axle_worker_t *w, uint64_t delay, uint64_t repeat, axle_task_fn fn,
                       void *arg) -> axle_timer_t * {
    REQUIRE(w == g_host->worker);
    REQUIRE((fn != nullptr));
    if (g_host->refuse_timers) return nullptr;
    const uintptr_t h = g_host->next_handle++;
    g_host->timers.emplace(h, FakeTimer{delay, repeat, fn, arg});
    return reinterpret_cast<axle_timer_t *>(h);
  };
  api.timer_stop = [](axle_timer_t *t) {
    auto it = g_host->timers.find(reinterpret_cast<uintptr_t>(t));
    REQUIRE(it != g_host->timers.end());
    // Stopping a one-shot timer that fired is allowed by the ABI; stopping
    // one twice means the module lost track of its handles.
    REQUIRE_FALSE(it->second.stopped);
    REQUIRE((it->second.live || it->second.fired));
    it->second.live = false;
    it->second.stopped = true;
  };
  api.outgoing_connect = [](axle_worker_t *w, const axle_address_t *to, const axle_outgoing_events_t *events,
                            void *arg, axle_error_t *) -> axle_outgoing_t * {
    REQUIRE(w == g_host->worker);
    REQUIRE(to->struct_size == sizeof(axle_address_t));
    REQUIRE(events->struct_size >= sizeof(axle_outgoing_events_t));
    REQUIRE((events->on_connected != nullptr));
    REQUIRE((events->on_data != nullptr));
    REQUIRE((events->on_eof != nullptr));
    REQUIRE((events->on_writable != nullptr));
    if (g_host->refuse_connects) return nullptr;
    const uintptr_t h = g_host->next_handle++;
    g_host->conns.emplace(h, FakeConn{*to, events, arg, true, false, {}});
    return reinterpret_cast<axle_outgoing_t *>(h);
  };
  api.outgoing_send = [](axle_outgoing_t *o, const void *data, size_t len) {
    FakeConn &c = g_host->live(reinterpret_cast<uintptr_t>(o));
    REQUIRE(c.connected);  // valid after on_connected(0) only
    if (g_host->send_again > 0) {
      --g_host->send_again;
      return AXLE_AGAIN;
    }
    c.sent.append(static_cast<const char *>(data), len);
    return AXLE_OK;
  };
  api.outgoing_close = [](axle_outgoing_t *o) { g_host->live(reinterpret_cast<uintptr_t>(o)).open = false; };
}

FakeHost::~FakeHost() { g_host = nullptr; }

axle_address_t ipv4(uint16_t port) {
  axle_address_t a{};
  a.struct_size = sizeof(a);
  a.family = AXLE_ADDR_IPV4;
  a.port = port;
  a.addr[0] = 127;
  a.addr[3] = 1;
  return a;
}

std::vector<HealthCheckTarget> targets(size_t n) {
  std::vector<HealthCheckTarget> out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back({ipv4(static_cast<uint16_t>(9001 + i)), "127.0.0.1:" + std::to_string(9001 + i)});
  }
  return out;
}

HealthSettings active(uint32_t fall, uint32_t rise) {
  HealthSettings s;
  s.active = true;
  s.fall = fall;
  s.rise = rise;
  return s;
}

HealthCheckSettings check_settings() {
  HealthCheckSettings s;
  s.path = "/healthz";
  s.status = 200;
  s.interval_ms = 2000;
  s.timeout_ms = 500;
  return s;
}

const axle_config_t *kLogConfig = reinterpret_cast<const axle_config_t *>(0x2000);

}  // namespace

TEST_SUITE("health_checker") {

TEST_CASE("a round checks every server: exact request, status line read, connection and deadline released") {
  FakeHost host;
  Health health(active(1, 1), 2);
  {
    HealthChecker checker(&host.api, kLogConfig, host.worker, targets(2), check_settings(), health);
    REQUIRE(checker.running());
    const FakeTimer &interval = host.timers.at(host.interval());
    CHECK(interval.delay_ms == 2000);
    CHECK(interval.repeat_ms == 2000);
    CHECK(host.conns.empty());  // nothing before the first round

    host.round();
    const auto conns = host.open_conns();
    REQUIRE(conns.size() == 2);
    for (size_t i = 0; i < 2; ++i) {
      const FakeConn &c = host.conns.at(conns[i]);
      CHECK(c.to.port == 9001 + i);
      CHECK(c.to.family == AXLE_ADDR_IPV4);
      CHECK(c.to.addr[0] == 127);
      const uintptr_t t = host.timeout_of(conns[i]);
      REQUIRE(t != 0);
      CHECK(host.timers.at(t).delay_ms == 500);
      CHECK(c.sent.empty());  // nothing before on_connected
    }
    host.connect_result(conns[0], 0);
    CHECK(host.conns.at(conns[0]).sent ==
          "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nConnection: close\r\n\r\n");
    host.data(conns[0], "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    CHECK_FALSE(host.conns.at(conns[0]).open);
    CHECK(host.timeout_of(conns[0]) == 0);  // its deadline was stopped
    CHECK(health.available(0, host.now_ms));

    host.connect_result(conns[1], 0);
    CHECK(host.conns.at(conns[1]).sent ==
          "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:9002\r\nConnection: close\r\n\r\n");
    host.data(conns[1], "HTTP/1.1 503 Service Unavailable\r\n\r\n");
    CHECK_FALSE(host.conns.at(conns[1]).open);
    CHECK_FALSE(health.available(1, host.now_ms));  // fall = 1
    CHECK(host.logs == std::vector<std::string>{"warn upstream server 127.0.0.1:9002 is down: status 503"});
    CHECK(host.live_timers() == 1);  // only the interval
  }
  CHECK(host.live_timers() == 0);
}

TEST_CASE("the status line may arrive a byte at a time; an empty reason (CR after the code) passes") {
  for (const std::string answer : {"HTTP/1.1 200 OK\r\n", "HTTP/1.0 200 \r\n", "HTTP/1.1 200\r\n"}) {
    CAPTURE(answer);
    FakeHost host;
    Health health(active(1, 1), 1);
    health.check_failed(0);
    REQUIRE_FALSE(health.available(0, 0));
    HealthChecker checker(&host.api, kLogConfig, host.worker, targets(1), check_settings(), health);
    host.round();
    const uintptr_t c = host.open_conns().at(0);
    host.connect_result(c, 0);
    for (size_t i = 0; i < answer.size() && host.conns.at(c).open; ++i) host.data(c, answer.substr(i, 1));
    CHECK_FALSE(host.conns.at(c).open);
    CHECK(health.available(0, host.now_ms));
    CHECK(host.logs == std::vector<std::string>{"info upstream server 127.0.0.1:9001 is back: status 200"});
  }
}

TEST_CASE("anything but \"HTTP/1.x NNN\" then SP or CR fails the check") {
  for (const std::string answer :
       {"HTTP/2 200 OK\r\n\r\n", "http/1.1 200 OK\r\n", "HTTP/1.1  200 OK\r\n", "HTTP/1.1 20x OK\r\n",
        "HTTP/1.1 2000 OK\r\n", "HTTP/1.1 600 OK\r\n", "HTTP/1.1 099 OK\r\n", "HTTP/1.x 200 OK\r\n",
        "HTTP/1.1 200\n\r\n\r\n", "SSH-2.0-OpenSSH_9.2\r\n"}) {
    CAPTURE(answer);
    FakeHost host;
    Health health(active(1, 1), 1);
    HealthChecker checker(&host.api, kLogConfig, host.worker, targets(1), check_settings(), health);
    host.round();
    const uintptr_t c = host.open_conns().at(0);
    host.answer(c, answer);
    CHECK_FALSE(host.conns.at(c).open);
    CHECK_FALSE(health.available(0, host.now_ms));
    CHECK(host.logs == std::vector<std::string>{"warn upstream server 127.0.0.1:9001 is down: malformed status line"});
  }
}

TEST_CASE("a status other than health_status fails; the expected one passes, even if not 200") {
  FakeHost host;
  Health health(active(1, 1), 1);
  HealthCheckSettings s = check_settings();
  s.status = 204;
  HealthChecker checker(&host.api, kLogConfig, host.worker, targets(1), s, health);
  host.round();
  host.answer(host.open_conns().at(0), "HTTP/1.1 200 OK\r\n\r\n");
  CHECK_FALSE(health.available(0, host.now_ms));
  host.round();
  host.answer(host.open_conns().at(0), "HTTP/1.1 204 No Content\r\n\r\n");
  CHECK(health.available(0, host.now_ms));
}

TEST_CASE("fall and rise count rounds: down after `fall` failed rounds, back after `rise` passed ones") {
  FakeHost host;
  Health health(active(3, 2), 1);
  HealthChecker checker(&host.api, kLogConfig, host.worker, targets(1), check_settings(), health);
  for (int i = 0; i < 3; ++i) {
    CHECK(health.available(0, host.now_ms));
    host.round();
    host.answer(host.open_conns().at(0), "HTTP/1.1 500 Oops\r\n");
  }
  CHECK_FALSE(health.available(0, host.now_ms));
  host.round();
  host.answer(host.open_conns().at(0), "HTTP/1.1 200 OK\r\n");
  CHECK_FALSE(health.available(0, host.now_ms));
  host.round();
  host.answer(host.open_conns().at(0), "HTTP/1.1 200 OK\r\n");
  CHECK(health.available(0, host.now_ms));
  CHECK(host.logs.size() == 2);  // one line per change, not per check
}

TEST_CASE("connect failures fail the check: refused at once, or reported by on_connected") {
  FakeHost host;
  Health health(active(2, 1), 1);
  HealthChecker checker(&host.api, kLogConfig, host.worker, targets(1), check_settings(), health);
  host.refuse_connects = true;
  host.round();
  CHECK(host.conns.empty());
  CHECK(host.live_timers() == 1);  // no deadline armed for a connection that never was
  host.refuse_connects = false;
  host.round();
  const uintptr_t c = host.open_conns().at(0);
  host.connect_result(c, ECONNREFUSED);
  CHECK_FALSE(host.conns.at(c).open);  // closed after a failed connect, as the ABI asks
  CHECK(host.conns.at(c).sent.empty());
  CHECK_FALSE(health.available(0, host.now_ms));
  CHECK(host.logs.size() == 1);
  CHECK(host.logs[0].find("connect failed: ") != std::string::npos);
  CHECK(host.live_timers() == 1);
}

TEST_CASE("a close or a reset before the status line fails the check") {
  for (int err : {0, ECONNRESET}) {
    CAPTURE(err);
    FakeHost host;
    Health health(active(1, 1), 1);
    HealthChecker checker(&host.api, kLogConfig, host.worker, targets(1), check_settings(), health);
    host.round();
    const uintptr_t c = host.open_conns().at(0);
    host.answer(c, "HTTP/1.1 20");  // 11 of the 13 bytes a verdict needs
    CHECK(host.conns.at(c).open);
    host.eof(c, err);
    CHECK_FALSE(host.conns.at(c).open);
    CHECK_FALSE(health.available(0, host.now_ms));
  }
}

TEST_CASE("ECONNABORTED (the host is ending the worker) closes the check without a verdict") {
  FakeHost host;
  Health health(active(1, 1), 2);
  HealthChecker checker(&host.api, kLogConfig, host.worker, targets(2), check_settings(), health);
  host.round();
  const auto conns = host.open_conns();
  host.connect_result(conns[0], ECONNABORTED);  // before it connected
  host.connect_result(conns[1], 0);
  host.eof(conns[1], ECONNABORTED);             // after
  CHECK(host.open_conns().empty());
  CHECK(host.live_timers() == 1);
  CHECK(health.available(0, host.now_ms));
  CHECK(health.available(1, host.now_ms));
  CHECK(host.logs.empty());
}

TEST_CASE("no status line within health_timeout_ms fails the check and closes the connection") {
  FakeHost host;
  Health health(active(1, 1), 1);
  HealthChecker checker(&host.api, kLogConfig, host.worker, targets(1), check_settings(), health);
  host.round();
  const uintptr_t c = host.open_conns().at(0);
  host.connect_result(c, 0);
  host.fire(host.timeout_of(c));
  CHECK_FALSE(host.conns.at(c).open);
  CHECK_FALSE(health.available(0, host.now_ms));
  CHECK(host.logs == std::vector<std::string>{"warn upstream server 127.0.0.1:9001 is down: timed out"});
  CHECK(host.live_timers() == 1);
}

TEST_CASE("at most one check in flight per server: a round skips a server still being checked") {
  FakeHost host;
  Health health(active(1, 1), 2);
  HealthChecker checker(&host.api, kLogConfig, host.worker, targets(2), check_settings(), health);
  host.round();
  CHECK(host.conns.size() == 2);
  const auto first = host.open_conns();
  const uintptr_t hanging = first[1];
  host.answer(first[0], "HTTP/1.1 200 OK\r\n");
  for (int i = 0; i < 5; ++i) {  // server 1 hangs through five rounds; server 0 answers each
    host.round();
    const auto open = host.open_conns();
    REQUIRE(open.size() == 2);  // never more than one open per server
    CHECK(open[0] == hanging);
    CHECK(host.conns.at(open[1]).to.port == 9001);
    CHECK(host.live_timers() == 1 + 2);  // the interval and one deadline per open check
    host.answer(open[1], "HTTP/1.1 200 OK\r\n");
  }
  CHECK(host.conns.size() == 2 + 5);  // server 0 got a new check each round, server 1 none
}

TEST_CASE("a send that is refused for now waits for on_writable") {
  FakeHost host;
  Health health(active(1, 1), 1);
  HealthChecker checker(&host.api, kLogConfig, host.worker, targets(1), check_settings(), health);
  host.round();
  const uintptr_t c = host.open_conns().at(0);
  host.send_again = 1;
  host.connect_result(c, 0);
  CHECK(host.conns.at(c).sent.empty());
  host.writable(c);
  CHECK(host.conns.at(c).sent == "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nConnection: close\r\n\r\n");
  host.writable(c);  // a spurious one sends nothing twice
  CHECK(host.conns.at(c).sent == "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nConnection: close\r\n\r\n");
}

TEST_CASE("stop() and the destructor close every check in flight and stop every timer, without a verdict") {
  FakeHost host;
  Health health(active(1, 1), 3);
  {
    HealthChecker checker(&host.api, kLogConfig, host.worker, targets(3), check_settings(), health);
    host.round();
    host.connect_result(host.open_conns().at(1), 0);
    CHECK(host.open_conns().size() == 3);
    CHECK(host.live_timers() == 4);
    checker.stop();
    CHECK(host.open_conns().empty());
    CHECK(host.live_timers() == 0);
    CHECK_FALSE(checker.running());
    checker.stop();  // idempotent: nothing closed or stopped twice (the fake REQUIREs it)
  }
  for (size_t i = 0; i < 3; ++i) CHECK(health.available(i, host.now_ms));
  CHECK(host.logs.empty());

  // The destructor alone does the same.
  {
    HealthChecker checker(&host.api, kLogConfig, host.worker, targets(2), check_settings(), health);
    host.round();
    CHECK(host.open_conns().size() == 2);
  }
  CHECK(host.open_conns().empty());
  CHECK(host.live_timers() == 0);
}

TEST_CASE("a host that refuses the interval timer, or predates loop services: not running, no calls") {
  {
    FakeHost host;
    host.refuse_timers = true;
    Health health(active(1, 1), 1);
    HealthChecker checker(&host.api, kLogConfig, host.worker, targets(1), check_settings(), health);
    CHECK_FALSE(checker.running());
  }
  {
    FakeHost host;
    host.api.struct_size = offsetof(axle_host_api_t, timer_start);  // a 1.1 host
    Health health(active(1, 1), 1);
    HealthChecker checker(&host.api, kLogConfig, host.worker, targets(1), check_settings(), health);
    CHECK_FALSE(checker.running());
    CHECK(host.timers.empty());
  }
}

TEST_CASE("a refused deadline timer: the connection is closed with no verdict, the next round tries again") {
  FakeHost host;
  Health health(active(1, 1), 1);
  HealthChecker checker(&host.api, kLogConfig, host.worker, targets(1), check_settings(), health);
  host.refuse_timers = true;
  host.round();
  REQUIRE(host.conns.size() == 1);
  CHECK(host.open_conns().empty());
  CHECK(health.available(0, host.now_ms));
  host.refuse_timers = false;
  host.round();
  CHECK(host.open_conns().size() == 1);
}

}  // TEST_SUITE
