#include "http/chunked.h"

#include <algorithm>
#include <cstring>

namespace axle::http {

void ChunkedDecoder::start(size_t body_start) {
  state_ = State::Size;
  body_start_ = scan_ = body_start;
  decoded_ = dropped_ = chunk_left_ = 0;
}

void ChunkedDecoder::drop_decoded(char *buf, size_t *len) {
  size_t n = static_cast<size_t>(decoded_);
  if (n == 0) return;
  std::memmove(buf + body_start_, buf + body_start_ + n, *len - body_start_ - n);
  *len -= n;
  scan_ -= n;
  dropped_ += n;
  decoded_ = 0;
}

ChunkedDecoder::Result ChunkedDecoder::decode(char *buf, size_t *len, const ParserRef &parser, uint64_t max_body,
                                              size_t max_trailer_bytes) {
  while (state_ != State::Done) {
    char *raw = buf + scan_;
    size_t avail = *len - scan_;
    size_t used = 0;
    switch (state_) {
      case State::Size: {
        uint64_t size = 0;
        axle_parse_result_t r = parser.vt->parse_chunk_size(parser.ctx, raw, avail, &size, &used);
        if (r == AXLE_PARSE_INCOMPLETE) {
          if (avail > kLineLimit) return Result::Malformed;
          goto need_more;
        }
        if (r == AXLE_PARSE_ERROR || used == 0) return Result::Malformed;
        scan_ += used;
        if (size == 0) {
          state_ = State::Trailers;
        } else {
          if (size > max_body - decoded_ - dropped_) return Result::TooLarge;
          chunk_left_ = size;
          state_ = State::Data;
        }
        break;
      }
      case State::Data: {
        size_t n = static_cast<size_t>(std::min<uint64_t>(avail, chunk_left_));
        if (n == 0) goto need_more;
        std::memmove(buf + body_start_ + decoded_, raw, n);
        decoded_ += n;
        scan_ += n;
        chunk_left_ -= n;
        if (chunk_left_ == 0) state_ = State::DataEnd;
        break;
      }
      case State::DataEnd:
        if (avail < 2) goto need_more;
        if (raw[0] != '\r' || raw[1] != '\n') return Result::Malformed;
        scan_ += 2;
        state_ = State::Size;
        break;
      case State::Trailers: {
        axle_parse_result_t r = parser.vt->parse_trailers(parser.ctx, raw, avail, max_trailer_bytes, &used);
        if (r == AXLE_PARSE_INCOMPLETE) goto need_more;
        if (r == AXLE_PARSE_ERROR || used == 0) return Result::Malformed;
        scan_ += used;
        state_ = State::Done;
        break;
      }
      case State::Done:
        break;
    }
  }
  return Result::Done;
need_more:
  size_t body_end = body_start_ + decoded_;
  if (scan_ > body_end) {
    std::memmove(buf + body_end, buf + scan_, *len - scan_);
    *len -= scan_ - body_end;
    scan_ = body_end;
  }
  return Result::NeedMore;
}

}  // namespace axle::http
