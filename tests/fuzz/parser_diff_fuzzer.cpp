// libFuzzer differential target: parser-scalar against parser-simd at every
// level this CPU has. Both modules' sources are compiled into this binary
// (their entry symbols renamed by CMake), so coverage guides into both.
//
// Input: byte 0 picks the limits. Bit 7 clear: the defaults below and the
// payload starts at byte 1. Bit 7 set: bytes 1-4 give small limits (to reach
// the 414/431 paths) and the payload starts at byte 5. The payload is fed to
// parse_request, parse_chunk_size and parse_trailers of every parser; any
// difference in result, consumed, slices, version, status or reason aborts.

#include <axle/parser.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern "C" const axle_module_descriptor_t *axle_fuzz_scalar_entry(void);
extern "C" const axle_module_descriptor_t *axle_fuzz_simd_entry(void);

struct axle_config_t {
  const char *isa;  // nullptr: no "isa" key
};
struct axle_error_t {
  std::string message;
};

namespace {

axle_status_t config_get_string(const axle_config_t *cfg, const char *key, axle_str_t *out) {
  if (!cfg->isa || std::strcmp(key, "isa") != 0) return AXLE_ERR_NOT_FOUND;
  *out = {cfg->isa, std::strlen(cfg->isa)};
  return AXLE_OK;
}
void error_set(axle_error_t *err, const char *msg, size_t len) { err->message.assign(msg, len); }
void log_line(const axle_config_t *, axle_log_level_t, const char *, size_t) {}

// Only what parser modules call; the other services stay NULL.
axle_host_api_t make_host() {
  axle_host_api_t host{};
  host.struct_size = sizeof host;
  host.abi_major = AXLE_ABI_MAJOR;
  host.abi_minor = AXLE_ABI_MINOR;
  host.log = log_line;
  host.error_set = error_set;
  host.config_get_string = config_get_string;
  return host;
}
const axle_host_api_t kHost = make_host();

struct Parser {
  std::string name;
  const axle_parser_vtable_t *vt;
  void *ctx;
  const axle_module_descriptor_t *desc;
  void *instance;
};

// parser-scalar first (the reference), then parser-simd at each level the CPU
// has. Destroys the instances at exit, so LeakSanitizer sees a clean shutdown.
class ParserSet {
 public:
  ParserSet();
  ~ParserSet() {
    for (Parser &p : parsers_) p.desc->destroy(p.instance);
  }
  ParserSet(const ParserSet &) = delete;
  ParserSet &operator=(const ParserSet &) = delete;
  const std::vector<Parser> &parsers() const { return parsers_; }

 private:
  std::vector<Parser> parsers_;
};

ParserSet::ParserSet() {
  const axle_module_descriptor_t *scalar = axle_fuzz_scalar_entry();
  const axle_module_descriptor_t *simd = axle_fuzz_simd_entry();
  static axle_config_t no_config{nullptr};
  static axle_config_t level_config[] = {{"avx2"}, {"sse42"}, {"scalar"}};
  void *instance = nullptr;
  axle_error_t err;
  if (scalar->create(&kHost, &no_config, &instance, &err) != AXLE_OK) std::abort();
  parsers_.push_back({"scalar", static_cast<const axle_parser_vtable_t *>(scalar->vtable), nullptr, scalar, instance});
  for (axle_config_t &cfg : level_config) {
    const axle_status_t st = simd->create(&kHost, &cfg, &instance, &err);
    if (st == AXLE_ERR_UNSUPPORTED) continue;  // level not on this CPU
    if (st != AXLE_OK) std::abort();
    void *ctx = nullptr;
    if (simd->thread_init(instance, nullptr, &ctx, &err) != AXLE_OK) std::abort();
    parsers_.push_back(
        {std::string("simd/") + cfg.isa, static_cast<const axle_parser_vtable_t *>(simd->vtable), ctx, simd, instance});
  }
}

[[noreturn]] void mismatch(const Parser &a, const Parser &b, const char *what) {
  std::fprintf(stderr, "parser mismatch: %s vs %s differ in %s\n", a.name.c_str(), b.name.c_str(), what);
  std::abort();
}

[[noreturn]] void broken(const Parser &p, const char *what) {
  std::fprintf(stderr, "parser %s broke a rule: %s\n", p.name.c_str(), what);
  std::abort();
}

constexpr uint32_t kCapacity = 64;

struct HeadResult {
  axle_parse_result_t result;
  size_t consumed;
  axle_request_head_t head;
  axle_header_t headers[kCapacity];
};

void run_head(const Parser &p, const char *buf, size_t len, const axle_parse_limits_t &limits, uint32_t capacity,
              HeadResult *r) {
  std::memset(r, 0xA5, sizeof *r);  // any field a parser forgets to set shows up as a difference
  r->head.struct_size = sizeof r->head;
  r->head.headers = r->headers;
  r->head.header_capacity = capacity;
  r->result = p.vt->parse_request(p.ctx, buf, len, &limits, &r->head, &r->consumed);
}

bool same_slice(axle_str_t a, axle_str_t b) { return a.ptr == b.ptr && a.len == b.len; }

bool same_reason(const char *a, const char *b) { return a == b || (a && b && std::strcmp(a, b) == 0); }

void compare_heads(const Parser &pa, const HeadResult &a, const Parser &pb, const HeadResult &b) {
  if (a.result != b.result) mismatch(pa, pb, "parse_request result");
  if (a.consumed != b.consumed) mismatch(pa, pb, "parse_request consumed");
  if (!same_slice(a.head.method, b.head.method)) mismatch(pa, pb, "method");
  if (!same_slice(a.head.target, b.head.target)) mismatch(pa, pb, "target");
  if (!same_slice(a.head.path, b.head.path)) mismatch(pa, pb, "path");
  if (!same_slice(a.head.query, b.head.query)) mismatch(pa, pb, "query");
  if (a.head.version_major != b.head.version_major || a.head.version_minor != b.head.version_minor)
    mismatch(pa, pb, "version");
  if (a.head.error_status != b.head.error_status) mismatch(pa, pb, "error_status");
  if (!same_reason(a.head.error_reason, b.head.error_reason)) mismatch(pa, pb, "error_reason");
  if (a.head.header_count != b.head.header_count) mismatch(pa, pb, "header_count");
  for (uint32_t i = 0; i < a.head.header_count && i < kCapacity; ++i)
    if (!same_slice(a.headers[i].name, b.headers[i].name) || !same_slice(a.headers[i].value, b.headers[i].value))
      mismatch(pa, pb, "a header slice");
}

// Rules every parser must keep on its own, whatever the other says.
void check_head_rules(const Parser &p, const HeadResult &r, const char *buf, size_t len,
                      const axle_parse_limits_t &limits, uint32_t capacity) {
  const auto inside = [&](axle_str_t s) { return s.len == 0 || (s.ptr >= buf && s.ptr + s.len <= buf + len); };
  switch (r.result) {
    case AXLE_PARSE_COMPLETE: {
      if (r.consumed == 0 || r.consumed > len || r.consumed > limits.max_head_bytes) broken(p, "consumed out of range");
      if (r.head.header_count > capacity || r.head.header_count > limits.max_headers) broken(p, "too many headers");
      if (r.head.target.len > limits.max_target_bytes) broken(p, "target over the limit accepted");
      if (!inside(r.head.method) || !inside(r.head.target) || !inside(r.head.path) || !inside(r.head.query))
        broken(p, "slice outside the buffer");
      for (uint32_t i = 0; i < r.head.header_count; ++i)
        if (!inside(r.headers[i].name) || !inside(r.headers[i].value)) broken(p, "header slice outside the buffer");
      break;
    }
    case AXLE_PARSE_INCOMPLETE:
      if (r.consumed != 0) broken(p, "INCOMPLETE with consumed != 0");
      if (len >= limits.max_head_bytes) broken(p, "INCOMPLETE at max_head_bytes");
      break;
    case AXLE_PARSE_ERROR: {
      const uint16_t s = r.head.error_status;
      if (s != 400 && s != 414 && s != 431 && s != 501 && s != 505) broken(p, "unexpected error_status");
      if (!r.head.error_reason) broken(p, "error without reason");
      break;
    }
  }
}

void fuzz_request(const std::vector<Parser> &parsers, const char *buf, size_t len, const axle_parse_limits_t &limits,
                  uint32_t capacity) {
  static HeadResult reference, other, prefix;
  run_head(parsers[0], buf, len, limits, capacity, &reference);
  check_head_rules(parsers[0], reference, buf, len, limits, capacity);
  if (reference.result == AXLE_PARSE_COMPLETE) {
    // The head alone parses the same; one byte less is INCOMPLETE.
    run_head(parsers[0], buf, reference.consumed, limits, capacity, &prefix);
    if (prefix.result != AXLE_PARSE_COMPLETE || prefix.consumed != reference.consumed)
      broken(parsers[0], "head alone does not parse the same");
    run_head(parsers[0], buf, reference.consumed - 1, limits, capacity, &prefix);
    if (prefix.result != AXLE_PARSE_INCOMPLETE) broken(parsers[0], "strict prefix of a head is not INCOMPLETE");
  }
  for (size_t i = 1; i < parsers.size(); ++i) {
    run_head(parsers[i], buf, len, limits, capacity, &other);
    compare_heads(parsers[0], reference, parsers[i], other);
  }
}

void fuzz_chunk_size(const std::vector<Parser> &parsers, const char *buf, size_t len) {
  uint64_t size0 = 1, size = 1;
  size_t consumed0 = 1, consumed = 1;
  const axle_parse_result_t r0 = parsers[0].vt->parse_chunk_size(parsers[0].ctx, buf, len, &size0, &consumed0);
  if (r0 == AXLE_PARSE_COMPLETE && (size0 > (uint64_t{1} << 60) || consumed0 == 0 || consumed0 > len))
    broken(parsers[0], "chunk size or consumed out of range");
  for (size_t i = 1; i < parsers.size(); ++i) {
    const axle_parse_result_t r = parsers[i].vt->parse_chunk_size(parsers[i].ctx, buf, len, &size, &consumed);
    if (r != r0 || size != size0 || consumed != consumed0) mismatch(parsers[0], parsers[i], "parse_chunk_size");
  }
}

void fuzz_trailers(const std::vector<Parser> &parsers, const char *buf, size_t len, size_t max_bytes) {
  size_t consumed0 = 1, consumed = 1;
  const axle_parse_result_t r0 = parsers[0].vt->parse_trailers(parsers[0].ctx, buf, len, max_bytes, &consumed0);
  if (r0 == AXLE_PARSE_COMPLETE && (consumed0 < 2 || consumed0 > len || consumed0 > max_bytes))
    broken(parsers[0], "trailer consumed out of range");
  for (size_t i = 1; i < parsers.size(); ++i) {
    const axle_parse_result_t r = parsers[i].vt->parse_trailers(parsers[i].ctx, buf, len, max_bytes, &consumed);
    if (r != r0 || consumed != consumed0) mismatch(parsers[0], parsers[i], "parse_trailers");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const ParserSet set;
  const std::vector<Parser> &parsers = set.parsers();
  if (size == 0) return 0;
  axle_parse_limits_t limits{sizeof limits, 8192, 2048, 64};
  uint32_t capacity = kCapacity;
  size_t skip = 1;
  if (data[0] & 0x80) {
    if (size < 5) return 0;
    limits.max_head_bytes = 1 + data[1] * 8u;
    limits.max_target_bytes = data[2];
    limits.max_headers = data[3] & 63u;
    capacity = data[4] & 63u;
    skip = 5;
  }
  // The payload ends where libFuzzer's allocation ends, so ASan sees any over-read.
  const char *buf = reinterpret_cast<const char *>(data + skip);
  const size_t len = size - skip;
  fuzz_request(parsers, buf, len, limits, capacity);
  fuzz_chunk_size(parsers, buf, len);
  fuzz_trailers(parsers, buf, len, limits.max_head_bytes);
  return 0;
}
