// Decodes a chunked request body in place (RFC 9112 7.1): decoded bytes are
// moved down to follow what came before them, so the body ends up contiguous
// and the framing bytes are overwritten. Keeps offsets into the caller's
// buffer, never pointers, so the buffer may move between calls.
#pragma once

#include <axle/parser.h>

#include <cstddef>
#include <cstdint>

namespace axle::http {

struct ParserRef {
  const axle_parser_vtable_t *vt = nullptr;
  void *ctx = nullptr;  // the parser's per-worker context
};

class ChunkedDecoder {
 public:
  enum class Result : uint8_t { Done, NeedMore, Malformed, TooLarge };
  static constexpr size_t kLineLimit = 4096;  // a chunk-size line longer than this is an attack

  // The body starts at offset body_start of the buffer.
  void start(size_t body_start);
  // Decodes what buf[0, *len) holds past the bytes already seen. On NeedMore
  // the framing already decoded is dropped (*len shrinks) so the buffer holds
  // what came before the body, the body so far and the undecoded rest.
  Result decode(char *buf, size_t *len, const ParserRef &parser, uint64_t max_body, size_t max_trailer_bytes);
  uint64_t body_length() const { return decoded_; }
  // Streaming: forgets the decoded bytes (the caller delivered them), so
  // the buffer keeps only what came before the body and the undecoded rest.
  // The length limit still counts every byte ever decoded.
  void drop_decoded(char *buf, size_t *len);
  // On Done: offset just past the body's last framing byte.
  size_t raw_end() const { return scan_; }

 private:
  enum class State : uint8_t { Size, Data, DataEnd, Trailers, Done };
  State state_ = State::Size;
  size_t body_start_ = 0;
  size_t scan_ = 0;       // next undecoded byte
  uint64_t decoded_ = 0;  // body bytes held in the buffer, from body_start_
  uint64_t dropped_ = 0;  // body bytes decoded and dropped (streaming)
  uint64_t chunk_left_ = 0;
};

}  // namespace axle::http
