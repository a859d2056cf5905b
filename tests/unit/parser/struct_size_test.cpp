// Forward compatibility of every parser module's caller structs (ABI.md,
// "struct_size first"): a head and limits of exactly the 1.0 size, or larger
// than the module's own sizeof (a newer host), are accepted; a parser never
// writes past the caller's struct_size nor into fields it does not know; a
// struct short of the 1.0 fields is refused without a write past its size.
#include <axle/parser.h>
#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "parsers_under_test.h"

namespace {

using axle::test::for_each_parser;
using axle::test::OpenParser;

// Ends of the last 1.0 field: what a 1.0 host sets struct_size to.
constexpr size_t kHead_1_0 = offsetof(axle_request_head_t, error_reason) + sizeof(const char *);
constexpr size_t kLimits_1_0 = offsetof(axle_parse_limits_t, max_headers) + sizeof(uint32_t);
// Bytes a newer host might have appended after this header's fields.
constexpr size_t kNewerTail = 64;
constexpr unsigned char kCanary = 0xA5;

const std::string kRequest = "GET /a/b?x=1 HTTP/1.1\r\nHost: example\r\nX-One: 1\r\n\r\n";

// A caller struct of `declared` bytes inside a canary-filled block that is
// kNewerTail bytes longer than both it and this build's sizeof, so every
// write past `declared` shows.
template <class T>
struct CallerStruct {
  explicit CallerStruct(size_t declared) : bytes(std::max(declared, sizeof(T)) + kNewerTail, kCanary) {
    const uint32_t size = static_cast<uint32_t>(declared);
    std::memcpy(bytes.data(), &size, sizeof size);
  }
  T *get() { return reinterpret_cast<T *>(bytes.data()); }
  // Remembers the bytes as the caller left them before the call.
  void mark() { before = bytes; }
  // The first byte at or past `from` that the call changed, or npos.
  size_t first_change_from(size_t from) const {
    for (size_t i = from; i < bytes.size(); ++i)
      if (bytes[i] != before[i]) return i;
    return std::string::npos;
  }
  std::vector<unsigned char> bytes;  // operator new: aligned for any fundamental type
  std::vector<unsigned char> before;
};

// Sets the caller-owned 1.0 input fields of a head without touching the rest.
void set_head_inputs(axle_request_head_t *head, axle_header_t *headers, uint32_t capacity) {
  std::memcpy(reinterpret_cast<char *>(head) + offsetof(axle_request_head_t, headers), &headers, sizeof headers);
  std::memcpy(reinterpret_cast<char *>(head) + offsetof(axle_request_head_t, header_capacity), &capacity,
              sizeof capacity);
}

void set_limits(axle_parse_limits_t *limits) {
  const uint32_t values[3] = {8192, 4096, 32};
  std::memcpy(reinterpret_cast<char *>(limits) + offsetof(axle_parse_limits_t, max_head_bytes), values,
              sizeof values);
}

std::string str(axle_str_t s) { return s.len ? std::string(s.ptr, s.len) : std::string(); }

// Parses kRequest with a head of head_size and limits of limits_size bytes.
axle_parse_result_t parse_with(const OpenParser &parser, CallerStruct<axle_request_head_t> &head,
                               CallerStruct<axle_parse_limits_t> &limits, std::vector<axle_header_t> &headers,
                               size_t *consumed) {
  set_head_inputs(head.get(), headers.data(), static_cast<uint32_t>(headers.size()));
  set_limits(limits.get());
  head.mark();
  limits.mark();
  return parser.vt().parse_request(parser.ctx(), kRequest.data(), kRequest.size(), limits.get(), head.get(),
                                   consumed);
}

}  // namespace

TEST_CASE("parser.struct_size: a 1.0-sized head and limits parse, and nothing past struct_size is written") {
  static_assert(kHead_1_0 <= sizeof(axle_request_head_t) && kLimits_1_0 <= sizeof(axle_parse_limits_t));
  for_each_parser([](const OpenParser &parser) {
    CallerStruct<axle_request_head_t> head(kHead_1_0);
    CallerStruct<axle_parse_limits_t> limits(kLimits_1_0);
    std::vector<axle_header_t> headers(8);
    size_t consumed = 0;
    REQUIRE(parse_with(parser, head, limits, headers, &consumed) == AXLE_PARSE_COMPLETE);
    CHECK(consumed == kRequest.size());
    CHECK(str(head.get()->method) == "GET");
    CHECK(str(head.get()->path) == "/a/b");
    CHECK(str(head.get()->query) == "x=1");
    CHECK(head.get()->header_count == 2);
    CHECK(head.get()->struct_size == kHead_1_0);  // the caller's, left as set
    CHECK(head.first_change_from(kHead_1_0) == std::string::npos);
    CHECK(limits.first_change_from(0) == std::string::npos);  // input only: never written
  });
}

TEST_CASE("parser.struct_size: a head larger than the module's (a newer host) parses, its newer fields untouched") {
  for_each_parser([](const OpenParser &parser) {
    const size_t newer = sizeof(axle_request_head_t) + kNewerTail / 2;
    CallerStruct<axle_request_head_t> head(newer);
    CallerStruct<axle_parse_limits_t> limits(sizeof(axle_parse_limits_t) + kNewerTail / 2);
    std::vector<axle_header_t> headers(8);
    size_t consumed = 0;
    REQUIRE(parse_with(parser, head, limits, headers, &consumed) == AXLE_PARSE_COMPLETE);
    CHECK(str(head.get()->target) == "/a/b?x=1");
    CHECK(head.get()->header_count == 2);
    CHECK(head.get()->struct_size == newer);
    // The fields this module does not know belong to the caller: left alone.
    CHECK(head.first_change_from(sizeof(axle_request_head_t)) == std::string::npos);

    // The error path writes error_status/error_reason, still inside the 1.0 fields.
    const std::string bad = "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n";
    CallerStruct<axle_request_head_t> head_err(kHead_1_0);
    set_head_inputs(head_err.get(), headers.data(), 8);
    head_err.mark();
    REQUIRE(parser.vt().parse_request(parser.ctx(), bad.data(), bad.size(), limits.get(), head_err.get(),
                                      &consumed) == AXLE_PARSE_ERROR);
    CHECK(head_err.get()->error_status == 400);
    CHECK(head_err.first_change_from(kHead_1_0) == std::string::npos);
  });
}

TEST_CASE("parser.struct_size: a head or limits short of the 1.0 fields is refused, with no write past its size") {
  for_each_parser([](const OpenParser &parser) {
    std::vector<axle_header_t> headers(8);
    size_t consumed = 7;
    {
      CallerStruct<axle_request_head_t> head(kHead_1_0 - 1);
      CallerStruct<axle_parse_limits_t> limits(kLimits_1_0);
      CHECK(parse_with(parser, head, limits, headers, &consumed) == AXLE_PARSE_ERROR);
      // Too short to hold error_status: the parser may not write anything.
      CHECK(head.first_change_from(0) == std::string::npos);
    }
    {
      CallerStruct<axle_request_head_t> head(kHead_1_0);
      CallerStruct<axle_parse_limits_t> limits(kLimits_1_0 - 1);
      CHECK(parse_with(parser, head, limits, headers, &consumed) == AXLE_PARSE_ERROR);
      CHECK(head.get()->error_status == 500);  // a caller bug, never blamed on the client
      CHECK(head.first_change_from(kHead_1_0) == std::string::npos);
    }
  });
}
