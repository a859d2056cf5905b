// One instance of the module: the [tls] settings turned into SSL_CTXs (the
// default certificate and one per [tls.sni.NAME]), the ticket keys, the
// metrics and what the kernel offers. Read-only once created, shared by the
// workers.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "metrics.h"
#include "settings.h"
#include "ticket_keys.h"

namespace axle::tls {

struct SniContext {
  std::vector<std::string> hosts;  // lowercase patterns
  SSL_CTX *ctx = nullptr;
};

struct Instance {
  const axle_host_api_t *host = nullptr;
  const axle_config_t *cfg = nullptr;
  Settings settings;
  SSL_CTX *ctx = nullptr;  // default certificate
  std::vector<SniContext> sni;
  std::unique_ptr<TicketKeys> tickets;
  Metrics metrics;
  bool kernel_tx = false;  // kernel_tls is on and this kernel has the tls ULP
  std::string description;

  ~Instance();
  // The context for a requested server name (SNI); the default one when none matches.
  SSL_CTX *context_for(std::string_view server_name) const;
};

// Builds an instance from validated options; nullptr with *error set.
std::unique_ptr<Instance> make_instance(const axle_host_api_t *host, const axle_config_t *cfg, std::string *error);

// Exact or "*.domain" (one label) match, name already lowercase.
bool host_matches(std::string_view pattern, std::string_view name);

}  // namespace axle::tls
