#include "worker.h"

#include <algorithm>

#include "connection.h"
#include "instance.h"

namespace axle::tls {

uint32_t Worker::max_handshakes() const { return instance_.settings.max_handshakes; }

Worker::~Worker() {
  if (timer_) instance_.host->timer_stop(timer_);
}

bool Worker::start(std::string *error) {
  const axle_host_api_t *host = instance_.host;
  if (!AXLE_STRUCT_HAS(host, axle_host_api_t, timer_stop) || !host->timer_start || !host->timer_stop) {
    *error = "the openssl transport needs host timers (ABI 1.2 or later)";
    return false;
  }
  // A quarter of the timeout between sweeps (10 ms .. 1 s): a stalled handshake
  // is closed at most 25% (or 1 s) late, and an idle worker wakes rarely.
  const uint64_t period = std::clamp<uint64_t>(instance_.settings.handshake_timeout_ms / 4, 10, 1000);
  timer_ = host->timer_start(worker_, period, period, sweep, this);
  if (!timer_) {
    *error = "the host refused the handshake sweep timer";
    return false;
  }
  return true;
}

void Worker::watch(Connection *c) {
  unwatch(c);
  c->watched = true;
  c->prev = tail_;
  c->next = nullptr;
  (tail_ ? tail_->next : head_) = c;
  tail_ = c;
}

void Worker::unwatch(Connection *c) {
  if (!c->watched) return;
  (c->prev ? c->prev->next : head_) = c->next;
  (c->next ? c->next->prev : tail_) = c->prev;
  c->prev = c->next = nullptr;
  c->watched = false;
}

void Worker::sweep(void *self) {
  auto *w = static_cast<Worker *>(self);
  const uint64_t now = w->instance_.host->now_ns();
  while (w->head_ && w->head_->deadline_ns <= now) {
    Connection *c = w->head_;
    w->unwatch(c);
    c->deadline_passed();  // closes the lower connection; freed later in lower_closed
  }
}

}  // namespace axle::tls
