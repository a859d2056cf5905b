// A worker's idle keep-alive connections to one upstream server. Bounded:
// at most max_idle connections (a connection given back beyond that is
// closed), each closed after idle_timeout_ms or as soon as the server closes
// it or sends anything unasked. Most recently used first, so the rest age out.
#pragma once

#include "upstream_conn.h"

#include <axle/module.h>

#include <cstdint>
#include <vector>

namespace axle::proxy {

class Pool final : public ConnOwner {
 public:
  // idle_gauge: the module's axle_proxy_pool_idle metric (may be null).
  Pool(const axle_host_api_t *api, uint32_t max_idle, uint64_t idle_timeout_ms, axle_metric_t *idle_gauge)
      : api_(api), max_idle_(max_idle), idle_timeout_ms_(idle_timeout_ms), gauge_(idle_gauge) {}
  Pool(const Pool &) = delete;
  Pool &operator=(const Pool &) = delete;
  ~Pool();  // closes every idle connection

  // An idle connection (now the caller's, owner unset), or null.
  UpstreamConn *take();
  // A connection that finished a response cleanly and may serve another.
  void put(UpstreamConn *c, uint64_t now_ms);
  // Closes the connections idle for longer than the timeout.
  void sweep(uint64_t now_ms);
  size_t idle() const { return idle_.size(); }

  void conn_connected(UpstreamConn &, int) override {}
  void conn_data(UpstreamConn &c, const char *, size_t) override { drop(c); }
  void conn_eof(UpstreamConn &c, int) override { drop(c); }
  void conn_writable(UpstreamConn &) override {}

 private:
  void drop(UpstreamConn &c);
  void count(int64_t delta) {
    if (gauge_) api_->metric_add(gauge_, delta);
  }

  const axle_host_api_t *api_;
  uint32_t max_idle_;
  uint64_t idle_timeout_ms_;
  axle_metric_t *gauge_;
  std::vector<UpstreamConn *> idle_;  // oldest first; at most max_idle_
};

}  // namespace axle::proxy
