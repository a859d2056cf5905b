// Every parser must answer exactly like parser-scalar (the reference) on
// inputs mutated from the shared vectors with a fixed-seed generator: the
// same check the libFuzzer target makes (tests/fuzz), cheap enough for every
// ctest run and needing no clang.
#include <axle/parser.h>
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "parsers_under_test.h"
#include "vectors.h"

namespace {

using axle::test::OpenParser;

constexpr uint32_t kCapacity = 32;

struct HeadOutcome {
  axle_parse_result_t result;
  size_t consumed;
  axle_request_head_t head;
  axle_header_t headers[kCapacity];
};

void parse_head(const OpenParser &parser, const char *buf, size_t len, const axle_parse_limits_t &limits,
                uint32_t capacity, HeadOutcome *o) {
  std::memset(o, 0xA5, sizeof *o);
  o->head.struct_size = sizeof o->head;
  o->head.headers = o->headers;
  o->head.header_capacity = capacity;
  o->result = parser.vt().parse_request(parser.ctx(), buf, len, &limits, &o->head, &o->consumed);
}

bool same(axle_str_t a, axle_str_t b) { return a.ptr == b.ptr && a.len == b.len; }

// Empty when equal, else the first field that differs.
std::string difference(const HeadOutcome &a, const HeadOutcome &b) {
  if (a.result != b.result) return "result";
  if (a.consumed != b.consumed) return "consumed";
  if (!same(a.head.method, b.head.method)) return "method";
  if (!same(a.head.target, b.head.target)) return "target";
  if (!same(a.head.path, b.head.path)) return "path";
  if (!same(a.head.query, b.head.query)) return "query";
  if (a.head.version_major != b.head.version_major || a.head.version_minor != b.head.version_minor) return "version";
  if (a.head.error_status != b.head.error_status) return "error_status";
  const bool reasons_equal = a.head.error_reason == b.head.error_reason ||
                             (a.head.error_reason && b.head.error_reason &&
                              std::strcmp(a.head.error_reason, b.head.error_reason) == 0);
  if (!reasons_equal) return "error_reason";
  if (a.head.header_count != b.head.header_count) return "header_count";
  for (uint32_t i = 0; i < a.head.header_count && i < kCapacity; ++i)
    if (!same(a.headers[i].name, b.headers[i].name) || !same(a.headers[i].value, b.headers[i].value))
      return "header " + std::to_string(i);
  return "";
}

// Bytes that sit on the parser's decision points.
constexpr char kInteresting[] = {'\r', '\n', ' ', '\t', ':', '?', '/', '\0', '\x7f', '\x80', '\xff', '"',
                                 '\\', ';', '=', '0', 'f', 'H', '\x01', '\x0b', '*'};

std::string mutate(std::string s, std::mt19937 &rng) {
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int e = 0; e < edits; ++e) {
    const size_t pos = s.empty() ? 0 : rng() % (s.size() + 1);
    const char byte = rng() % 2 ? kInteresting[rng() % sizeof kInteresting] : static_cast<char>(rng() & 0xFF);
    switch (rng() % 5) {
      case 0:
        if (pos < s.size()) s[pos] = byte;
        break;
      case 1:
        s.insert(pos, 1, byte);
        break;
      case 2:
        if (pos < s.size()) s.erase(pos, 1 + rng() % 3);
        break;
      case 3:
        s.resize(pos);
        break;
      default:  // repeat a slice, to grow lines across SIMD block boundaries
        if (pos < s.size()) s.insert(pos, s.substr(pos, 1 + rng() % 40));
        break;
    }
  }
  return s;
}

std::vector<std::string> corpus() {
  std::vector<std::string> inputs;
  for (const auto &v : axle::test::request_vectors()) inputs.push_back(v.input);
  for (const auto &v : axle::test::chunk_size_vectors()) inputs.push_back(v.input);
  for (const auto &v : axle::test::trailer_vectors()) inputs.push_back(v.input);
  return inputs;
}

}  // namespace

TEST_CASE("parser.differential: every parser answers like parser-scalar on mutated vectors") {
  const OpenParser reference(axle::test::kReferenceParser);
  REQUIRE(reference.available());
  const std::vector<std::string> seeds = corpus();
  axle::test::for_each_parser([&](const OpenParser &parser) {
    std::mt19937 rng(20261126);  // fixed: a failure reproduces
    HeadOutcome expected, got;
    for (int round = 0; round < 40000; ++round) {
      const std::string input = mutate(seeds[rng() % seeds.size()], rng);
      auto buf = std::make_unique<char[]>(input.empty() ? 1 : input.size());  // exact: over-reads show in valgrind
      std::memcpy(buf.get(), input.data(), input.size());
      const bool small_limits = rng() % 4 == 0;
      const axle_parse_limits_t limits{sizeof limits, small_limits ? 1 + static_cast<uint32_t>(rng() % 400) : 8192,
                                       small_limits ? static_cast<uint32_t>(rng() % 80) : 2048,
                                       small_limits ? static_cast<uint32_t>(rng() % 8) : 64};
      const uint32_t capacity = small_limits ? static_cast<uint32_t>(rng() % 8) : kCapacity;

      parse_head(reference, buf.get(), input.size(), limits, capacity, &expected);
      parse_head(parser, buf.get(), input.size(), limits, capacity, &got);
      const std::string head_diff = difference(expected, got);
      uint64_t size_a = 1, size_b = 2;
      size_t used_a = 1, used_b = 2;
      const auto chunk_a = reference.vt().parse_chunk_size(reference.ctx(), buf.get(), input.size(), &size_a, &used_a);
      const auto chunk_b = parser.vt().parse_chunk_size(parser.ctx(), buf.get(), input.size(), &size_b, &used_b);
      const bool chunk_same = chunk_a == chunk_b && size_a == size_b && used_a == used_b;
      size_t trailer_a = 1, trailer_b = 2;
      const auto tr_a = reference.vt().parse_trailers(reference.ctx(), buf.get(), input.size(), limits.max_head_bytes,
                                                      &trailer_a);
      const auto tr_b = parser.vt().parse_trailers(parser.ctx(), buf.get(), input.size(), limits.max_head_bytes,
                                                   &trailer_b);
      const bool trailers_same = tr_a == tr_b && trailer_a == trailer_b;
      if (!head_diff.empty() || !chunk_same || !trailers_same) {
        const std::string shown = axle::test::escape(input);
        INFO("round " << round << " input: " << shown);
        CHECK(head_diff == "");
        CHECK(chunk_same);
        CHECK(trailers_same);
        return;  // one reproducer is enough
      }
    }
  });
}
