#include "pool.h"

#include <algorithm>

namespace axle::proxy {

Pool::~Pool() {
  for (UpstreamConn *c : idle_) c->close();
  count(-static_cast<int64_t>(idle_.size()));
}

UpstreamConn *Pool::take() {
  if (idle_.empty()) return nullptr;
  UpstreamConn *c = idle_.back();
  idle_.pop_back();
  count(-1);
  c->reused = true;
  return c;
}

void Pool::put(UpstreamConn *c, uint64_t now_ms) {
  if (idle_.size() >= max_idle_) {
    c->close();
    return;
  }
  c->set_owner(this);
  c->idle_since_ms = now_ms;
  idle_.push_back(c);
  count(1);
}

void Pool::sweep(uint64_t now_ms) {
  size_t stale = 0;
  while (stale < idle_.size() && now_ms - idle_[stale]->idle_since_ms >= idle_timeout_ms_) ++stale;
  if (!stale) return;
  for (size_t i = 0; i < stale; ++i) idle_[i]->close();
  idle_.erase(idle_.begin(), idle_.begin() + static_cast<ptrdiff_t>(stale));
  count(-static_cast<int64_t>(stale));
}

void Pool::drop(UpstreamConn &c) {
  auto it = std::find(idle_.begin(), idle_.end(), &c);
  if (it != idle_.end()) {
    idle_.erase(it);
    count(-1);
  }
  c.close();
}

}  // namespace axle::proxy
