// parser-simd: the same strict RFC 9112 parser as parser-scalar, but the
// long runs (method, request-target, field names, field values) are scanned
// 32 or 16 bytes at a time with AVX2 or SSE4.2, chosen when the instance is
// created from what the CPU supports (or forced with the "isa" key).
//
// The module is built without -march flags: each level's code is compiled
// with its own __attribute__((target(...))) (see head_parser.inl), so one
// binary runs everywhere and uses AVX2 where it exists. Vector loads never
// cross buf + len: blocks run only while a whole block is left, then a
// 16-byte block, then a byte loop finishes the tail.

#include <axle/parser.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <new>
#include <string_view>

#include "http_grammar.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define AXLE_PARSER_X86 1
#else
#define AXLE_PARSER_X86 0
#endif

namespace {

// Resets the outputs; false (with out's error set when possible) on a caller bug.
bool check_request_args(const char *buf, size_t len, const axle_parse_limits_t *limits, axle_request_head_t *out,
                        size_t *consumed) {
  if (!out || !head_holds_1_0(out) || !consumed) return false;
  *consumed = 0;
  clear_view(out);
  if (!limits || !limits_hold_1_0(limits) || (!buf && len) ||
      (!out->headers && out->header_capacity)) {
    // A caller bug, not the client's: 500 so it is never mistaken for bad input.
    out->error_status = 500;
    out->error_reason = "parse_request called with invalid arguments";
    return false;
  }
  return true;
}

axle_parse_result_t finish_request(Step step, size_t len, const axle_parse_limits_t *limits,
                                   axle_request_head_t *out, Failure *f, size_t head_len, size_t *consumed) {
  if (step == Step::kIncomplete && len >= limits->max_head_bytes)
    step = fail(f, 431, "request head larger than max_head_bytes");
  if (step == Step::kOk) {
    *consumed = head_len;
    return AXLE_PARSE_COMPLETE;
  }
  clear_view(out);  // nothing of a rejected or unfinished head is handed out
  if (step == Step::kIncomplete) return AXLE_PARSE_INCOMPLETE;
  out->error_status = f->status;
  out->error_reason = f->reason;
  return AXLE_PARSE_ERROR;
}

Step skip_leading_empty_lines(const char **pos, const char *end, Failure *f) {
  const char *p = *pos;
  for (unsigned empty_lines = 0;; ++empty_lines) {
    if (p == end) return Step::kIncomplete;
    if (*p == '\n') return fail(f, 400, "bare LF");
    if (*p != '\r') break;
    if (p + 1 == end) return Step::kIncomplete;
    if (p[1] != '\n') return fail(f, 400, "bare CR");
    if (empty_lines == kMaxLeadingEmptyLines) return fail(f, 400, "too many empty lines before the request line");
    p += 2;
  }
  *pos = p;
  return Step::kOk;
}

// "HTTP/" DIGIT "." DIGIT CRLF, after the target's SP.
Step parse_version(const char **pos, const char *end, axle_request_head_t *out, Failure *f) {
  const char *p = *pos;
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

// Nibble tables for classifying bytes with two shuffles: byte c is a tchar
// iff kTcharLow[c & 15] & kTcharHigh[c >> 4] != 0. kTcharLow holds, per low
// nibble, one bit per high nibble 0..7 whose byte is a tchar; kTcharHigh maps
// high nibble h to 1 << h (0 for h >= 8, so bytes >= 0x80 never match).
// Both are repeated for the two 128-bit lanes of AVX2 shuffles.
struct NibbleTables {
  alignas(32) uint8_t low[32];
  alignas(32) uint8_t high[32];
};

constexpr NibbleTables make_tchar_tables() {
  NibbleTables t{};
  for (unsigned i = 0; i < 32; ++i) {
    const unsigned nibble = i & 15;
    uint8_t bits = 0;
    for (unsigned h = 0; h < 8; ++h)
      if (is_tchar_byte(h * 16 + nibble)) bits |= static_cast<uint8_t>(1u << h);
    t.low[i] = bits;
    t.high[i] = nibble < 8 ? static_cast<uint8_t>(1u << nibble) : 0;
  }
  return t;
}
constexpr NibbleTables kTcharTables = make_tchar_tables();

}  // namespace

// ---- one copy of the head parser per level ----

namespace scalar_level {
namespace {
#define AXLE_ISA_FN inline

AXLE_ISA_FN const char *skip_class(const char *p, const char *stop, uint8_t cls) {
  while (p < stop && has_class(*p, cls)) ++p;
  return p;
}
AXLE_ISA_FN const char *skip_tchar(const char *p, const char *stop) { return skip_class(p, stop, kTchar); }
AXLE_ISA_FN const char *skip_vchar(const char *p, const char *stop) { return skip_class(p, stop, kVchar); }
AXLE_ISA_FN const char *skip_field_value(const char *p, const char *stop) { return skip_class(p, stop, kFieldValue); }

#include "head_parser.inl"
#undef AXLE_ISA_FN
}  // namespace
}  // namespace scalar_level

#if AXLE_PARSER_X86
namespace sse42_level {
namespace {
#define AXLE_ISA_FN inline __attribute__((target("sse4.2")))

// Index of the first byte of a 16-byte block outside every (low, high) pair
// in `ranges` (PCMPESTRI ranges mode, negative polarity), 16 if none.
#define AXLE_FIRST_OUTSIDE_RANGES(ranges, range_bytes, block)                                      \
  _mm_cmpestri(ranges, range_bytes, block, 16,                                                     \
               _SIDD_UBYTE_OPS | _SIDD_CMP_RANGES | _SIDD_NEGATIVE_POLARITY | _SIDD_LEAST_SIGNIFICANT)

AXLE_ISA_FN const char *skip_vchar(const char *p, const char *stop) {
  const __m128i vchar = _mm_setr_epi8(0x21, 0x7E, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  for (; stop - p >= 16; p += 16) {
    const int i = AXLE_FIRST_OUTSIDE_RANGES(vchar, 2, _mm_loadu_si128(reinterpret_cast<const __m128i *>(p)));
    if (i != 16) return p + i;
  }
  return scalar_level::skip_vchar(p, stop);
}

AXLE_ISA_FN const char *skip_field_value(const char *p, const char *stop) {
  // HTAB, SP..'~', obs-text.
  const __m128i field_value = _mm_setr_epi8('\t', '\t', 0x20, 0x7E, static_cast<char>(0x80), static_cast<char>(0xFF),
                                            0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  for (; stop - p >= 16; p += 16) {
    const int i = AXLE_FIRST_OUTSIDE_RANGES(field_value, 6, _mm_loadu_si128(reinterpret_cast<const __m128i *>(p)));
    if (i != 16) return p + i;
  }
  return scalar_level::skip_field_value(p, stop);
}
#undef AXLE_FIRST_OUTSIDE_RANGES

// Mask of the bytes of a 16-byte block that are not tchars.
AXLE_ISA_FN unsigned non_tchar_mask(__m128i block) {
  const __m128i low_table = _mm_load_si128(reinterpret_cast<const __m128i *>(kTcharTables.low));
  const __m128i high_table = _mm_load_si128(reinterpret_cast<const __m128i *>(kTcharTables.high));
  const __m128i nibble = _mm_set1_epi8(0x0F);
  const __m128i low = _mm_and_si128(block, nibble);
  const __m128i high = _mm_and_si128(_mm_srli_epi16(block, 4), nibble);
  const __m128i hit = _mm_and_si128(_mm_shuffle_epi8(low_table, low), _mm_shuffle_epi8(high_table, high));
  return static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(hit, _mm_setzero_si128())));
}

AXLE_ISA_FN const char *skip_tchar(const char *p, const char *stop) {
  for (; stop - p >= 16; p += 16) {
    const unsigned bad = non_tchar_mask(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p)));
    if (bad) return p + __builtin_ctz(bad);
  }
  return scalar_level::skip_tchar(p, stop);
}

#include "head_parser.inl"
#undef AXLE_ISA_FN
}  // namespace
}  // namespace sse42_level

namespace avx2_level {
namespace {
#define AXLE_ISA_FN inline __attribute__((target("avx2")))

AXLE_ISA_FN const char *skip_vchar(const char *p, const char *stop) {
  // Signed compare: 0x80-0xFF are negative, so "< 0x21" catches them too.
  const __m256i first_vchar = _mm256_set1_epi8(0x21);
  const __m256i del = _mm256_set1_epi8(0x7F);
  for (; stop - p >= 32; p += 32) {
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p));
    const __m256i bad = _mm256_or_si256(_mm256_cmpgt_epi8(first_vchar, b), _mm256_cmpeq_epi8(b, del));
    const unsigned mask = static_cast<unsigned>(_mm256_movemask_epi8(bad));
    if (mask) return p + __builtin_ctz(mask);
  }
  return sse42_level::skip_vchar(p, stop);
}

AXLE_ISA_FN const char *skip_field_value(const char *p, const char *stop) {
  const __m256i last_control = _mm256_set1_epi8(0x1F);
  const __m256i htab = _mm256_set1_epi8('\t');
  const __m256i del = _mm256_set1_epi8(0x7F);
  for (; stop - p >= 32; p += 32) {
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p));
    // b <= 0x1F unsigned  <=>  min(b, 0x1F) == b
    const __m256i control = _mm256_cmpeq_epi8(_mm256_min_epu8(b, last_control), b);
    const __m256i bad = _mm256_or_si256(_mm256_andnot_si256(_mm256_cmpeq_epi8(b, htab), control),
                                        _mm256_cmpeq_epi8(b, del));
    const unsigned mask = static_cast<unsigned>(_mm256_movemask_epi8(bad));
    if (mask) return p + __builtin_ctz(mask);
  }
  return sse42_level::skip_field_value(p, stop);
}

AXLE_ISA_FN const char *skip_tchar(const char *p, const char *stop) {
  const __m256i low_table = _mm256_load_si256(reinterpret_cast<const __m256i *>(kTcharTables.low));
  const __m256i high_table = _mm256_load_si256(reinterpret_cast<const __m256i *>(kTcharTables.high));
  const __m256i nibble = _mm256_set1_epi8(0x0F);
  for (; stop - p >= 32; p += 32) {
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p));
    const __m256i low = _mm256_and_si256(b, nibble);
    const __m256i high = _mm256_and_si256(_mm256_srli_epi16(b, 4), nibble);
    const __m256i hit = _mm256_and_si256(_mm256_shuffle_epi8(low_table, low), _mm256_shuffle_epi8(high_table, high));
    const unsigned bad = static_cast<unsigned>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(hit, _mm256_setzero_si256())));
    if (bad) return p + __builtin_ctz(bad);
  }
  return sse42_level::skip_tchar(p, stop);
}

#include "head_parser.inl"
#undef AXLE_ISA_FN
}  // namespace
}  // namespace avx2_level
#endif  // AXLE_PARSER_X86

namespace {

enum class Level { kScalar, kSse42, kAvx2 };

struct LevelInfo {
  Level level;
  const char *name;  // as written in the "isa" key
  decltype(axle_parser_vtable_t::parse_request) parse_request;
  decltype(axle_parser_vtable_t::parse_trailers) parse_trailers;
};

constexpr LevelInfo kLevels[] = {
#if AXLE_PARSER_X86
    {Level::kAvx2, "avx2", avx2_level::parse_request, avx2_level::parse_trailers},
    {Level::kSse42, "sse42", sse42_level::parse_request, sse42_level::parse_trailers},
#endif
    {Level::kScalar, "scalar", scalar_level::parse_request, scalar_level::parse_trailers},
};

bool cpu_has(Level level) {
#if AXLE_PARSER_X86
  __builtin_cpu_init();
  switch (level) {
    case Level::kAvx2:
      return __builtin_cpu_supports("avx2");
    case Level::kSse42:
      return __builtin_cpu_supports("sse4.2");
    case Level::kScalar:
      return true;
  }
  return false;
#else
  return level == Level::kScalar;
#endif
}

// kLevels is ordered best first.
const LevelInfo *best_level() {
  for (const LevelInfo &info : kLevels)
    if (cpu_has(info.level)) return &info;
  return &kLevels[sizeof kLevels / sizeof kLevels[0] - 1];
}

struct SimdParser {
  const axle_host_api_t *host;
  const LevelInfo *level;
};

// The thread context is the instance (read-only after create). A caller that
// skips thread_init passes NULL and gets the best level the CPU has.
const LevelInfo *level_of(void *thread_ctx) {
  if (thread_ctx) return static_cast<const SimdParser *>(thread_ctx)->level;
  static const LevelInfo *const best = best_level();
  return best;
}

axle_parse_result_t parse_request(void *thread_ctx, const char *buf, size_t len, const axle_parse_limits_t *limits,
                                  axle_request_head_t *out, size_t *consumed) {
  return level_of(thread_ctx)->parse_request(thread_ctx, buf, len, limits, out, consumed);
}

axle_parse_result_t parse_trailers(void *thread_ctx, const char *buf, size_t len, size_t max_bytes,
                                   size_t *consumed) {
  return level_of(thread_ctx)->parse_trailers(thread_ctx, buf, len, max_bytes, consumed);
}

constexpr axle_config_key_t kConfigKeys[] = {
    {.name = "isa",
     .type = AXLE_CONFIG_STRING,
     .default_value = "auto",
     .doc = "Scanning level: auto (best the CPU has), avx2, sse42 or scalar; forcing one the CPU lacks fails"},
};

// A few pieces joined into a fixed buffer (truncated if too long), for the host.
struct Message {
  char text[256];
  size_t len = 0;
  Message(std::initializer_list<std::string_view> parts) {
    for (std::string_view part : parts)
      for (char ch : part)
        if (len < sizeof text) text[len++] = ch;
  }
};

axle_status_t report(const axle_host_api_t *host, axle_error_t *err, axle_status_t status, const Message &msg) {
  if (err) host->error_set(err, msg.text, msg.len);
  return status;
}

axle_status_t create(const axle_host_api_t *host, const axle_config_t *cfg, void **instance_out,
                     axle_error_t *err) {
  if (!host || !instance_out) return AXLE_ERR_INVALID;
  axle_str_t value{};
  const axle_status_t got = host->config_get_string(cfg, "isa", &value);
  std::string_view isa = "auto";
  if (got == AXLE_OK) {
    isa = std::string_view(value.ptr, value.len);
  } else if (got != AXLE_ERR_NOT_FOUND) {
    return report(host, err, got, {"parser-simd: cannot read the \"isa\" key"});
  }

  const LevelInfo *level = nullptr;
  if (isa == "auto") {
    level = best_level();
  } else {
    for (const LevelInfo &info : kLevels)
      if (isa == info.name) level = &info;
    if (!level)
      return report(host, err, AXLE_ERR_INVALID,
                    {"parser-simd: isa must be auto, avx2, sse42 or scalar, not \"", isa, "\""});
    if (!cpu_has(level->level))
      return report(host, err, AXLE_ERR_UNSUPPORTED,
                    {"parser-simd: isa = \"", isa, "\" but this CPU does not support it"});
  }

  auto *instance = new (std::nothrow) SimdParser{host, level};
  if (!instance) return report(host, err, AXLE_ERR_NOMEM, {"parser-simd: out of memory"});
  const Message chosen{"parser-simd: scanning with ", level->name};
  host->log(cfg, AXLE_LOG_INFO, chosen.text, chosen.len);
  *instance_out = instance;
  return AXLE_OK;
}

void destroy(void *instance) { delete static_cast<SimdParser *>(instance); }

axle_status_t thread_init(void *instance, axle_worker_t *, void **thread_ctx_out, axle_error_t *) {
  *thread_ctx_out = instance;
  return AXLE_OK;
}

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
      .name = "simd",
      .version = "1.0.0",
      .description = "Strict RFC 9112 request parser scanning with AVX2/SSE4.2, chosen at runtime",
      .config_keys = kConfigKeys,
      .config_key_count = sizeof kConfigKeys / sizeof kConfigKeys[0],
      .create = create,
      .destroy = destroy,
      .thread_init = thread_init,
      .thread_fini = nullptr,  // the context is the instance: nothing to free
      .vtable = &kVtable,
      .config_sections = nullptr,
      .config_section_count = 0,
  };
  return &descriptor;
}
