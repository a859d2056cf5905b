// Writes a response onto a connection's output queue: the status line and
// header fields are written once, straight into the queue's block (no
// intermediate string), then the body is appended by reference where it can be.
#pragma once

#include "http/out_queue.h"
#include "http/response.h"

#include <cstdint>
#include <string_view>

namespace axle::http {

struct ResponseFrame {
  std::string_view date;  // IMF-fixdate, 29 bytes
  uint8_t version_minor = 1;
  bool close = false;      // last response on the connection: "Connection: close"
  bool head_only = false;  // answering HEAD: the head as for GET, no body
  bool upgrade = false;    // a 101 switching protocols: "Connection: upgrade"
};

// Moves what resp holds onto out and resets resp. Returns the bytes queued
// (head and body), or -1 when memory ran out (the connection must close).
int64_t serialize_response(OutQueue &out, Response &resp, const ResponseFrame &frame);

// How a streamed response's body is delimited (RFC 9112 6.3).
enum class StreamBody : uint8_t { None, Length, Chunked, Close };

// Writes the head of a response whose body follows in pieces (queue_chunk),
// announcing `body` (Length: `length` bytes), and resets resp. Returns the
// bytes queued, or -1 when memory ran out.
int64_t serialize_stream_head(OutQueue &out, Response &resp, const ResponseFrame &frame, StreamBody body,
                              uint64_t length);
// Copies one piece of a streamed body, in chunked framing if `chunked`.
int64_t queue_chunk(OutQueue &out, std::string_view data, bool chunked);
// The last chunk of a chunked body, with trailer fields (copied).
int64_t queue_last_chunk(OutQueue &out, const axle_header_t *trailers, uint32_t count);
// An interim 1xx response (e.g. 103 Early Hints) with these fields (copied).
int64_t queue_informational(OutQueue &out, uint16_t status, const axle_header_t *headers, uint32_t count);
// False for statuses that never carry a body (1xx, 204, 304).
bool status_has_body(uint16_t status);

// Appends the decimal form of v at dst; returns the end.
char *write_decimal(char *dst, uint64_t v);

}  // namespace axle::http
