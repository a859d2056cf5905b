// HTTP/1.1 semantics of a parsed request head (RFC 9110, RFC 9112): message
// framing (Content-Length vs Transfer-Encoding), Host, Connection, Expect,
// Upgrade.
// Applied once, the same for every parser module; a violation names the
// status to answer with. Pure: no state, no I/O.
#pragma once

#include <axle/parser.h>

#include <cstdint>

namespace axle::http {

enum class BodyKind : uint8_t { None, Length, Chunked };

struct HeadInfo {
  uint16_t error_status = 0;  // non-zero: refuse the request with this status and close
  BodyKind body = BodyKind::None;
  uint64_t content_length = 0;  // BodyKind::Length only
  bool keep_alive = true;
  bool expect_continue = false;  // the client waits for 100 Continue before its body
  bool head_method = false;      // HEAD: the response carries no body
  // HTTP/1.1 with an Upgrade field listed in Connection (RFC 9110 7.8): the
  // connection may switch protocols, so nothing behind it is parsed until
  // its response is known. HTTP/1.0 upgrades are ignored (ibid.).
  bool upgrade = false;
};

HeadInfo check_head(const axle_request_head_t &head, uint64_t max_body_bytes);

}  // namespace axle::http
