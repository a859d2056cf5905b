// io-uring's own figures, published through the host's module metrics (ABI 1.2).
//
// The loop only bumps plain fields of its own Figures (one owner thread, no
// atomic); publish() hands the deltas to the host once per tick, so the hot
// path pays nothing and the exposition lags by at most one tick. Gauges are
// published as deltas too, so several loops on one thread (an io swap) and a
// loop destroyed on another thread still sum right.
#pragma once

#include <axle/module.h>

#include <cstdint>
#include <string>

namespace axle::uring {

// Metric handles, registered in create(); any of them may be null (a 1.1
// host, or a refused registration): that figure is then not published.
struct Metrics {
  const axle_host_api_t *host = nullptr;
  axle_metric_t *sqes = nullptr, *submits = nullptr, *cqes = nullptr, *enobufs = nullptr, *stashed = nullptr;
  axle_metric_t *sq_entries = nullptr, *sq_in_use = nullptr, *buffers = nullptr, *buffers_in_use = nullptr,
                *inflight = nullptr;

  // Returns the names refused, for a log line ("" when all registered).
  std::string register_all(const axle_host_api_t *h, const axle_config_t *cfg) {
    if (!h || !AXLE_STRUCT_HAS(h, axle_host_api_t, metrics_collect) || !h->metric_register || !h->metric_add)
      return "";
    host = h;
    std::string refused;
    auto reg = [&](axle_metric_t *&out, axle_metric_kind_t kind, const char *name, const char *help) {
      axle_error_t *no_err = nullptr;  // the name is enough for the log line
      out = h->metric_register(cfg, kind, name, help, nullptr, 0, no_err);
      if (!out) refused += std::string(refused.empty() ? "" : ", ") + name;
    };
    reg(sqes, AXLE_METRIC_COUNTER, "axle_uring_sqes_submitted_total", "SQEs handed to the kernel.");
    reg(submits, AXLE_METRIC_COUNTER, "axle_uring_submit_calls_total",
        "Submit calls (io_uring_enter, or a ring flush under SQPOLL).");
    reg(cqes, AXLE_METRIC_COUNTER, "axle_uring_cqes_reaped_total", "CQEs reaped.");
    reg(enobufs, AXLE_METRIC_COUNTER, "axle_uring_recv_enobufs_total",
        "Receives that found the buffer ring empty (ENOBUFS); the bytes waited in the socket.");
    reg(stashed, AXLE_METRIC_COUNTER, "axle_uring_stashed_bytes_total",
        "Bytes copied out of ring buffers into a paused connection's stash.");
    reg(sq_entries, AXLE_METRIC_GAUGE, "axle_uring_sq_entries", "SQ ring entries, over every loop.");
    reg(sq_in_use, AXLE_METRIC_GAUGE, "axle_uring_sq_entries_in_use",
        "SQEs queued but not yet consumed by the kernel, at each loop's last tick.");
    reg(buffers, AXLE_METRIC_GAUGE, "axle_uring_buffers", "Provided receive buffers (buffer rings), over every loop.");
    reg(buffers_in_use, AXLE_METRIC_GAUGE, "axle_uring_buffers_in_use",
        "Provided receive buffers held by the kernel or a completion, at each loop's last tick.");
    reg(inflight, AXLE_METRIC_GAUGE, "axle_uring_ops_in_flight",
        "Operations submitted whose last completion was not seen, at each loop's last tick.");
    return refused;
  }

  void add(axle_metric_t *m, int64_t delta) const {
    if (m && delta) host->metric_add(m, delta);
  }
};

// One loop's figures: counters bumped by the loop, and what was published.
struct Figures {
  uint64_t submits = 0, cqes = 0, enobufs = 0, stashed = 0;  // bumped by the loop
  unsigned sqe_head = 0;                                       // liburing's count of SQEs flushed, wraps

  // What the loop reads at each tick.
  struct Now {
    unsigned sqe_head;
    int64_t sq_entries, sq_in_use, buffers, buffers_in_use, inflight;
  };

  void publish(const Metrics &m, const Now &now) {
    if (!m.host) return;
    m.add(m.sqes, static_cast<unsigned>(now.sqe_head - sqe_head));
    sqe_head = now.sqe_head;
    m.add(m.submits, static_cast<int64_t>(submits - pub_.submits));
    m.add(m.cqes, static_cast<int64_t>(cqes - pub_.cqes));
    m.add(m.enobufs, static_cast<int64_t>(enobufs - pub_.enobufs));
    m.add(m.stashed, static_cast<int64_t>(stashed - pub_.stashed));
    pub_.submits = submits;
    pub_.cqes = cqes;
    pub_.enobufs = enobufs;
    pub_.stashed = stashed;
    gauge(m, m.sq_entries, pub_.sq_entries, now.sq_entries);
    gauge(m, m.sq_in_use, pub_.sq_in_use, now.sq_in_use);
    gauge(m, m.buffers, pub_.buffers, now.buffers);
    gauge(m, m.buffers_in_use, pub_.buffers_in_use, now.buffers_in_use);
    gauge(m, m.inflight, pub_.inflight, now.inflight);
  }

  // The loop goes away: its counts stay, its gauges leave the sums.
  void retire(const Metrics &m, unsigned sqe_head_now) {
    publish(m, {sqe_head_now, 0, 0, 0, 0, 0});
  }

 private:
  static void gauge(const Metrics &m, axle_metric_t *metric, int64_t &published, int64_t now) {
    m.add(metric, now - published);
    published = now;
  }
  struct {
    uint64_t submits = 0, cqes = 0, enobufs = 0, stashed = 0;
    int64_t sq_entries = 0, sq_in_use = 0, buffers = 0, buffers_in_use = 0, inflight = 0;
  } pub_;
};

}  // namespace axle::uring
