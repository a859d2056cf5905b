// Message framing (RFC 9112 6): where a request's head ends, through the
// parser module, and where its body ends (Content-Length or chunked). The
// engine decides what to do with each step; these only measure.
#pragma once

#include "http/chunked.h"
#include "http/input_buffer.h"
#include "http/semantics.h"
#include "http/stored_head.h"

#include <axle/parser.h>

#include <cstddef>
#include <cstdint>

namespace axle::http {

struct HeadStep {
  enum class Kind : uint8_t { Incomplete, Refused, Complete } kind = Kind::Incomplete;
  uint16_t status = 0;   // Refused: the status to answer
  bool parsed = false;   // Refused: head holds a parsed head (semantics refused it)
  size_t consumed = 0;   // Complete: the head's bytes
  HeadInfo info;         // Complete
};

// Parses one head at buf and applies the semantics rules. head: the caller's,
// with headers/header_capacity set; its slices point into buf.
HeadStep frame_head(const ParserRef &parser, const axle_parse_limits_t &limits, uint64_t max_body_bytes,
                    const char *buf, size_t len, axle_request_head_t &head);

struct BodyStep {
  enum class Kind : uint8_t { NeedMore, Refused, Complete } kind = Kind::NeedMore;
  uint16_t status = 0;    // Refused: 400 (bad chunk framing) or 413
  uint64_t length = 0;    // Complete: decoded body bytes, right after the head
  size_t raw_end = 0;     // Complete: input bytes the request took, head included
};

// Advances the body of the request whose head is `stored`, at the start of
// `in`. A chunked body is decoded in place.
BodyStep frame_body(InputBuffer &in, const StoredHead &stored, ChunkedDecoder &chunked, const ParserRef &parser,
                    uint64_t max_body_bytes, size_t max_trailer_bytes);

}  // namespace axle::http
