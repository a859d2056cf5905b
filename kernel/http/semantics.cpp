#include "http/semantics.h"

#include "http/char_class.h"
#include "http/tokens.h"

#include <charconv>

namespace axle::http {
namespace {

// Host = uri-host [ ":" port ] (RFC 9110 7.2): reg-name or IP-literal bytes only.
bool valid_host(axle_str_t v) {
  for (size_t i = 0; i < v.len; ++i)
    if (!kHostChar[static_cast<unsigned char>(v.ptr[i])]) return false;
  return true;
}

HeadInfo refuse(uint16_t status) {
  HeadInfo info;
  info.error_status = status;
  info.keep_alive = false;
  return info;
}

}  // namespace

HeadInfo check_head(const axle_request_head_t &head, uint64_t max_body_bytes) {
  HeadInfo info;
  if (head.version_major != 1) return refuse(505);
  info.keep_alive = head.version_minor >= 1;
  info.head_method = head.method.len == 4 && std::string_view(head.method.ptr, 4) == "HEAD";
  bool have_length = false, have_te = false, chunked = false;
  uint64_t length = 0;
  uint32_t hosts = 0;
  bool empty_host = false;
  bool upgrade_field = false, connection_upgrade = false;
  for (uint32_t i = 0; i < head.header_count; ++i) {
    const axle_header_t &h = head.headers[i];
    switch (h.name.len) {
      case 4:
        if (iequals(h.name, "host")) {
          if (!valid_host(h.value)) return refuse(400);
          empty_host = h.value.len == 0;
          ++hosts;
        }
        break;
      case 6:
        if (iequals(h.name, "expect")) {
          if (!iequals(h.value, "100-continue")) return refuse(417);
          info.expect_continue = head.version_minor >= 1;
        }
        break;
      case 7:
        if (iequals(h.name, "upgrade") && h.value.len) upgrade_field = true;
        break;
      case 10:
        if (iequals(h.name, "connection")) {
          for_each_token(h.value, [&](std::string_view t) {
            if (iequals(t, "close")) info.keep_alive = false;
            else if (iequals(t, "upgrade")) connection_upgrade = true;
            else if (iequals(t, "keep-alive") && head.version_minor == 0) info.keep_alive = true;
          });
        }
        break;
      case 14:
        if (iequals(h.name, "content-length")) {
          // Every value (repeated fields or a list) must be the same number.
          bool bad = false;
          uint64_t value = 0;
          size_t count = 0;
          for_each_token(h.value, [&](std::string_view t) {
            uint64_t v = 0;
            auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
            if (ec != std::errc() || end != t.data() + t.size() || t.size() > 18) bad = true;
            if (count++ && v != value) bad = true;
            value = v;
          });
          if (bad || count == 0) return refuse(400);
          if (have_length && value != length) return refuse(400);
          have_length = true;
          length = value;
        }
        break;
      case 17:
        if (iequals(h.name, "transfer-encoding")) {
          if (have_te) return refuse(400);  // one field only: no split coding lists
          have_te = true;
          // RFC 9112 6.3: unless chunked is the final coding the body's
          // length cannot be known: 400 ("gzip", "chunked, gzip",
          // "chunked, chunked"). Chunked last after codings we do not
          // implement ("gzip, chunked") is well framed but not served: 501.
          size_t codings = 0, chunked_at = 0;
          bool last_chunked = false;
          for_each_token(h.value, [&](std::string_view t) {
            last_chunked = iequals(t, "chunked");
            if (last_chunked && !chunked_at) chunked_at = codings + 1;
            ++codings;
          });
          if (codings == 0 || !last_chunked || chunked_at != codings) return refuse(400);
          if (codings != 1) return refuse(501);
          chunked = true;
        }
        break;
      default:
        break;
    }
  }
  // RFC 9112 6.1/6.3: both framings at once is how requests get smuggled.
  if (have_te && have_length) return refuse(400);
  if (have_te && head.version_minor == 0) return refuse(400);
  if (head.version_minor >= 1 && hosts != 1) return refuse(400);
  if (hosts > 1) return refuse(400);
  // RFC 9110 7.2: Host is empty only when the target has no authority. The
  // parser gives an absolute-form target (neither '/' nor '*' first) one, so
  // an empty Host beside it is refused; origin and asterisk forms may carry
  // an empty Host (routing by host then sees no host).
  if (empty_host && head.target.len && head.target.ptr[0] != '/' && head.target.ptr[0] != '*') return refuse(400);
  if (chunked) {
    info.body = BodyKind::Chunked;
  } else if (have_length && length > 0) {
    if (length > max_body_bytes) return refuse(413);
    info.body = BodyKind::Length;
    info.content_length = length;
  }
  if (info.body == BodyKind::None) info.expect_continue = false;
  info.upgrade = upgrade_field && connection_upgrade && head.version_minor >= 1;
  return info;
}

}  // namespace axle::http
