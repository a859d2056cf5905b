// The small plain-text responses the engine answers by itself: 4xx/5xx for
// requests refused before (or instead of) a handler, and 100 Continue.
#pragma once

#include "http/out_queue.h"

#include <axle/router.h>

#include <cstdint>
#include <string_view>

namespace axle::http {

// A 405's Allow field: the standard methods as AXLE_METHOD_* bits, then the
// extension methods a route lists, already joined ("PROPFIND, MKCOL").
struct Allow {
  uint32_t methods = 0;
  std::string_view extension_names;  // lives as long as the generation's routes
  constexpr Allow(uint32_t m = 0, std::string_view names = {}) : methods(m), extension_names(names) {}
  // AXLE_METHOD_OTHER is named by extension_names, never by its bit.
  bool empty() const { return !(methods & ~uint32_t{AXLE_METHOD_OTHER}) && extension_names.empty(); }
};

struct ErrorFrame {
  std::string_view date;   // IMF-fixdate
  bool close = false;      // "Connection: close"
  bool head_only = false;  // HEAD: no body
  Allow allow;             // 405's Allow; empty = no Allow
  uint32_t retry_after_s = 0;  // 503: Retry-After; 0 = none
};

// Queues "<status> <reason>\n" as text/plain. Returns the bytes queued or -1
// when memory ran out.
int64_t queue_error_response(OutQueue &out, uint16_t status, const ErrorFrame &frame);

// Queues the interim "HTTP/1.1 100 Continue".
bool queue_continue(OutQueue &out);

// Appends the method names of an AXLE_METHOD_* mask ("GET, HEAD, POST") at
// dst, which has room for kAllowMaxBytes; returns the end.
inline constexpr size_t kAllowMaxBytes = 64;
char *write_allow(char *dst, uint32_t mask);
// The same followed by the extension names: dst has room for
// kAllowMaxBytes + 2 + allow.extension_names.size().
char *write_allow(char *dst, const Allow &allow);

}  // namespace axle::http
