#include "http/error_response.h"

#include "http/http_status.h"
#include "http/serializer.h"

#include <axle/router.h>

#include <cstring>
#include <utility>

namespace axle::http {
namespace {

using namespace std::string_view_literals;

char *put(char *dst, std::string_view s) {
  std::memcpy(dst, s.data(), s.size());
  return dst + s.size();
}

}  // namespace

char *write_allow(char *dst, uint32_t mask) {
  static constexpr std::pair<uint32_t, std::string_view> kNames[] = {
      {AXLE_METHOD_GET, "GET"},     {AXLE_METHOD_HEAD, "HEAD"},     {AXLE_METHOD_POST, "POST"},
      {AXLE_METHOD_PUT, "PUT"},     {AXLE_METHOD_DELETE, "DELETE"}, {AXLE_METHOD_PATCH, "PATCH"},
      {AXLE_METHOD_OPTIONS, "OPTIONS"}};
  if (mask & AXLE_METHOD_GET) mask |= AXLE_METHOD_HEAD;  // HEAD is served wherever GET is
  bool first = true;
  for (auto [bit, name] : kNames) {
    if (!(mask & bit)) continue;
    if (!first) dst = put(dst, ", "sv);
    dst = put(dst, name);
    first = false;
  }
  return dst;
}

char *write_allow(char *dst, const Allow &allow) {
  char *start = dst;
  dst = write_allow(dst, allow.methods);
  if (allow.extension_names.empty()) return dst;
  if (dst != start) dst = put(dst, ", "sv);
  return put(dst, allow.extension_names);
}

int64_t queue_error_response(OutQueue &out, uint16_t status, const ErrorFrame &frame) {
  std::string_view reason = reason_phrase(status);
  size_t size = 192 + frame.date.size() + 2 * reason.size() + kAllowMaxBytes + 2 +
                frame.allow.extension_names.size();  // an upper bound
  char *start = out.reserve(size);
  if (!start) return -1;
  char *p = put(start, "HTTP/1.1 "sv);
  p = write_decimal(p, status);
  *p++ = ' ';
  p = put(p, reason);
  p = put(p, "\r\nServer: axle\r\nDate: "sv);
  p = put(p, frame.date);
  p = put(p, "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "sv);
  p = write_decimal(p, reason.size() + 5);  // "404 " + reason + "\n"
  p = put(p, "\r\n"sv);
  if (!frame.allow.empty()) {
    p = put(p, "Allow: "sv);
    p = write_allow(p, frame.allow);
    p = put(p, "\r\n"sv);
  }
  if (frame.retry_after_s) {
    p = put(p, "Retry-After: "sv);
    p = write_decimal(p, frame.retry_after_s);
    p = put(p, "\r\n"sv);
  }
  if (frame.close) p = put(p, "Connection: close\r\n"sv);
  p = put(p, "\r\n"sv);
  if (!frame.head_only) {
    p = write_decimal(p, status);
    *p++ = ' ';
    p = put(p, reason);
    *p++ = '\n';
  }
  size_t n = static_cast<size_t>(p - start);
  return out.commit(n) ? static_cast<int64_t>(n) : -1;
}

bool queue_continue(OutQueue &out) { return out.append_copy("HTTP/1.1 100 Continue\r\n\r\n"sv); }

}  // namespace axle::http
