// Runs the shared vector table (vectors.cpp) against every parser module.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <axle/parser.h>
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "test_host.h"
#include "vectors.h"

namespace {

using axle::test::ChunkSizeVector;
using axle::test::RequestVector;
using axle::test::TrailerVector;

struct ParserUnderTest {
  const char *module;  // axle-parser-<module>.so
  const char *isa;     // value for the module's "isa" key; nullptr: no config
};

// Every parser module, and every forced level of parser-simd: adding one is one line.
constexpr ParserUnderTest kParsers[] = {
    {"scalar", nullptr},
    {"simd", "auto"},
    {"simd", "avx2"},
    {"simd", "sse42"},
    {"simd", "scalar"},
};

std::string describe(const ParserUnderTest &p) {
  return std::string("parser-") + p.module + (p.isa ? std::string(" isa=") + p.isa : std::string());
}

std::string escape(const std::string &s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7F && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  return out.size() > 200 ? out.substr(0, 200) + "..." : out;
}

// A created instance of one parser, or the reason it cannot run on this CPU.
class OpenParser {
 public:
  explicit OpenParser(const ParserUnderTest &p) : module_(axle::test::module_path("parser", p.module)) {
    if (p.isa) cfg_.strings["isa"] = p.isa;
    const axle_module_descriptor_t &d = module_.desc();
    REQUIRE(d.kind == AXLE_KIND_PARSER);
    axle_error_t err;
    const axle_status_t st = d.create(axle::test::host_api(), &cfg_, &instance_, &err);
    if (st == AXLE_ERR_UNSUPPORTED) {
      skipped_ = err.message;
      return;
    }
    REQUIRE_MESSAGE(st == AXLE_OK, err.message);
    if (d.thread_init) REQUIRE_MESSAGE(d.thread_init(instance_, &worker_, &ctx_, &err) == AXLE_OK, err.message);
  }
  ~OpenParser() {
    if (!instance_) return;
    if (module_.desc().thread_fini) module_.desc().thread_fini(instance_, ctx_);
    module_.desc().destroy(instance_);
  }
  OpenParser(const OpenParser &) = delete;
  OpenParser &operator=(const OpenParser &) = delete;

  bool available() const { return skipped_.empty(); }
  const std::string &skipped_reason() const { return skipped_; }
  const axle_parser_vtable_t &vt() const { return module_.vtable<axle_parser_vtable_t>(); }
  void *ctx() const { return ctx_; }

 private:
  axle::test::LoadedModule module_;
  axle_config_t cfg_;
  axle_worker_t worker_;
  void *instance_ = nullptr;
  void *ctx_ = nullptr;
  std::string skipped_;
};

// Calls fn(parser) for each parser module that can run here.
template <class Fn>
void for_each_parser(Fn &&fn) {
  for (const ParserUnderTest &p : kParsers) {
    OpenParser parser(p);
    if (!parser.available()) {
      MESSAGE(describe(p) << " skipped: " << parser.skipped_reason());
      continue;
    }
    const std::string name = describe(p);  // INFO keeps a reference, not a copy
    INFO(name);
    fn(parser);
  }
}

// The input in a heap block of exactly its size, so a read past the end is
// caught by ASan or valgrind instead of hitting the std::string's NUL.
std::unique_ptr<char[]> exact_copy(const std::string &s, size_t len) {
  auto buf = std::make_unique<char[]>(len ? len : 1);
  std::memcpy(buf.get(), s.data(), len);
  return buf;
}

std::string str(axle_str_t s) { return s.len ? std::string(s.ptr, s.len) : std::string(); }

bool inside(axle_str_t s, const char *buf, size_t len) { return s.ptr >= buf && s.ptr + s.len <= buf + len; }

void check_request(const OpenParser &parser, const RequestVector &v, size_t len, axle_parse_result_t expected) {
  auto buf = exact_copy(v.input, len);
  std::vector<axle_header_t> headers(v.limits.header_capacity);
  axle_request_head_t head{};
  head.struct_size = sizeof head;
  head.headers = headers.data();
  head.header_capacity = v.limits.header_capacity;
  const axle_parse_limits_t limits{sizeof limits, v.limits.max_head_bytes, v.limits.max_target_bytes,
                                   v.limits.max_headers};
  size_t consumed = 12345;
  const axle_parse_result_t r = parser.vt().parse_request(parser.ctx(), buf.get(), len, &limits, &head, &consumed);
  const std::string shown = escape(v.input.substr(0, len));
  INFO("input: " << shown);
  REQUIRE(r == expected);
  if (r == AXLE_PARSE_ERROR) {
    CHECK(head.error_status == v.error_status);
    CHECK(head.error_reason != nullptr);
    CHECK(consumed == 0);
    return;
  }
  if (r == AXLE_PARSE_INCOMPLETE) {
    CHECK(consumed == 0);
    return;
  }
  CHECK(consumed == v.consumed);
  CHECK(str(head.method) == v.method);
  CHECK(str(head.target) == v.target);
  CHECK(str(head.path) == v.path);
  CHECK(str(head.query) == v.query);
  CHECK(head.version_major == 1);
  CHECK(head.version_minor == v.version_minor);
  CHECK(head.error_status == 0);
  for (axle_str_t s : {head.method, head.target, head.path, head.query}) CHECK(inside(s, buf.get(), len));
  REQUIRE(head.header_count == v.headers.size());
  for (size_t i = 0; i < v.headers.size(); ++i) {
    INFO("header " << i);
    CHECK(str(headers[i].name) == v.headers[i].name);
    CHECK(str(headers[i].value) == v.headers[i].value);
    CHECK(inside(headers[i].name, buf.get(), len));
    CHECK(inside(headers[i].value, buf.get(), len));
  }
}

}  // namespace

TEST_CASE("parser.vectors: every request vector") {
  for_each_parser([](const OpenParser &parser) {
    for (const RequestVector &v : axle::test::request_vectors()) {
      INFO("vector: " << v.name);
      check_request(parser, v, v.input.size(), v.result);
    }
  });
}

TEST_CASE("parser.vectors: every strict prefix of a valid head is INCOMPLETE") {
  for_each_parser([](const OpenParser &parser) {
    for (const RequestVector &v : axle::test::request_vectors()) {
      if (v.result != AXLE_PARSE_COMPLETE) continue;
      INFO("vector: " << v.name);
      for (size_t len = 0; len < v.consumed; ++len) check_request(parser, v, len, AXLE_PARSE_INCOMPLETE);
    }
  });
}

TEST_CASE("parser.vectors: bytes after a complete head change nothing") {
  for_each_parser([](const OpenParser &parser) {
    for (RequestVector v : axle::test::request_vectors()) {
      if (v.result != AXLE_PARSE_COMPLETE) continue;
      INFO("vector: " << v.name);
      v.input += "\x01\n junk \r";
      check_request(parser, v, v.input.size(), AXLE_PARSE_COMPLETE);
    }
  });
}

TEST_CASE("parser.vectors: chunk-size lines") {
  for_each_parser([](const OpenParser &parser) {
    for (const ChunkSizeVector &v : axle::test::chunk_size_vectors()) {
      const std::string shown = escape(v.name);
      INFO("vector: " << shown);
      const size_t whole = v.input.size();
      const size_t last_prefix = v.result == AXLE_PARSE_COMPLETE ? v.consumed : 0;
      for (size_t len = 0; len <= whole; ++len) {
        if (len != whole && len >= last_prefix) continue;
        auto buf = exact_copy(v.input, len);
        uint64_t size = 77;
        size_t consumed = 77;
        const axle_parse_result_t r = parser.vt().parse_chunk_size(parser.ctx(), buf.get(), len, &size, &consumed);
        INFO("length " << len);
        if (len < whole) {
          CHECK(r == AXLE_PARSE_INCOMPLETE);
          continue;
        }
        REQUIRE(r == v.result);
        CHECK(consumed == (r == AXLE_PARSE_COMPLETE ? v.consumed : 0));
        CHECK(size == (r == AXLE_PARSE_COMPLETE ? v.chunk_size : 0));
      }
    }
  });
}

TEST_CASE("parser.vectors: trailer sections") {
  for_each_parser([](const OpenParser &parser) {
    for (const TrailerVector &v : axle::test::trailer_vectors()) {
      INFO("vector: " << v.name);
      const size_t whole = v.input.size();
      const size_t last_prefix = v.result == AXLE_PARSE_COMPLETE ? v.consumed : 0;
      for (size_t len = 0; len <= whole; ++len) {
        if (len != whole && len >= last_prefix) continue;
        auto buf = exact_copy(v.input, len);
        size_t consumed = 77;
        const axle_parse_result_t r = parser.vt().parse_trailers(parser.ctx(), buf.get(), len, v.max_bytes, &consumed);
        INFO("length " << len);
        if (len < whole) {
          CHECK(r == AXLE_PARSE_INCOMPLETE);
          continue;
        }
        REQUIRE(r == v.result);
        CHECK(consumed == (r == AXLE_PARSE_COMPLETE ? v.consumed : 0));
      }
    }
  });
}
