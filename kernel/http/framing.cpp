#include "http/framing.h"

namespace axle::http {

HeadStep frame_head(const ParserRef &parser, const axle_parse_limits_t &limits, uint64_t max_body_bytes,
                    const char *buf, size_t len, axle_request_head_t &head) {
  HeadStep step;
  size_t consumed = 0;
  axle_parse_result_t r = parser.vt->parse_request(parser.ctx, buf, len, &limits, &head, &consumed);
  if (r == AXLE_PARSE_INCOMPLETE) return step;
  if (r == AXLE_PARSE_ERROR || consumed == 0 || consumed > len) {
    step.kind = HeadStep::Kind::Refused;
    step.status = head.error_status ? head.error_status : 400;
    return step;
  }
  step.info = check_head(head, max_body_bytes);
  if (step.info.error_status) {
    step.kind = HeadStep::Kind::Refused;
    step.status = step.info.error_status;
    step.parsed = true;
    step.consumed = consumed;
    return step;
  }
  step.kind = HeadStep::Kind::Complete;
  step.consumed = consumed;
  return step;
}

BodyStep frame_body(InputBuffer &in, const StoredHead &stored, ChunkedDecoder &chunked, const ParserRef &parser,
                    uint64_t max_body_bytes, size_t max_trailer_bytes) {
  BodyStep step;
  const uint32_t head_len = stored.head_len();
  if (stored.info().body == BodyKind::Length) {
    if (in.size() - head_len < stored.info().content_length) return step;
    step.kind = BodyStep::Kind::Complete;
    step.length = stored.info().content_length;
    step.raw_end = head_len + static_cast<size_t>(step.length);
    return step;
  }
  switch (chunked.decode(in.data(), in.size_ptr(), parser, max_body_bytes, max_trailer_bytes)) {
    case ChunkedDecoder::Result::NeedMore:
      return step;
    case ChunkedDecoder::Result::Malformed:
      step.kind = BodyStep::Kind::Refused;
      step.status = 400;
      return step;
    case ChunkedDecoder::Result::TooLarge:
      step.kind = BodyStep::Kind::Refused;
      step.status = 413;
      return step;
    case ChunkedDecoder::Result::Done:
      break;
  }
  step.kind = BodyStep::Kind::Complete;
  step.length = chunked.body_length();
  step.raw_end = chunked.raw_end();
  return step;
}

}  // namespace axle::http
