// The request head the proxy sends upstream: method, rewritten target,
// HTTP/1.1; the client's end-to-end headers without hop-by-hop ones; Host;
// X-Forwarded-For, Forwarded, X-Forwarded-Proto, X-Request-Id; the body's
// framing. Pure function over views.
#pragma once

#include <axle/module.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace axle::proxy {

enum class BodyFraming { none, length, chunked };

struct ForwardInfo {
  std::string_view client_ip;      // "192.0.2.1" or "2001:db8::1"; empty when unknown
  bool secure = false;             // the client came over TLS
  std::string_view host_override;  // non-empty: sent as Host instead of the client's
  uint64_t request_id = 0;         // X-Request-Id when the client sent none
  bool upgrade = false;            // tunnel request: keep Upgrade, send Connection: upgrade
  BodyFraming framing = BodyFraming::none;
  uint64_t content_length = 0;     // for BodyFraming::length
};

// Appends the head to `out` (its only allocation: out's growth).
void append_request_head(std::string &out, std::string_view method, std::string_view target,
                         std::span<const axle_header_t> headers, const ForwardInfo &info);

// Is this header hop-by-hop for a message whose Connection header(s) are
// `connection` (comma-joined)? Upgrade is, unless keep_upgrade.
bool is_hop_by_hop(std::string_view name, std::string_view connection, bool keep_upgrade);

// The formatted client address, "" when family is none.
std::string format_ip(const axle_address_t &addr);

}  // namespace axle::proxy
