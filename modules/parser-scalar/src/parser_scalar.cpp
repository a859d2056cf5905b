// parser-scalar: strict RFC 9112 request-head, chunk-size and trailer parser
// that looks at one byte at a time through a class table. It is the plain
// twin of parser-simd and the reference the differential fuzzer trusts.
//
// Errors are decided by the first offending byte in input order, and limits
// are applied as positions (the head is parsed as if cut at max_head_bytes),
// so any correct parser that follows the same rules gives the same answer.

#include <axle/parser.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <new>

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

constexpr std::array<uint8_t, 256> make_classes() {
  std::array<uint8_t, 256> t{};
  for (unsigned c = 0; c < 256; ++c) {
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    bool tchar = alnum;
    for (const char *s = "!#$%&'*+-.^_`|~"; *s; ++s)
      if (c == static_cast<unsigned char>(*s)) tchar = true;
    const bool vchar = c >= 0x21 && c <= 0x7E;
    const bool obs_text = c >= 0x80;
    uint8_t bits = 0;
    if (tchar) bits |= kTchar;
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

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

// Outcome of a sub-step; on kFail the reason and status are in the Failure.
enum class Step { kOk, kIncomplete, kFail };

struct Failure {
  uint16_t status = 0;
  const char *reason = nullptr;
};

Step fail(Failure *f, uint16_t status, const char *reason) {
  f->status = status;
  f->reason = reason;
  return Step::kFail;
}

// Where a field line's parts go. Request heads store them; trailers only
// validate, so they pass no sink.
struct FieldSink {
  axle_header_t *headers;
  uint32_t max_fields;
  uint32_t count;
};

// Parses field lines and the final CRLF from *pos (RFC 9112 5). On kOk *pos
// is just past the empty line.
Step parse_fields(const char **pos, const char *end, FieldSink *sink, Failure *f) {
  const char *p = *pos;
  for (;;) {
    if (p == end) return Step::kIncomplete;
    const char first = *p;
    if (first == '\r') {
      if (p + 1 == end) return Step::kIncomplete;
      if (p[1] != '\n') return fail(f, 400, "bare CR");
      *pos = p + 2;
      return Step::kOk;
    }
    if (first == '\n') return fail(f, 400, "bare LF");
    if (is_ows(first)) return fail(f, 400, "obs-fold (line folding) is not allowed");
    if (sink && sink->count == sink->max_fields) return fail(f, 431, "too many header fields");

    const char *name = p;
    while (p < end && has_class(*p, kTchar)) ++p;
    if (p == end) return Step::kIncomplete;
    if (*p != ':') {
      if (is_ows(*p)) return fail(f, 400, "whitespace between field-name and colon");
      if (*p == '\r' || *p == '\n') return fail(f, 400, "field line without colon");
      return fail(f, 400, "invalid byte in field-name");
    }
    if (p == name) return fail(f, 400, "empty field-name");
    const char *name_end = p++;

    while (p < end && is_ows(*p)) ++p;
    const char *value = p;
    while (p < end && has_class(*p, kFieldValue)) ++p;
    if (p == end) return Step::kIncomplete;
    if (*p == '\n') return fail(f, 400, "bare LF");
    if (*p != '\r') return fail(f, 400, "invalid byte in field-value");
    const char *value_end = p;
    while (value_end > value && is_ows(value_end[-1])) --value_end;
    if (p + 1 == end) return Step::kIncomplete;
    if (p[1] != '\n') return fail(f, 400, "bare CR");
    p += 2;

    if (sink) {
      axle_header_t &h = sink->headers[sink->count++];
      h.name = {name, static_cast<size_t>(name_end - name)};
      h.value = {value, static_cast<size_t>(value_end - value)};
    }
  }
}

// Splits a complete request-target into path and query (RFC 9112 3.2).
Step split_target(axle_request_head_t *out, Failure *f) {
  const char *t = out->target.ptr;
  const char *end = t + out->target.len;
  const char *path = t;
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
  const char *q = path;
  while (q < end && *q != '?') ++q;
  out->path = {path, static_cast<size_t>(q - path)};
  out->query = q < end ? axle_str_t{q + 1, static_cast<size_t>(end - q - 1)} : axle_str_t{end, 0};
  return Step::kOk;
}

// Request line (RFC 9112 3), after any leading empty lines.
Step parse_request_line(const char **pos, const char *end, uint32_t max_target, axle_request_head_t *out,
                        Failure *f) {
  const char *p = *pos;

  const char *method = p;
  while (p < end && has_class(*p, kTchar)) ++p;
  if (p == end) return Step::kIncomplete;
  if (p == method) return fail(f, 400, "request line must start with a method token");
  if (*p != ' ') return fail(f, 400, "method must be followed by a single SP");
  out->method = {method, static_cast<size_t>(p - method)};
  ++p;

  const char *target = p;
  const size_t over_limit = size_t{max_target} + 1;
  const char *stop = static_cast<size_t>(end - p) >= over_limit ? p + over_limit : end;
  while (p < stop && has_class(*p, kVchar)) ++p;
  if (p == stop) {
    if (static_cast<size_t>(p - target) >= over_limit) return fail(f, 414, "request-target longer than max_target_bytes");
    return Step::kIncomplete;
  }
  if (p == target) return fail(f, 400, "request-target must follow the method after a single SP");
  if (*p == '\r' || *p == '\n') return fail(f, 505, "request line without HTTP-version (HTTP/0.9)");
  if (*p != ' ') return fail(f, 400, "invalid byte in request-target");
  out->target = {target, static_cast<size_t>(p - target)};
  if (split_target(out, f) != Step::kOk) return Step::kFail;
  ++p;

  // The two versions clients send, with their CRLF, in one comparison each;
  // anything else takes the byte-by-byte rules below (same outcome for these).
  if (end - p >= 10 && (std::memcmp(p, "HTTP/1.1\r\n", 10) == 0 || std::memcmp(p, "HTTP/1.0\r\n", 10) == 0)) {
    out->version_major = 1;
    out->version_minor = p[7] == '1' ? 1 : 0;
    *pos = p + 10;
    return Step::kOk;
  }
  static constexpr char kVersionShape[] = "HTTP/0.0";  // '0' stands for any DIGIT
  for (unsigned i = 0; i < 8; ++i) {
    if (p + i == end) return Step::kIncomplete;
    const char c = p[i];
    const bool ok = kVersionShape[i] == '0' ? (c >= '0' && c <= '9') : c == kVersionShape[i];
    if (!ok) return fail(f, 400, "malformed HTTP-version");
  }
  if (p[5] != '1') return fail(f, 505, "HTTP major version not supported");
  out->version_major = 1;
  // RFC 9110 2.5: a higher minor version is handled as the highest we implement.
  out->version_minor = p[7] == '0' ? 0 : 1;
  p += 8;

  if (p == end) return Step::kIncomplete;
  if (*p == '\n') return fail(f, 400, "bare LF");
  if (*p != '\r') return fail(f, 400, "request line must end with CRLF after HTTP-version");
  if (p + 1 == end) return Step::kIncomplete;
  if (p[1] != '\n') return fail(f, 400, "bare CR");
  *pos = p + 2;
  return Step::kOk;
}

Step parse_head(const char *buf, const char *end, const axle_parse_limits_t *limits, axle_request_head_t *out,
                size_t *consumed, Failure *f) {
  const char *p = buf;
  for (unsigned empty_lines = 0;; ++empty_lines) {
    if (p == end) return Step::kIncomplete;
    if (*p == '\n') return fail(f, 400, "bare LF");
    if (*p != '\r') break;
    if (p + 1 == end) return Step::kIncomplete;
    if (p[1] != '\n') return fail(f, 400, "bare CR");
    if (empty_lines == kMaxLeadingEmptyLines) return fail(f, 400, "too many empty lines before the request line");
    p += 2;
  }
  const Step line = parse_request_line(&p, end, limits->max_target_bytes, out, f);
  if (line != Step::kOk) return line;

  FieldSink sink{out->headers, static_cast<uint32_t>(min_size(limits->max_headers, out->header_capacity)), 0};
  const Step fields = parse_fields(&p, end, &sink, f);
  out->header_count = sink.count;
  if (fields != Step::kOk) return fields;
  *consumed = static_cast<size_t>(p - buf);
  return Step::kOk;
}

void clear_view(axle_request_head_t *out) {
  out->method = out->target = out->path = out->query = axle_str_t{nullptr, 0};
  out->version_major = out->version_minor = 0;
  out->error_status = 0;
  out->header_count = 0;
  out->error_reason = nullptr;
}

axle_parse_result_t parse_request(void *, const char *buf, size_t len, const axle_parse_limits_t *limits,
                                  axle_request_head_t *out, size_t *consumed) {
  if (!out || out->struct_size < sizeof(axle_request_head_t) || !consumed) return AXLE_PARSE_ERROR;
  *consumed = 0;
  clear_view(out);
  if (!limits || limits->struct_size < sizeof(axle_parse_limits_t) || (!buf && len) ||
      (!out->headers && out->header_capacity)) {
    // A caller bug, not the client's: 500 so it is never mistaken for bad input.
    out->error_status = 500;
    out->error_reason = "parse_request called with invalid arguments";
    return AXLE_PARSE_ERROR;
  }

  Failure f;
  const char *end = buf + min_size(len, limits->max_head_bytes);
  Step step = parse_head(buf, end, limits, out, consumed, &f);
  if (step == Step::kIncomplete && len >= limits->max_head_bytes)
    step = fail(&f, 431, "request head larger than max_head_bytes");
  if (step == Step::kOk) return AXLE_PARSE_COMPLETE;

  // Nothing of a rejected or unfinished head is handed out.
  *consumed = 0;
  clear_view(out);
  if (step == Step::kIncomplete) return AXLE_PARSE_INCOMPLETE;
  out->error_status = f.status;
  out->error_reason = f.reason;
  return AXLE_PARSE_ERROR;
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

axle_parse_result_t parse_trailers(void *, const char *buf, size_t len, size_t max_bytes, size_t *consumed) {
  if (!consumed || (!buf && len)) return AXLE_PARSE_ERROR;
  *consumed = 0;
  const char *p = buf;
  Failure f;
  const Step step = parse_fields(&p, buf + min_size(len, max_bytes), nullptr, &f);
  if (step == Step::kOk) {
    *consumed = static_cast<size_t>(p - buf);
    return AXLE_PARSE_COMPLETE;
  }
  if (step == Step::kIncomplete && len < max_bytes) return AXLE_PARSE_INCOMPLETE;
  return AXLE_PARSE_ERROR;
}

struct ScalarParser {
  const axle_host_api_t *host;
};

axle_status_t create(const axle_host_api_t *host, const axle_config_t *, void **instance_out, axle_error_t *err) {
  auto *instance = new (std::nothrow) ScalarParser{host};
  if (!instance) {
    static constexpr char kMsg[] = "parser-scalar: out of memory";
    if (host && err) host->error_set(err, kMsg, sizeof kMsg - 1);
    return AXLE_ERR_NOMEM;
  }
  *instance_out = instance;
  return AXLE_OK;
}

void destroy(void *instance) { delete static_cast<ScalarParser *>(instance); }

const axle_parser_vtable_t kVtable = {
    .struct_size = sizeof(axle_parser_vtable_t),
    .parse_request = parse_request,
    .parse_chunk_size = parse_chunk_size,
    .parse_trailers = parse_trailers,
};

}  // namespace

AXLE_MODULE_ENTRY {
  static const axle_module_descriptor_t descriptor = {
      .struct_size = sizeof(axle_module_descriptor_t),
      .abi_major = AXLE_ABI_MAJOR,
      .abi_minor = AXLE_ABI_MINOR,
      .kind = AXLE_KIND_PARSER,
      .flags = 0,
      .name = "scalar",
      .version = "1.0.0",
      .description = "Strict RFC 9112 request parser, one byte at a time (reference for parser-simd)",
      .config_keys = nullptr,
      .config_key_count = 0,
      .create = create,
      .destroy = destroy,
      .thread_init = nullptr,
      .thread_fini = nullptr,
      .vtable = &kVtable,
  };
  return &descriptor;
}
