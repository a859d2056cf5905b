// Request-head and field-section parsing, written once and compiled once per
// instruction-set level: parser_simd.cpp includes this file inside a
// namespace per level, after defining AXLE_ISA_FN (the function attributes,
// e.g. target("avx2")) and the three scanners
//   skip_tchar(p, stop), skip_vchar(p, stop), skip_field_value(p, stop)
// each returning the first byte in [p, stop) outside its class, or stop.
// Every function here carries the level's target attribute so the scanners
// inline into it; no code of one level can run on a CPU of a lower one.
//
// The rules and their order mirror parser-scalar exactly (the differential
// fuzzer holds them to it): the first offending byte decides the error.

AXLE_ISA_FN Step parse_fields(const char **pos, const char *end, FieldSink *sink, Failure *f) {
  const char *p = *pos;
  for (;;) {
    if (p == end) return Step::kIncomplete;
    const char first = *p;
    if (!has_class(first, kTchar)) {  // CR, LF and OWS are not tchars: one test for the usual case
      if (first == '\r') {
        if (p + 1 == end) return Step::kIncomplete;
        if (p[1] != '\n') return fail(f, 400, "bare CR");
        *pos = p + 2;
        return Step::kOk;
      }
      if (first == '\n') return fail(f, 400, "bare LF");
      if (is_ows(first)) return fail(f, 400, "obs-fold (line folding) is not allowed");
    }
    if (sink && sink->count == sink->max_fields) return fail(f, 431, "too many header fields");

    const char *name = p;
    p = skip_tchar(p, end);
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
    p = skip_field_value(p, end);
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

AXLE_ISA_FN Step parse_request_line(const char **pos, const char *end, uint32_t max_target,
                                    axle_request_head_t *out, Failure *f) {
  const char *p = *pos;

  const char *method = p;
  p = skip_tchar(p, end);
  if (p == end) return Step::kIncomplete;
  if (p == method) return fail(f, 400, "request line must start with a method token");
  if (*p != ' ') return fail(f, 400, "method must be followed by a single SP");
  out->method = {method, static_cast<size_t>(p - method)};
  ++p;

  const char *target = p;
  const size_t over_limit = size_t{max_target} + 1;
  const char *stop = static_cast<size_t>(end - p) >= over_limit ? p + over_limit : end;
  p = skip_vchar(p, stop);
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

  const Step version = parse_version(&p, end, out, f);
  if (version != Step::kOk) return version;
  *pos = p;
  return Step::kOk;
}

AXLE_ISA_FN axle_parse_result_t parse_request(void *, const char *buf, size_t len, const axle_parse_limits_t *limits,
                                              axle_request_head_t *out, size_t *consumed) {
  if (!check_request_args(buf, len, limits, out, consumed)) return AXLE_PARSE_ERROR;
  Failure f;
  const char *end = buf + min_size(len, limits->max_head_bytes);
  const char *p = buf;
  Step step = skip_leading_empty_lines(&p, end, &f);
  if (step == Step::kOk) step = parse_request_line(&p, end, limits->max_target_bytes, out, &f);
  if (step == Step::kOk) {
    FieldSink sink{out->headers, static_cast<uint32_t>(min_size(limits->max_headers, out->header_capacity)), 0};
    step = parse_fields(&p, end, &sink, &f);
    out->header_count = sink.count;
  }
  return finish_request(step, len, limits, out, &f, static_cast<size_t>(p - buf), consumed);
}

AXLE_ISA_FN axle_parse_result_t parse_trailers(void *, const char *buf, size_t len, size_t max_bytes,
                                               size_t *consumed) {
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
