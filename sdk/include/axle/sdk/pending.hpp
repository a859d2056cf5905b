// axle C++ SDK (internal): runs a coroutine handler for one request — starts
// it inside handle(), keeps the response when it first waits, routes the
// host's hooks (abort, writable, body) to its Exchange, and finishes and frees
// the request when the coroutine ends. handler.hpp calls Pending::start.
#pragma once

#include <axle/handler.h>
#include <axle/module.h>
#include <axle/sdk/config.hpp>
#include <axle/sdk/exchange.hpp>
#include <axle/sdk/guard.hpp>
#include <axle/sdk/task.hpp>

#include <cstdio>
#include <exception>
#include <new>
#include <string_view>
#include <utility>

namespace axle::sdk::detail {

// Owned by itself: freed when the coroutine ends (after the response is
// finished) or when the host aborts the request, whichever comes first.
class Pending {
 public:
  // handle()'s body for a coroutine route. make(ex) calls the route's
  // handle(ex). module and route name the request in error logs; both must
  // outlive it (static name, the route's pattern).
  template <class Make>
  static axle_status_t start(const Host &host, const char *module, std::string_view route, const axle_request_t *req,
                             axle_response_t *resp, Make &&make) noexcept {
    const axle_host_api_t *api = host.api();
    if (!AXLE_STRUCT_HAS(api, axle_host_api_t, request_address) || !api->response_keep) {
      host.log(LogLevel::error, "a coroutine handler needs a host with ABI 1.2 kept responses");
      return AXLE_ERR_UNSUPPORTED;
    }
    Pending *p = new (std::nothrow) Pending(host, module, route, req, resp);
    if (!p) return AXLE_ERR_NOMEM;
    axle_status_t st = guarded([&] { p->task_ = make(p->ex_); }, [&](const char *what) { p->log(what); });
    if (st != AXLE_OK) {
      delete p;
      return st;
    }
    p->task_.handle().resume();  // runs until it first waits, or to its end
    return p->after_start();
  }

 private:
  Pending(const Host &host, const char *module, std::string_view route, const axle_request_t *req,
          axle_response_t *resp)
      : host_(host), module_(module), route_(route), ex_(host.api(), req, resp) {
    ex_.hooks_ = &hooks;
    ex_.hooks_arg_ = this;
    ex_.on_settle(&settle, this);
  }

  axle_status_t after_start() noexcept {
    if (task_.handle().done()) {
      axle_status_t st = conclude();
      delete this;
      return st;
    }
    if (ex_.finished()) return drop_stuck();
    // It waits: the request's memory goes away when handle() returns.
    axle_status_t st = guarded(
        [&] {
          ex_.take_buffered_body();
          ex_.req_ = nullptr;
          ex_.keep();
        },
        [&](const char *what) { log(what); });
    if (st != AXLE_OK) {
      delete this;  // nothing was kept: the host answers 500
      return st;
    }
    return AXLE_PENDING;
  }

  // The coroutine ended: finish what it left open. Returns what handle()
  // returns if this happens inside it.
  axle_status_t conclude() noexcept {
    std::exception_ptr error = task_.handle().promise().error;
    if (!error) {
      if (ex_.finished()) return ex_.kept_ ? AXLE_PENDING : AXLE_OK;
      axle_status_t st = guarded([&] { ex_.finish(); }, [&](const char *what) { log(what); });
      end_if_open();
      return ex_.kept_ ? AXLE_PENDING : st;
    }
    axle_status_t st = guarded([&] { std::rethrow_exception(error); }, [&](const char *what) { log(what); });
    if (!ex_.kept_) return st;  // inside handle(), nothing sent: the host answers 500
    if (ex_.phase_ == Exchange::Phase::head) {
      // Nothing of the handler's head has been sent: a clean 500.
      ex_.status_ = 500;
      ex_.headers_.clear();
      ex_.body_.clear();
    }
    if (ex_.phase_ == Exchange::Phase::body) {
      // A begun body is cut: the client must see it truncated, not complete.
      ex_.cancel();
      return AXLE_PENDING;
    }
    if (!ex_.finished()) guarded([&] { ex_.finish(); }, [&](const char *what) { log(what); });
    end_if_open();
    return AXLE_PENDING;
  }

  // A finish that threw (a header refused, out of memory) left the kept
  // response open, but this Pending is deleted next: the host must not keep
  // it, or its on_abort would reach freed memory.
  void end_if_open() noexcept {
    if (ex_.kept_ && !ex_.finished()) ex_.cancel();
  }

  // The coroutine waits on something after finishing: nothing can resume it
  // (the host makes no call after finish), so it is destroyed.
  axle_status_t drop_stuck() noexcept {
    log("the handler waited after finishing its response; its coroutine was destroyed");
    axle_status_t st = ex_.kept_ ? AXLE_PENDING : AXLE_OK;
    delete this;
    return st;
  }

  void log(const char *what) const noexcept { log_route_error(host_, module_, route_, what); }

  // ---- from the host (hooks) and from Driver::resume ----

  static void settle(void *arg) noexcept {
    auto *p = static_cast<Pending *>(arg);
    if (p->task_.handle().done()) {
      p->conclude();
      delete p;
    } else if (p->ex_.finished()) {
      p->drop_stuck();
    }
  }
  static void on_abort(void *arg, axle_abort_reason_t) noexcept {
    auto *p = static_cast<Pending *>(arg);
    // The handle is dead: nothing may reach the host through it, not even
    // the destructors that run while the frame is destroyed.
    p->ex_.phase_ = Exchange::Phase::done;
    p->ex_.mark_finished();
    delete p;
  }
  static void on_writable(void *arg) noexcept { static_cast<Pending *>(arg)->ex_.on_writable(); }
  static void on_body(void *arg, const char *data, size_t len, int last) noexcept {
    static_cast<Pending *>(arg)->ex_.on_body(data, len, last != 0);
  }
  static constexpr axle_response_hooks_t hooks{
      .struct_size = sizeof(axle_response_hooks_t),
      .on_abort = on_abort,
      .on_writable = on_writable,
      .on_body = on_body,
  };

  Host host_;
  const char *module_;
  std::string_view route_;
  Exchange ex_;
  Task task_{};  // declared after ex_: destroyed first, while ex_ still exists
};

}  // namespace axle::sdk::detail
