// The small plain-text responses the engine answers by itself: 4xx/5xx for
// requests refused before (or instead of) a handler, and 100 Continue.
#pragma once

#include "http/out_queue.h"

#include <cstdint>
#include <string_view>

namespace axle::http {

struct ErrorFrame {
  std::string_view date;   // IMF-fixdate
  bool close = false;      // "Connection: close"
  bool head_only = false;  // HEAD: no body
  uint32_t allow = 0;      // AXLE_METHOD_* bits for 405's Allow; 0 = no Allow
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

}  // namespace axle::http
