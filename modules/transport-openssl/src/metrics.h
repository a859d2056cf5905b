// The module's counters (host metric_register): registered once per
// instance; a later generation gets the same metrics back, values kept.
#pragma once

#include <axle/module.h>

namespace axle::tls {

struct Metrics {
  const axle_host_api_t *host = nullptr;
  axle_metric_t *handshakes = nullptr, *failures = nullptr, *resumed = nullptr, *timeouts = nullptr,
                *kernel_tx = nullptr;

  void init(const axle_host_api_t *h, const axle_config_t *cfg) {
    if (!AXLE_STRUCT_HAS(h, axle_host_api_t, metric_register) || !h->metric_register || !h->metric_add) return;
    host = h;
    auto reg = [&](const char *name, const char *help) {
      return h->metric_register(cfg, AXLE_METRIC_COUNTER, name, help, nullptr, 0, nullptr);
    };
    handshakes = reg("axle_tls_handshakes_total", "TLS handshakes completed");
    failures = reg("axle_tls_handshake_failures_total", "TLS handshakes refused or failed (garbage, plaintext, no shared cipher, peer left)");
    resumed = reg("axle_tls_resumed_total", "TLS handshakes that resumed a session from a ticket");
    timeouts = reg("axle_tls_handshake_timeouts_total", "TLS handshakes closed by handshake_timeout_ms");
    kernel_tx = reg("axle_tls_kernel_tx_total", "TLS connections whose sending was handed to the kernel (kTLS)");
  }
  void add(axle_metric_t *m) const {
    if (host && m) host->metric_add(m, 1);
  }
};

}  // namespace axle::tls
