// The SDK's coroutine glue (task.hpp, exchange.hpp, pending.hpp, timer.hpp,
// outgoing.hpp) against a scripted host: every 1.2 host call is recorded,
// timers fire and hooks run when a test says so. This checks the ownership
// rules without a server: abort destroys the frame (timers stop, outgoing
// connections close) and nothing touches the handle afterwards; misuse
// throws; an exception gives a 500.
#include <axle/sdk/handler.hpp>

#include <doctest/doctest.h>

#include <array>
#include <memory>
#include <stdexcept>
#include <optional>
#include <string>
#include <vector>

// The host's opaque types, as this fake host defines them.
struct axle_response_t {
  int id;
};
struct axle_timer_t {
  axle_task_fn fn;
  void *arg;
  uint64_t delay_ms;
  bool stopped = false;
};
struct axle_outgoing_t {
  const axle_outgoing_events_t *events;
  void *arg;
  bool closed = false;
};
struct axle_worker_t {
  int id;
};

namespace {

// Everything the fake host saw, and what it answers next.
struct FakeHost {
  std::vector<std::string> calls;  // one line per host call, in order
  axle_response_t handle_resp{1};
  axle_response_t kept_resp{2};
  const axle_response_hooks_t *hooks = nullptr;
  void *hooks_arg = nullptr;
  bool finished = false;
  bool aborted = false;
  uint16_t status = 0;
  std::string body;  // response_body_copy and response_write bytes
  int write_again = 0;  // answer AXLE_AGAIN to this many next writes
  std::vector<std::unique_ptr<axle_timer_t>> timers;
  std::vector<std::unique_ptr<axle_outgoing_t>> outgoing;
  std::string sent;  // outgoing_send bytes

  void call(std::string line) {
    // A call through a handle after finish or abort is the bug this suite hunts.
    if (finished || aborted) calls.push_back("AFTER END: " + line);
    calls.push_back(std::move(line));
  }
  bool saw(const std::string &line) const {
    for (const auto &c : calls)
      if (c == line) return true;
    return false;
  }
  bool clean() const {
    for (const auto &c : calls)
      if (c.rfind("AFTER END", 0) == 0) return false;
    return true;
  }
  axle_timer_t *live_timer() {
    for (auto &t : timers)
      if (!t->stopped) return t.get();
    return nullptr;
  }
  void fire(axle_timer_t *t) { t->fn(t->arg); }
  // From here on any response call is a bug (destructors may still stop
  // timers and close outgoing connections).
  void abort() {
    aborted = true;
    hooks->on_abort(hooks_arg, AXLE_ABORT_CLIENT_GONE);
  }
};

FakeHost *fake;

void h_log(const axle_config_t *, axle_log_level_t, const char *msg, size_t len) {
  fake->calls.push_back("log " + std::string(msg, len));
}
void h_set_status(axle_response_t *, uint16_t s) {
  fake->call("status " + std::to_string(s));
  fake->status = s;
}
axle_status_t h_add_header(axle_response_t *, axle_str_t n, axle_str_t v) {
  fake->call("header " + std::string(n.ptr, n.len) + ": " + std::string(v.ptr, v.len));
  return AXLE_OK;
}
axle_status_t h_body_copy(axle_response_t *, const void *d, size_t len) {
  fake->call("body_copy");
  fake->body.append(static_cast<const char *>(d), len);
  return AXLE_OK;
}
axle_response_t *h_keep(axle_response_t *resp, const axle_response_hooks_t *hooks, void *arg) {
  fake->call("keep");
  REQUIRE(resp == &fake->handle_resp);
  fake->hooks = hooks;
  fake->hooks_arg = arg;
  return &fake->kept_resp;
}
axle_status_t h_begin(axle_response_t *, int64_t len) {
  fake->call("begin " + std::to_string(len));
  return AXLE_OK;
}
axle_status_t h_write(axle_response_t *resp, const void *d, size_t len) {
  fake->call("write");
  REQUIRE(resp == &fake->kept_resp);
  if (fake->write_again > 0) {
    --fake->write_again;
    return AXLE_AGAIN;
  }
  fake->body.append(static_cast<const char *>(d), len);
  return AXLE_OK;
}
axle_status_t h_finish(axle_response_t *resp, const axle_header_t *trailers, uint32_t count) {
  std::string line = "finish";
  for (uint32_t i = 0; i < count; ++i) line += " " + std::string(trailers[i].name.ptr, trailers[i].name.len);
  fake->call(line);
  REQUIRE(resp == &fake->kept_resp);
  fake->finished = true;
  return AXLE_OK;
}
axle_status_t h_close_connection(axle_response_t *) {
  fake->call("close_connection");
  return AXLE_OK;
}
axle_status_t h_switch(axle_response_t *resp) {
  fake->call("switch_protocols");
  REQUIRE(resp == &fake->kept_resp);
  return AXLE_OK;
}
axle_status_t h_body_pause(axle_response_t *, int paused) {
  fake->call("pause " + std::to_string(paused));
  return AXLE_OK;
}
axle_timer_t *h_timer_start(axle_worker_t *, uint64_t delay, uint64_t, axle_task_fn fn, void *arg) {
  fake->calls.push_back("timer_start " + std::to_string(delay));
  fake->timers.push_back(std::make_unique<axle_timer_t>(axle_timer_t{fn, arg, delay}));
  return fake->timers.back().get();
}
void h_timer_stop(axle_timer_t *t) {
  fake->calls.push_back("timer_stop");
  t->stopped = true;
}
axle_outgoing_t *h_connect(axle_worker_t *, const axle_address_t *to, const axle_outgoing_events_t *ev, void *arg,
                           axle_error_t *) {
  fake->calls.push_back("connect " + std::to_string(to->port));
  fake->outgoing.push_back(std::make_unique<axle_outgoing_t>(axle_outgoing_t{ev, arg}));
  return fake->outgoing.back().get();
}
axle_status_t h_send(axle_outgoing_t *, const void *d, size_t len) {
  fake->sent.append(static_cast<const char *>(d), len);
  return AXLE_OK;
}
void h_outgoing_pause(axle_outgoing_t *, int paused) { fake->calls.push_back("outgoing_pause " + std::to_string(paused)); }
void h_outgoing_close(axle_outgoing_t *c) {
  fake->calls.push_back("outgoing_close");
  c->closed = true;
}

const axle_host_api_t host_api = [] {
  axle_host_api_t api{};
  api.struct_size = sizeof api;
  api.abi_major = AXLE_ABI_MAJOR;
  api.abi_minor = AXLE_ABI_MINOR;
  api.log = h_log;
  api.response_set_status = h_set_status;
  api.response_add_header = h_add_header;
  api.response_body_copy = h_body_copy;
  api.response_keep = h_keep;
  api.response_begin = h_begin;
  api.response_write = h_write;
  api.response_finish = h_finish;
  api.response_close_connection = h_close_connection;
  api.request_body_pause = h_body_pause;
  api.response_switch_protocols = h_switch;
  api.timer_start = h_timer_start;
  api.timer_stop = h_timer_stop;
  api.outgoing_connect = h_connect;
  api.outgoing_send = h_send;
  api.outgoing_pause = h_outgoing_pause;
  api.outgoing_close = h_outgoing_close;
  return api;
}();

// Counts live objects of a coroutine frame: proves the frame was destroyed.
int alive = 0;
struct Local {
  Local() { ++alive; }
  ~Local() { --alive; }
  Local(const Local &) = delete;
};

// What the test routes saw from inside their coroutine.
std::vector<std::string> seen;

// A module whose route runs the coroutine the test sets.
using Body = axle::sdk::Task (*)(axle::sdk::Exchange &);
Body route_body;
struct Probe {
  static constexpr const char *name = "probe";
  static constexpr const char *version = "1.0.0";
  static constexpr const char *description = "test";
  struct Route {
    axle::sdk::Task handle(axle::sdk::Exchange &ex) const { return route_body(ex); }
  };
  Route route_init(const axle::sdk::RouteConfig &) { return {}; }
};
using Glue = axle::sdk::detail::HandlerGlue<Probe>;

// Runs one request through the glue, as the host's handle() call would.
struct Run {
  FakeHost host;
  axle_worker_t worker{0};
  axle_request_t req{};
  Glue::RouteState state{axle::sdk::Host(&host_api, nullptr), "/t", Probe::Route{}};

  explicit Run(Body body, uint32_t flags = 0, std::string_view request_body = {}) {
    fake = &host;
    seen.clear();
    route_body = body;
    req.struct_size = sizeof req;
    req.method = {"GET", 3};
    req.path = {"/t", 2};
    req.worker = &worker;
    req.flags = flags;
    req.body = {request_body.data(), request_body.size()};
  }
  axle_status_t handle() { return Glue::handle(&state, nullptr, &req, &host.handle_resp); }
};

}  // namespace

TEST_CASE("a coroutine that never waits answers inside handle(), without keeping") {
  Run run(+[](axle::sdk::Exchange &ex) -> axle::sdk::Task {
    ex.status(201).header("X-A", "1");
    ex.reply("done");
    co_return;
  });
  CHECK(run.handle() == AXLE_OK);
  CHECK_FALSE(run.host.saw("keep"));
  CHECK(run.host.status == 201);
  CHECK(run.host.saw("header X-A: 1"));
  CHECK(run.host.body == "done");
}

TEST_CASE("sleep keeps the response, the request is unreadable after suspending, the timer resumes it") {
  Run run(+[](axle::sdk::Exchange &ex) -> axle::sdk::Task {
    Local local;
    seen.push_back(std::string(ex.request().path()));
    co_await ex.sleep(25);
    try {
      (void)ex.request();
    } catch (const axle::sdk::Error &) {
      seen.push_back("request refused");
    }
    ex.reply("slept");
  });
  CHECK(run.handle() == AXLE_PENDING);
  CHECK(run.host.saw("keep"));
  CHECK(run.host.saw("timer_start 25"));
  CHECK(alive == 1);
  run.host.fire(run.host.live_timer());
  CHECK(seen == std::vector<std::string>{"/t", "request refused"});
  CHECK(run.host.saw("finish"));
  CHECK(run.host.body == "slept");
  CHECK(run.host.saw("timer_stop"));
  CHECK(alive == 0);
  CHECK(run.host.clean());
}

TEST_CASE("sleep(0) does not suspend; a refused timer throws Error into the coroutine") {
  Run run(+[](axle::sdk::Exchange &ex) -> axle::sdk::Task {
    co_await ex.sleep(0);
    seen.push_back("slept 0");
    ex.reply("ok");
  });
  CHECK(run.handle() == AXLE_OK);
  CHECK(seen == std::vector<std::string>{"slept 0"});
  CHECK_FALSE(run.host.saw("timer_start 0"));

  axle_host_api_t no_timers = host_api;
  no_timers.timer_start = nullptr;
  Run refused(+[](axle::sdk::Exchange &ex) -> axle::sdk::Task {
    try {
      co_await ex.sleep(5);
    } catch (const axle::sdk::Error &e) {
      seen.push_back(e.what());
    }
    ex.reply("ok");
  });
  refused.state.host = axle::sdk::Host(&no_timers, nullptr);
  CHECK(refused.handle() == AXLE_OK);
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].rfind("timer refused", 0) == 0);
}

TEST_CASE("abort mid-sleep destroys the frame, stops the timer and makes no call on the handle") {
  Run run(+[](axle::sdk::Exchange &ex) -> axle::sdk::Task {
    Local local;
    co_await ex.sleep(1000);
    seen.push_back("resumed");
    ex.reply("never");
  });
  CHECK(run.handle() == AXLE_PENDING);
  CHECK(alive == 1);
  run.host.abort();
  CHECK(alive == 0);
  CHECK(run.host.timers.front()->stopped);
  CHECK(seen.empty());
  CHECK_FALSE(run.host.saw("finish"));
  CHECK(run.host.clean());
}

TEST_CASE("a write the connection cannot take waits for on_writable, then goes on") {
  Run run(+[](axle::sdk::Exchange &ex) -> axle::sdk::Task {
    ex.begin(200, {{"Content-Type", "text/event-stream"}});
    std::string a = "first;";
    co_await ex.write(a);
    seen.push_back("first written");
    std::string b = "second;";
    co_await ex.write(b);
    seen.push_back("second written");
    std::array<axle::sdk::Field, 1> trailers{{{"X-Done", "yes"}}};
    ex.finish(trailers);
  });
  run.host.write_again = 1;
  CHECK(run.handle() == AXLE_PENDING);
  CHECK(run.host.saw("keep"));
  CHECK(run.host.saw("begin -1"));
  CHECK(seen.empty());
  run.host.hooks->on_writable(run.host.hooks_arg);
  CHECK(seen == std::vector<std::string>{"first written", "second written"});
  CHECK(run.host.body == "first;second;");
  CHECK(run.host.saw("finish X-Done"));
  CHECK(run.host.clean());
}

TEST_CASE("finishing twice and writing after finish throw Error, never reach the host") {
  Run run(+[](axle::sdk::Exchange &ex) -> axle::sdk::Task {
    co_await ex.sleep(1);
    ex.reply("one");
    try {
      ex.finish();
    } catch (const axle::sdk::Error &) {
      seen.push_back("finish refused");
    }
    try {
      co_await ex.write("x");
    } catch (const axle::sdk::Error &) {
      seen.push_back("write refused");
    }
    try {
      co_await ex.sleep(5);
    } catch (const axle::sdk::Error &) {
      seen.push_back("sleep refused");
    }
  });
  CHECK(run.handle() == AXLE_PENDING);
  run.host.fire(run.host.live_timer());
  CHECK(seen == std::vector<std::string>{"finish refused", "write refused", "sleep refused"});
  CHECK(run.host.body == "one");
  CHECK(run.host.clean());
}

TEST_CASE("an exception before begin answers a clean 500; inside handle() it is the handler's error status") {
  SUBCASE("after waiting") {
    Run run(+[](axle::sdk::Exchange &ex) -> axle::sdk::Task {
      ex.header("X-Handler", "1");
      co_await ex.sleep(1);
      throw std::runtime_error("boom");
    });
    CHECK(run.handle() == AXLE_PENDING);
    run.host.fire(run.host.live_timer());
    CHECK(run.host.status == 500);
    CHECK_FALSE(run.host.saw("header X-Handler: 1"));
    CHECK(run.host.saw("finish"));
    CHECK(run.host.saw("log probe: route /t: boom"));
  }
  SUBCASE("after begin: the body ends early and the connection closes after it") {
    Run run(+[](axle::sdk::Exchange &ex) -> axle::sdk::Task {
      ex.begin(100);
      co_await ex.write("part");
      co_await ex.sleep(1);
      throw std::runtime_error("midway");
    });
    CHECK(run.handle() == AXLE_PENDING);
    run.host.fire(run.host.live_timer());
    CHECK(run.host.status == 200);
    CHECK(run.host.saw("close_connection"));
    CHECK(run.host.saw("finish"));
    CHECK(run.host.saw("log probe: route /t: midway"));
    CHECK(run.host.clean());
  }
  SUBCASE("before waiting") {
    Run run(+[](axle::sdk::Exchange &) -> axle::sdk::Task {
      throw axle::sdk::Error(AXLE_ERR_INVALID, "bad");
      co_return;
    });
    CHECK(run.handle() == AXLE_ERR_INVALID);
    CHECK_FALSE(run.host.saw("keep"));
  }
}

TEST_CASE("a streamed body: pieces resume the coroutine; a piece nobody waits for pauses the host") {
  Run run(
      +[](axle::sdk::Exchange &ex) -> axle::sdk::Task {
        std::string all;
        auto first = co_await ex.body();
        all += first.data;
        co_await ex.sleep(10);  // not waiting for the body now
        for (;;) {
          auto piece = co_await ex.body();
          all += piece.data;
          if (piece.last) break;
        }
        ex.reply(all);
      },
      AXLE_REQUEST_BODY_STREAM);
  CHECK(run.handle() == AXLE_PENDING);
  run.host.hooks->on_body(run.host.hooks_arg, "ab", 2, 0);  // resumes, then it sleeps
  run.host.hooks->on_body(run.host.hooks_arg, "cd", 2, 0);  // nobody waits: held, host paused
  CHECK(run.host.saw("pause 1"));
  run.host.fire(run.host.live_timer());  // takes "cd", resumes the host, waits
  CHECK(run.host.saw("pause 0"));
  run.host.hooks->on_body(run.host.hooks_arg, "ef", 2, 1);
  CHECK(run.host.body == "abcdef");
  CHECK(run.host.clean());
}

TEST_CASE("switch_protocols keeps, sends the head, switches; body() then gives the tunnel's stream, write() sends raw") {
  Run run(
      +[](axle::sdk::Exchange &ex) -> axle::sdk::Task {
        ex.header("Upgrade", "echo");
        ex.switch_protocols();
        for (;;) {
          auto piece = co_await ex.body();  // the tunnel's bytes, not the request body
          co_await ex.write(piece.data);
          if (piece.last) break;
        }
        bool threw = false;
        try {
          ex.begin();  // a tunnel is not an HTTP response
        } catch (const axle::sdk::Error &) {
          threw = true;
        }
        CHECK(threw);
        ex.finish();
      },
      0, "request body");
  CHECK(run.handle() == AXLE_PENDING);
  CHECK(run.host.saw("keep"));
  CHECK(run.host.saw("header Upgrade: echo"));
  CHECK(run.host.saw("switch_protocols"));
  run.host.hooks->on_body(run.host.hooks_arg, "ab", 2, 0);
  run.host.hooks->on_body(run.host.hooks_arg, "", 0, 1);
  CHECK(run.host.body == "ab");  // nothing of the request body leaked into the tunnel
  CHECK(run.host.finished);
  CHECK(run.host.clean());
}

TEST_CASE("a buffered body is taken before the first suspension") {
  Run run(
      +[](axle::sdk::Exchange &ex) -> axle::sdk::Task {
        co_await ex.sleep(1);
        auto piece = co_await ex.body();
        CHECK(piece.last);
        ex.reply(piece.data);
      },
      0, "whole body");
  CHECK(run.handle() == AXLE_PENDING);
  run.host.fire(run.host.live_timer());
  CHECK(run.host.body == "whole body");
}

TEST_CASE("an outgoing connection: connect, send, read to the end; abort closes it") {
  SUBCASE("to the end") {
    Run run(+[](axle::sdk::Exchange &ex) -> axle::sdk::Task {
      auto conn = co_await ex.connect(axle::sdk::address("127.0.0.1", 9000));
      co_await conn.send("PING");
      std::string got;
      while (auto bytes = co_await conn.read()) got += *bytes;
      ex.reply(got);
    });
    CHECK(run.handle() == AXLE_PENDING);
    CHECK(run.host.saw("connect 9000"));
    auto *c = run.host.outgoing.front().get();
    c->events->on_connected(c->arg, 0);
    CHECK(run.host.sent == "PING");
    c->events->on_data(c->arg, "PO", 2);
    c->events->on_data(c->arg, "NG", 2);
    c->events->on_eof(c->arg, 0);
    CHECK(run.host.body == "PONG");
    CHECK(c->closed);
  }
  SUBCASE("aborted while reading") {
    Run run(+[](axle::sdk::Exchange &ex) -> axle::sdk::Task {
      auto conn = co_await ex.connect(axle::sdk::address("::1", 9001));
      (void)co_await conn.read();
      ex.reply("never");
    });
    CHECK(run.handle() == AXLE_PENDING);
    auto *c = run.host.outgoing.front().get();
    c->events->on_connected(c->arg, 0);
    CHECK_FALSE(c->closed);
    run.host.abort();
    CHECK(c->closed);
    CHECK(run.host.clean());
  }
  SUBCASE("refused") {
    Run run(+[](axle::sdk::Exchange &ex) -> axle::sdk::Task {
      auto conn = co_await ex.connect(axle::sdk::address("127.0.0.1", 9002));
      ex.reply("never");
    });
    CHECK(run.handle() == AXLE_PENDING);
    auto *c = run.host.outgoing.front().get();
    c->events->on_connected(c->arg, 111);
    CHECK(c->closed);
    CHECK(run.host.status == 500);
  }
}
