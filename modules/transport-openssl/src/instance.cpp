#include "instance.h"

#include "connection.h"
#include "context.h"
#include "ktls.h"

namespace axle::tls {

Instance::~Instance() {
  for (SniContext &s : sni) SSL_CTX_free(s.ctx);
  SSL_CTX_free(ctx);
}

bool host_matches(std::string_view pattern, std::string_view name) {
  if (pattern.substr(0, 2) != "*.") return pattern == name;
  const size_t dot = name.find('.');  // the wildcard covers exactly the first label
  return dot != std::string_view::npos && dot > 0 && name.substr(dot + 1) == pattern.substr(2);
}

SSL_CTX *Instance::context_for(std::string_view server_name) const {
  for (const SniContext &s : sni)  // exact names first, then wildcards
    for (const std::string &h : s.hosts)
      if (h[0] != '*' && h == server_name) return s.ctx;
  for (const SniContext &s : sni)
    for (const std::string &h : s.hosts)
      if (h[0] == '*' && host_matches(h, server_name)) return s.ctx;
  return ctx;
}

std::unique_ptr<Instance> make_instance(const axle_host_api_t *host, const axle_config_t *cfg, std::string *error) {
  auto instance = std::make_unique<Instance>();
  instance->host = host;
  instance->cfg = cfg;
  if (!read_settings(host, cfg, &instance->settings, error)) return nullptr;
  const Settings &s = instance->settings;
  instance->tickets = std::make_unique<TicketKeys>(s.ticket_key_rotation_s * 1000000000ull, host->now_ns);
  if (!instance->tickets->init()) {
    *error = "the random generator failed making ticket keys";
    return nullptr;
  }
  std::string why_not = "kernel_tls = false";
  instance->kernel_tx = s.kernel_tls && kernel_tls_available(&why_not);
  instance->ctx = make_context(instance.get(), s.files, error);
  if (!instance->ctx) return nullptr;
  for (const SniEntry &e : s.sni) {
    SSL_CTX *c = make_context(instance.get(), e.files, error);
    if (!c) return nullptr;
    instance->sni.push_back({e.hosts, c});
  }
  if (instance->kernel_tx || s.seal_records) {
    // The keylog callback is the one way to the traffic secret (OpenSSL formats
    // every secret of every handshake for it: why seal_records can be off).
    SSL_CTX_set_keylog_callback(instance->ctx, Connection::keylog);
    for (SniContext &c : instance->sni) SSL_CTX_set_keylog_callback(c.ctx, Connection::keylog);
  }
  if (instance->kernel_tx) {
    instance->description = "kernel TLS TX for TLS 1.3 AES-GCM (tls ULP), user-space TLS otherwise";
  } else if (s.seal_records) {
    instance->description = "user-space TLS, TLS 1.3 AES-GCM records sealed by the module (" + why_not + ")";
  } else {
    instance->description = "user-space TLS (" + why_not + "; seal_records = false)";
  }
  instance->metrics.init(host, cfg);
  return instance;
}

}  // namespace axle::tls
