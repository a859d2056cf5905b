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
};

// Moves what resp holds onto out and resets resp. Returns the bytes queued
// (head and body), or -1 when memory ran out (the connection must close).
int64_t serialize_response(OutQueue &out, Response &resp, const ResponseFrame &frame);

// Appends the decimal form of v at dst; returns the end.
char *write_decimal(char *dst, uint64_t v);

}  // namespace axle::http
