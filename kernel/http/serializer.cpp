#include "http/serializer.h"

#include "http/http_status.h"

#include <charconv>
#include <cstring>

namespace axle::http {
namespace {

using namespace std::string_view_literals;

constexpr size_t kSmallBodyBytes = 1024;  // copied bodies up to this size share the head's block

char *put(char *dst, std::string_view s) {
  std::memcpy(dst, s.data(), s.size());
  return dst + s.size();
}

// A prebuilt wire image: sent as lent, with "Connection: close" spliced in
// before its blank line when needed and the body dropped for HEAD.
int64_t serialize_prebuilt(OutQueue &out, Response &resp, const ResponseFrame &frame) {
  std::string_view wire(resp.data, resp.len);
  size_t head_len = resp.prebuilt_head_len;
  axle_release_fn release = resp.release;
  void *arg = resp.release_arg;
  resp.release = nullptr;  // the queue owns the lend now
  resp.body = Response::Body::None;
  if (!frame.close && !frame.head_only)
    return out.append_lent(wire.data(), wire.size(), release, arg) ? static_cast<int64_t>(wire.size()) : -1;
  // The last segment carries the release, so it runs once the whole image is sent.
  bool ok = out.append_lent(wire.data(), head_len - 2, nullptr, nullptr);
  ok = ok && out.append_copy(frame.close ? "Connection: close\r\n\r\n"sv : "\r\n"sv);
  size_t body_len = frame.head_only ? 0 : wire.size() - head_len;
  if (ok) ok = out.append_lent(wire.data() + head_len, body_len, release, arg);
  else if (release) release(arg);
  return ok ? static_cast<int64_t>(head_len + (frame.close ? 19 : 0) + body_len) : -1;
}

// "Name: value\r\n" lines of module-given fields (checked by the host calls
// that take them), and their size.
size_t fields_size(const axle_header_t *fields, uint32_t count) {
  size_t size = 0;
  for (uint32_t i = 0; i < count; ++i) size += fields[i].name.len + 2 + fields[i].value.len + 2;
  return size;
}

char *put_fields(char *p, const axle_header_t *fields, uint32_t count) {
  for (uint32_t i = 0; i < count; ++i) {
    p = put(p, {fields[i].name.ptr, fields[i].name.len});
    p = put(p, ": "sv);
    p = put(p, {fields[i].value.ptr, fields[i].value.len});
    p = put(p, "\r\n"sv);
  }
  return p;
}

// How a head announces its body.
enum class BodyField : uint8_t { None, Length, Chunked };

// The status line and header fields, with room for `extra` more bytes after
// the blank line in the same block. Returns the block's start and sets *end
// just past the blank line, or nullptr on out of memory.
[[gnu::always_inline]] inline char *write_head(OutQueue &out, const Response &resp, const ResponseFrame &frame, BodyField field, uint64_t length,
                 size_t extra, char **end) {
  const uint16_t status = resp.status ? resp.status : 200;
  std::string_view reason = reason_phrase(status);
  // Exact size first, so the head is written once into one contiguous run.
  size_t size = 9 + 3 + 1 + reason.size() + 2 + "Server: axle\r\nDate: "sv.size() + frame.date.size() + 2 +
                resp.header_lines.size() + 2 + extra;
  if (field == BodyField::Length) size += "Content-Length: \r\n"sv.size() + 20;
  if (field == BodyField::Chunked) size += "Transfer-Encoding: chunked\r\n"sv.size();
  if (frame.upgrade) size += "Connection: upgrade\r\n"sv.size();
  else if (frame.close) size += "Connection: close\r\n"sv.size();
  else if (frame.version_minor == 0) size += "Connection: keep-alive\r\n"sv.size();
  char *start = out.reserve(size);
  if (!start) return nullptr;
  char *p = put(start, "HTTP/1.1 "sv);
  p = write_decimal(p, status);
  *p++ = ' ';
  p = put(p, reason);
  p = put(p, "\r\nServer: axle\r\nDate: "sv);
  p = put(p, frame.date);
  p = put(p, "\r\n"sv);
  p = put(p, resp.header_lines);
  if (field == BodyField::Length) {
    p = put(p, "Content-Length: "sv);
    p = write_decimal(p, length);
    p = put(p, "\r\n"sv);
  }
  if (field == BodyField::Chunked) p = put(p, "Transfer-Encoding: chunked\r\n"sv);
  if (frame.upgrade) p = put(p, "Connection: upgrade\r\n"sv);
  else if (frame.close) p = put(p, "Connection: close\r\n"sv);
  else if (frame.version_minor == 0) p = put(p, "Connection: keep-alive\r\n"sv);
  *end = put(p, "\r\n"sv);
  return start;
}

}  // namespace

char *write_decimal(char *dst, uint64_t v) { return std::to_chars(dst, dst + 20, v).ptr; }

bool status_has_body(uint16_t status) { return !(status < 200 || status == 204 || status == 304); }

int64_t serialize_response(OutQueue &out, Response &resp, const ResponseFrame &frame) {
  if (resp.body == Response::Body::Prebuilt) {
    int64_t n = serialize_prebuilt(out, resp, frame);
    resp.reset();
    return n;
  }
  const bool no_body = !status_has_body(resp.status ? resp.status : 200);
  uint64_t body_len = 0;
  if (resp.body == Response::Body::File) body_len = resp.file_length;
  else if (resp.body != Response::Body::None) body_len = resp.len;
  bool send_body = !frame.head_only && !no_body && body_len > 0;
  const bool inline_body = send_body && resp.body == Response::Body::Owned && resp.len <= kSmallBodyBytes;

  char *p = nullptr;
  char *start = write_head(out, resp, frame, no_body ? BodyField::None : BodyField::Length, body_len,
                           inline_body ? resp.len : 0, &p);
  if (!start) {
    resp.reset();
    return -1;
  }
  if (inline_body) {
    p = put(p, {resp.data, resp.len});
    send_body = false;
  }
  int64_t queued = p - start;
  bool ok = out.commit(static_cast<size_t>(queued));
  if (send_body) {
    queued += static_cast<int64_t>(body_len);
    switch (resp.body) {
      case Response::Body::Owned:
        ok = ok && out.append_owned(resp.owned_block, resp.owned_size, resp.len);
        resp.owned_block = nullptr;
        break;
      case Response::Body::Lent:
        ok = ok && out.append_lent(resp.data, resp.len, resp.release, resp.release_arg);
        resp.release = nullptr;
        break;
      case Response::Body::File:
        ok = ok && out.append_file(resp.file_fd, resp.file_offset, resp.file_length);
        resp.file_fd = -1;
        break;
      default:
        break;
    }
  }
  resp.reset();
  return ok ? queued : -1;
}

int64_t serialize_stream_head(OutQueue &out, Response &resp, const ResponseFrame &frame, StreamBody body,
                              uint64_t length) {
  BodyField field = body == StreamBody::Length ? BodyField::Length
                    : body == StreamBody::Chunked ? BodyField::Chunked
                                                  : BodyField::None;
  char *end = nullptr;
  char *start = write_head(out, resp, frame, field, length, 0, &end);
  resp.reset();
  if (!start) return -1;
  int64_t queued = end - start;
  return out.commit(static_cast<size_t>(queued)) ? queued : -1;
}

int64_t queue_chunk(OutQueue &out, std::string_view data, bool chunked) {
  if (!chunked) return out.append_copy(data) ? static_cast<int64_t>(data.size()) : -1;
  char *start = out.reserve(16 + 2 + data.size() + 2);
  if (!start) return -1;
  char *p = std::to_chars(start, start + 16, data.size(), 16).ptr;
  p = put(p, "\r\n"sv);
  p = put(p, data);
  p = put(p, "\r\n"sv);
  int64_t queued = p - start;
  return out.commit(static_cast<size_t>(queued)) ? queued : -1;
}

int64_t queue_last_chunk(OutQueue &out, const axle_header_t *trailers, uint32_t count) {
  char *start = out.reserve(5 + fields_size(trailers, count));
  if (!start) return -1;
  char *p = put(start, "0\r\n"sv);
  p = put_fields(p, trailers, count);
  p = put(p, "\r\n"sv);
  int64_t queued = p - start;
  return out.commit(static_cast<size_t>(queued)) ? queued : -1;
}

int64_t queue_informational(OutQueue &out, uint16_t status, const axle_header_t *headers, uint32_t count) {
  std::string_view reason = reason_phrase(status);
  char *start = out.reserve(9 + 3 + 1 + reason.size() + 2 + fields_size(headers, count) + 2);
  if (!start) return -1;
  char *p = put(start, "HTTP/1.1 "sv);
  p = write_decimal(p, status);
  *p++ = ' ';
  p = put(p, reason);
  p = put(p, "\r\n"sv);
  p = put_fields(p, headers, count);
  p = put(p, "\r\n"sv);
  int64_t queued = p - start;
  return out.commit(static_cast<size_t>(queued)) ? queued : -1;
}

}  // namespace axle::http
