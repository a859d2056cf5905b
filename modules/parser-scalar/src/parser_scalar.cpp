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

#include "http_grammar.h"

// The ABI compatibility fixtures (tests/fixtures/abi-compat) compile these
// sources against other minors' headers under another module name.
#ifndef AXLE_MODULE_NAME
#define AXLE_MODULE_NAME "scalar"
#endif

namespace {

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
  // RFC 9112 3: exactly three parts. A line that ends after the target (an
  // HTTP/0.9 "GET /", or "GET HTTP/1.1" missing its target) is malformed: 400.
  // 505 is only for a well-formed version whose major is not 1.
  if (*p == '\r' || *p == '\n') return fail(f, 400, "request line without HTTP-version");
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

axle_parse_result_t parse_request(void *, const char *buf, size_t len, const axle_parse_limits_t *limits,
                                  axle_request_head_t *out, size_t *consumed) {
  if (!out || !head_holds_1_0(out) || !consumed) return AXLE_PARSE_ERROR;
  *consumed = 0;
  clear_view(out);
  if (!limits || !limits_hold_1_0(limits) || (!buf && len) ||
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
      .name = AXLE_MODULE_NAME,
      .version = "1.0.0",
      .description = "Strict RFC 9112 request parser, one byte at a time (reference for parser-simd)",
      .config_keys = nullptr,
      .config_key_count = 0,
      .create = create,
      .destroy = destroy,
      .thread_init = nullptr,
      .thread_fini = nullptr,
      .vtable = &kVtable,
#if AXLE_ABI_MINOR >= 3  // tests/fixtures/abi-compat builds this file against older headers too
      .config_sections = nullptr,
      .config_section_count = 0,
#endif
  };
  return &descriptor;
}
