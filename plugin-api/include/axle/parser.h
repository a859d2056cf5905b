/* axle plugin ABI — HTTP/1.1 request parser modules (kind AXLE_KIND_PARSER).
 *
 * A parser turns bytes into a request view whose strings are slices of the
 * caller's buffer (no copy). It checks syntax only (RFC 9112 grammar); the
 * kernel applies the framing and semantics rules (Content-Length vs
 * Transfer-Encoding, Connection, Expect) once, the same for every parser.
 * Parsers are pure: same input, same output, no state kept between calls.
 */
#ifndef AXLE_PARSER_H
#define AXLE_PARSER_H

#include "axle/module.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum axle_parse_result_t {
  AXLE_PARSE_COMPLETE = 0,   /* a whole request head was parsed; *consumed is set */
  AXLE_PARSE_INCOMPLETE = 1, /* need more bytes; nothing is consumed */
  AXLE_PARSE_ERROR = 2       /* reject; out->error_status says which status */
} axle_parse_result_t;

/* A header field: slices of the input buffer, name as received, value
 * without leading/trailing whitespace. module.h (1.2) declares the same type
 * for the response calls; the guard lets either header come first. */
#ifndef AXLE_HEADER_T_DECLARED
#define AXLE_HEADER_T_DECLARED
typedef struct axle_header_t {
  axle_str_t name;
  axle_str_t value;
} axle_header_t;
#endif

typedef struct axle_parse_limits_t {
  uint32_t struct_size;
  uint32_t max_head_bytes;   /* request line + headers + CRLFs; beyond it: 431 */
  uint32_t max_target_bytes; /* request-target length; beyond it: 414 */
  uint32_t max_headers;      /* header field count; beyond it: 431 */
} axle_parse_limits_t;

/* Filled by parse_request. OWNERSHIP: the caller's; all slices borrow the
 * input buffer and live as long as it does. */
typedef struct axle_request_head_t {
  uint32_t struct_size;     /* set by the caller */
  axle_str_t method;        /* token, e.g. "GET" */
  axle_str_t target;        /* request-target as sent */
  axle_str_t path;          /* target up to '?' (origin-form) */
  axle_str_t query;         /* after '?', without it; empty if none */
  uint8_t version_major;    /* 1 */
  uint8_t version_minor;    /* 0 or 1 */
  uint16_t error_status;    /* on AXLE_PARSE_ERROR: 400, 414, 431, 501 or 505 */
  axle_header_t *headers;   /* caller-provided array of header_capacity entries */
  uint32_t header_capacity; /* set by the caller */
  uint32_t header_count;    /* set by the parser */
  const char *error_reason; /* on error: static text naming the rule broken */
} axle_request_head_t;

typedef struct axle_parser_vtable_t {
  uint32_t struct_size;

  /* Parses one request head (request line and header fields up to and
   * including the empty line) at the start of buf. On COMPLETE, *consumed is
   * the head's length. Rejects: bare CR, bare LF, obs-fold, whitespace before
   * ':', invalid token or field characters, a target with control bytes or
   * spaces, a version other than HTTP/1.x (505 for HTTP/2+ or 0.9-like forms),
   * and the limits. Leading empty lines (RFC 9112 2.2) are skipped and counted
   * in *consumed. thread_ctx may be NULL if the module has no thread_init. */
  axle_parse_result_t (*parse_request)(void *thread_ctx, const char *buf, size_t len,
                                       const axle_parse_limits_t *limits, axle_request_head_t *out,
                                       size_t *consumed);

  /* Parses a chunk-size line "HEX[;ext]CRLF" at the start of buf. On COMPLETE
   * sets *chunk_size and *consumed. ERROR for a missing or non-hex size, a
   * size above 2^60, bare LF or bad extension bytes. */
  axle_parse_result_t (*parse_chunk_size)(void *thread_ctx, const char *buf, size_t len, uint64_t *chunk_size,
                                          size_t *consumed);

  /* Parses the trailer section after the last chunk: zero or more fields and
   * the final CRLF. On COMPLETE sets *consumed; trailers are validated and
   * discarded. max_bytes bounds the section (ERROR beyond). */
  axle_parse_result_t (*parse_trailers)(void *thread_ctx, const char *buf, size_t len, size_t max_bytes,
                                        size_t *consumed);
} axle_parser_vtable_t;

#ifdef __cplusplus
}
#endif

#endif /* AXLE_PARSER_H */
