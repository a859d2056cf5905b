// Conditional request and Range evaluation for one file (RFC 9110
// sections 13 and 14), kept free of I/O so the rules read in one place.
#pragma once

#include <cstdint>
#include <string_view>

namespace axle::static_handler {

// True if the If-None-Match / If-Match style list `header` ("*" or
// comma-separated entity-tags) contains `etag` (quoted, strong). `weak`
// selects weak comparison (W/ prefixes ignored), else strong comparison
// (a W/ tag never matches).
bool etag_list_matches(std::string_view header, std::string_view etag, bool weak);

// Whether an If-Range value (an entity-tag or an HTTP-date) still
// validates the file: strong ETag equality or the exact Last-Modified second.
bool if_range_matches(std::string_view header, std::string_view etag, int64_t mtime_sec);

struct ByteRange {
  enum Kind {
    kIgnore,         // absent, malformed or several ranges: send the whole file
    kSatisfiable,    // send [first, last]
    kUnsatisfiable,  // 416
  } kind = kIgnore;
  uint64_t first = 0;
  uint64_t last = 0;  // inclusive
};

// Evaluates a Range header value against a representation of `size` bytes.
// Only a single "bytes" range is served; anything else is ignored, which
// RFC 9110 allows.
ByteRange parse_range(std::string_view header, uint64_t size);

}  // namespace axle::static_handler
