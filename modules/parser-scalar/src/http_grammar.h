// The RFC 9112 grammar pieces parser-scalar and parser-simd share: byte
// classes, limits, the error plumbing, target splitting and the chunk-size
// line. Internal to the two parser modules (each compiles its own copy into
// its .so; nothing here is exported), so they cannot drift apart.
#pragma once

#include <axle/parser.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace {

// RFC 9112 2.2 allows skipping "at least one" empty line before the request
// line; a handful covers clients that add CRLF after a body, more is abuse.
constexpr unsigned kMaxLeadingEmptyLines = 4;
// parse_chunk_size has no limit argument: a chunk-size line (size plus
// extensions) longer than this is rejected so extensions cannot grow forever.
constexpr size_t kMaxChunkLineBytes = 4096;
// RFC 9112 7.1 leaves the size bound to us; 2^60 keeps arithmetic far from overflow.
constexpr uint64_t kMaxChunkSize = uint64_t{1} << 60;
constexpr unsigned kMaxChunkSizeDigits = 16;

enum : uint8_t {
  kTchar = 1u << 0,       // token characters (RFC 9110 5.6.2)
  kVchar = 1u << 1,       // 0x21-0x7E, allowed in a request-target
  kFieldValue = 1u << 2,  // VCHAR, obs-text, SP, HTAB (RFC 9110 5.5)
  kQdtext = 1u << 3,      // inside a quoted-string, besides quoted-pair
};

constexpr bool is_tchar_byte(unsigned c) {
  if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) return true;
  for (const char *s = "!#$%&'*+-.^_`|~"; *s; ++s)
    if (c == static_cast<unsigned char>(*s)) return true;
  return false;
}

constexpr std::array<uint8_t, 256> make_classes() {
  std::array<uint8_t, 256> t{};
  for (unsigned c = 0; c < 256; ++c) {
    const bool vchar = c >= 0x21 && c <= 0x7E;
    const bool obs_text = c >= 0x80;
    uint8_t bits = 0;
    if (is_tchar_byte(c)) bits |= kTchar;
    if (vchar) bits |= kVchar;
    if (vchar || obs_text || c == ' ' || c == '\t') bits |= kFieldValue;
    if (c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E) || obs_text)
      bits |= kQdtext;
    t[c] = bits;
  }
  return t;
}
constexpr std::array<uint8_t, 256> kClasses = make_classes();

inline bool has_class(char c, uint8_t cls) { return (kClasses[static_cast<unsigned char>(c)] & cls) != 0; }
inline bool is_ows(char c) { return c == ' ' || c == '\t'; }
inline bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline bool is_scheme_char(char c) { return is_alpha(c) || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'; }
inline size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

enum class Step { kOk, kIncomplete, kFail };

struct Failure {
  uint16_t status = 0;
  const char *reason = nullptr;
};

inline Step fail(Failure *f, uint16_t status, const char *reason) {
  f->status = status;
  f->reason = reason;
  return Step::kFail;
}

struct FieldSink {
  axle_header_t *headers;
  uint32_t max_fields;
  uint32_t count;
};

// The caller's structs are accepted when they hold the 1.0 fields (up to the
// end of the last one), whatever size this module was compiled with: a host of
// an older minor passes smaller ones, a newer host larger ones. Only 1.0 fields
// are read or written, so nothing past the caller's struct_size is touched.
// (Plain offsetof rather than AXLE_STRUCT_HAS: these sources also build
// against the 1.0 headers, see tests/fixtures/abi-compat.)
constexpr size_t kRequestHead_1_0 = offsetof(axle_request_head_t, error_reason) + sizeof(const char *);
constexpr size_t kParseLimits_1_0 = offsetof(axle_parse_limits_t, max_headers) + sizeof(uint32_t);
inline bool head_holds_1_0(const axle_request_head_t *out) { return out->struct_size >= kRequestHead_1_0; }
inline bool limits_hold_1_0(const axle_parse_limits_t *limits) { return limits->struct_size >= kParseLimits_1_0; }

void clear_view(axle_request_head_t *out) {
  out->method = out->target = out->path = out->query = axle_str_t{nullptr, 0};
  out->version_major = out->version_minor = 0;
  out->error_status = 0;
  out->header_count = 0;
  out->error_reason = nullptr;
}

// Splits a complete request-target into path and query (RFC 9112 3.2).
Step split_target(axle_request_head_t *out, Failure *f) {
  const char *t = out->target.ptr;
  const char *end = t + out->target.len;
  const char *path = t;
  // A fragment is never sent (RFC 9112 3.2: no "#" in any request-target form).
  if (std::memchr(t, '#', out->target.len)) return fail(f, 400, "'#' (fragment) in request-target");
  if (*t == '*') {
    if (out->target.len != 1) return fail(f, 400, "asterisk-form must be exactly \"*\"");
  } else if (*t != '/') {
    // absolute-form: scheme "://" authority [path-abempty] ["?" query]
    const char *p = t;
    if (!is_alpha(*p)) return fail(f, 400, "request-target is not origin, absolute or asterisk form");
    while (p < end && is_scheme_char(*p)) ++p;
    if (end - p < 3 || p[0] != ':' || p[1] != '/' || p[2] != '/')
      return fail(f, 400, "request-target is not origin, absolute or asterisk form");
    p += 3;
    const char *authority = p;
    while (p < end && *p != '/' && *p != '?') ++p;
    if (p == authority) return fail(f, 400, "absolute-form without authority");
    path = p;
  }
  const auto *q = static_cast<const char *>(std::memchr(path, '?', static_cast<size_t>(end - path)));
  if (!q) q = end;
  out->path = {path, static_cast<size_t>(q - path)};
  out->query = q < end ? axle_str_t{q + 1, static_cast<size_t>(end - q - 1)} : axle_str_t{end, 0};
  return Step::kOk;
}

// chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ) (RFC 9112 7.1.1)
Step parse_chunk_line(const char *buf, const char *end, uint64_t *chunk_size, size_t *consumed) {
  const char *p = buf;
  uint64_t size = 0;
  unsigned digits = 0;
  for (; p < end; ++p) {
    const int v = hex_value(*p);
    if (v < 0) break;
    if (++digits > kMaxChunkSizeDigits) return Step::kFail;
    size = size * 16 + static_cast<uint64_t>(v);
    if (size > kMaxChunkSize) return Step::kFail;
  }
  if (p == end) return Step::kIncomplete;
  if (digits == 0) return Step::kFail;

  for (;;) {
    const char *before_ws = p;
    while (p < end && is_ows(*p)) ++p;
    if (p == end) return Step::kIncomplete;
    if (*p == '\r') {
      if (p != before_ws) return Step::kFail;  // BWS is only allowed around ';' and '='
      if (p + 1 == end) return Step::kIncomplete;
      if (p[1] != '\n') return Step::kFail;
      *chunk_size = size;
      *consumed = static_cast<size_t>(p + 2 - buf);
      return Step::kOk;
    }
    if (*p != ';') return Step::kFail;
    ++p;
    while (p < end && is_ows(*p)) ++p;
    const char *name = p;
    while (p < end && has_class(*p, kTchar)) ++p;
    if (p == end) return Step::kIncomplete;
    if (p == name) return Step::kFail;

    const char *after_name = p;
    while (p < end && is_ows(*p)) ++p;
    if (p == end) return Step::kIncomplete;
    if (*p != '=') {
      p = after_name;  // the whitespace belongs to the next ";" or is an error there
      continue;
    }
    ++p;
    while (p < end && is_ows(*p)) ++p;
    if (p == end) return Step::kIncomplete;
    if (*p == '"') {
      for (++p;;) {
        if (p == end) return Step::kIncomplete;
        if (*p == '"') break;
        if (*p == '\\') {
          if (p + 1 == end) return Step::kIncomplete;
          if (!has_class(p[1], kFieldValue)) return Step::kFail;  // quoted-pair: HTAB / SP / VCHAR / obs-text
          p += 2;
          continue;
        }
        if (!has_class(*p, kQdtext)) return Step::kFail;
        ++p;
      }
      ++p;
    } else {
      const char *value = p;
      while (p < end && has_class(*p, kTchar)) ++p;
      if (p == end) return Step::kIncomplete;
      if (p == value) return Step::kFail;
    }
  }
}

axle_parse_result_t parse_chunk_size(void *, const char *buf, size_t len, uint64_t *chunk_size, size_t *consumed) {
  if (!chunk_size || !consumed || (!buf && len)) return AXLE_PARSE_ERROR;
  *chunk_size = 0;
  *consumed = 0;
  const Step step = parse_chunk_line(buf, buf + min_size(len, kMaxChunkLineBytes), chunk_size, consumed);
  if (step == Step::kOk) return AXLE_PARSE_COMPLETE;
  *chunk_size = 0;
  *consumed = 0;
  if (step == Step::kIncomplete && len < kMaxChunkLineBytes) return AXLE_PARSE_INCOMPLETE;
  return AXLE_PARSE_ERROR;
}

}  // namespace
