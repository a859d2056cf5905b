// What the engine reports about each answered (or refused) request, and its
// access-log line in the combined format plus the request time.
#pragma once

#include <axle/metrics.h>
#include <axle/parser.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace axle::http {

struct RequestRecord {
  const axle_request_head_t *head = nullptr;  // null: bytes that never parsed as a request
  uint32_t route_id = 0;                      // AXLE_ROUTE_NONE if none matched
  uint16_t status = 0;
  uint64_t bytes_in = 0;   // head + body as received
  uint64_t bytes_out = 0;     // response head + body actually written (whole write runs)
  uint64_t bytes_queued = 0;  // the whole response: bytes_out < bytes_queued when it was cut short
  uint64_t started_ns = 0;
  bool refused = false;  // refused before a handler (counted as a parse error, logged, not a request)
};

// Line: addr - - [time] "METHOD target HTTP/1.x" status bytes "referer" "user-agent" seconds
// bytes: response bytes written to the client (head included), not the size
// that was queued; seconds: from the request's arrival until its last byte
// was written (or the connection ended, for a response cut short).
// Quotes, backslashes, control and non-ASCII bytes inside fields are written as \xHH.
void format_access_line(std::string &out, std::string_view peer, std::string_view clf_time,
                        const RequestRecord &rec, uint64_t elapsed_ns);

// Appends `field` escaped for a quoted access-log field.
void append_log_escaped(std::string &out, std::string_view field);

}  // namespace axle::http
