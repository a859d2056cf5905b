// axle C++ SDK: `co_await ex.sleep(ms)`, a one-shot timer on the request's
// worker (host timer_start). The awaiter owns its timer and stops it when it
// is destroyed, so a request aborted mid-sleep leaves no timer behind.
#pragma once

#include <axle/module.h>
#include <axle/sdk/driver.hpp>
#include <axle/sdk/error.hpp>

#include <coroutine>
#include <cstdint>

namespace axle::sdk {

class [[nodiscard]] Sleep {
 public:
  Sleep(detail::Driver &driver, uint64_t ms) : driver_(&driver), ms_(ms) {}
  // The timer's argument is this awaiter's address: it must not move.
  Sleep(const Sleep &) = delete;
  Sleep &operator=(const Sleep &) = delete;
  ~Sleep() {
    if (timer_) driver_->api()->timer_stop(timer_);
  }

  bool await_ready() const {
    driver_->check_can_wait("sleep");
    return ms_ == 0;
  }
  bool await_suspend(std::coroutine_handle<> waiter) {
    waiter_ = waiter;
    const axle_host_api_t *api = driver_->api();
    if (AXLE_STRUCT_HAS(api, axle_host_api_t, timer_stop) && api->timer_start && api->timer_stop) timer_ = api->timer_start(driver_->worker(), ms_, 0, &fire, this);
    refused_ = timer_ == nullptr;
    return !refused_;  // refused: resume at once, await_resume throws
  }
  void await_resume() const {
    if (refused_) throw Error(AXLE_ERR_UNSUPPORTED, "timer refused (no timers in this host, or the worker's bound reached)");
  }

 private:
  static void fire(void *arg) noexcept {
    auto *self = static_cast<Sleep *>(arg);
    self->driver_->resume(self->waiter_);  // may destroy self
  }

  detail::Driver *driver_;
  uint64_t ms_;
  axle_timer_t *timer_ = nullptr;
  bool refused_ = false;
  std::coroutine_handle<> waiter_;
};

}  // namespace axle::sdk
