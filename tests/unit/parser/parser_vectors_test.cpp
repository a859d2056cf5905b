// Runs the shared vector table (vectors.cpp) against every parser module.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <axle/parser.h>
#include <doctest/doctest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "parsers_under_test.h"
#include "vectors.h"

namespace {

using axle::test::ChunkSizeVector;
using axle::test::escape;
using axle::test::for_each_parser;
using axle::test::OpenParser;
using axle::test::RequestVector;
using axle::test::TrailerVector;

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
