// Forward compatibility of every router's caller structs (ABI.md, "struct_size
// first"): route entries and a match struct of exactly the 1.0 size, or larger
// than the module's own sizeof (a newer host), work; match never writes past
// the caller's struct_size nor into fields it does not know; a match struct
// short of the 1.0 fields is NOT_FOUND with nothing written.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "router_harness.h"

namespace {

using namespace axle::test::router;

// Ends of the last 1.0 field: what a 1.0 host sets struct_size to.
constexpr size_t kSpec_1_0 = offsetof(axle_route_spec_t, route_id) + sizeof(uint32_t);
constexpr size_t kMatch_1_0 = offsetof(axle_route_match_t, param_count) + sizeof(uint32_t);
// Bytes a newer host might have appended after this header's fields.
constexpr size_t kNewerTail = 24;
constexpr unsigned char kCanary = 0x5A;

const std::vector<std::string> kPatterns = {"/users/{id}", "/files/*", "/ping"};
const uint32_t kMethods[] = {AXLE_METHOD_GET, AXLE_METHOD_GET, AXLE_METHOD_GET | AXLE_METHOD_HEAD};

// A table built from entries `stride` bytes apart (the host's struct_size).
struct StridedTable {
  StridedTable(const RouterModule &router, size_t stride) : router(router), bytes(stride * kPatterns.size(), kCanary) {
    for (size_t i = 0; i < kPatterns.size(); ++i) {
      axle_route_spec_t spec{static_cast<uint32_t>(stride), {kPatterns[i].data(), kPatterns[i].size()}, kMethods[i],
                             static_cast<uint32_t>(100 + i)};
      std::memcpy(bytes.data() + i * stride, &spec, std::min(stride, sizeof spec));
    }
    axle_error_t err;
    status = router.vtable().build(router.instance(), reinterpret_cast<const axle_route_spec_t *>(bytes.data()),
                                   kPatterns.size(), &table, &err);
    error = err.message;
  }
  ~StridedTable() {
    if (status == AXLE_OK) router.vtable().table_destroy(router.instance(), table);
  }
  const RouterModule &router;
  std::vector<unsigned char> bytes;
  void *table = nullptr;
  axle_status_t status;
  std::string error;
};

// A match struct of `declared` bytes in a canary-filled block longer than
// both it and this build's sizeof; changed bytes are found against a copy.
struct CallerMatch {
  CallerMatch(size_t declared, axle_route_param_t *params, uint32_t capacity)
      : bytes(std::max(declared, sizeof(axle_route_match_t)) + kNewerTail, kCanary) {
    const uint32_t size = static_cast<uint32_t>(declared);
    std::memcpy(bytes.data(), &size, sizeof size);
    std::memcpy(bytes.data() + offsetof(axle_route_match_t, params), &params, sizeof params);
    std::memcpy(bytes.data() + offsetof(axle_route_match_t, param_capacity), &capacity, sizeof capacity);
    before = bytes;
  }
  axle_route_match_t *get() { return reinterpret_cast<axle_route_match_t *>(bytes.data()); }
  size_t first_change_from(size_t from) const {
    for (size_t i = from; i < bytes.size(); ++i)
      if (bytes[i] != before[i]) return i;
    return std::string::npos;
  }
  std::vector<unsigned char> bytes;  // operator new: aligned for any fundamental type
  std::vector<unsigned char> before;
};

std::string str(axle_str_t s) { return s.len ? std::string(s.ptr, s.len) : std::string(); }

void check_matches(const StridedTable &t, size_t match_size) {
  const std::string path = "/users/42";
  axle_route_param_t params[4];
  CallerMatch m(match_size, params, 4);
  REQUIRE(t.router.vtable().match(t.table, AXLE_METHOD_GET, {path.data(), path.size()}, m.get()) ==
          AXLE_ROUTE_FOUND);
  CHECK(m.get()->route_id == 100);
  REQUIRE(m.get()->param_count == 1);
  CHECK(str(params[0].name) == "id");
  CHECK(str(params[0].value) == "42");
  CHECK(m.get()->struct_size == match_size);  // the caller's, left as set
  // Nothing past the 1.0 fields: not past a 1.0 caller's size, and not into a newer caller's fields.
  CHECK(m.first_change_from(kMatch_1_0) == std::string::npos);

  const std::string ping = "/ping";
  CallerMatch not_allowed(match_size, params, 4);
  REQUIRE(t.router.vtable().match(t.table, AXLE_METHOD_POST, {ping.data(), ping.size()}, not_allowed.get()) ==
          AXLE_ROUTE_METHOD_NOT_ALLOWED);
  CHECK(not_allowed.get()->allowed_methods == (AXLE_METHOD_GET | AXLE_METHOD_HEAD));
  CHECK(not_allowed.first_change_from(kMatch_1_0) == std::string::npos);
}

}  // namespace

TEST_SUITE("router.struct_size") {
  TEST_CASE("1.0-sized route entries and match struct work, and nothing past struct_size is written") {
    static_assert(kSpec_1_0 <= sizeof(axle_route_spec_t) && kMatch_1_0 <= sizeof(axle_route_match_t));
    for (const auto &router : routers()) {
      INFO(router->name());
      StridedTable t(*router, kSpec_1_0);
      REQUIRE_MESSAGE(t.status == AXLE_OK, t.error);
      check_matches(t, kMatch_1_0);
    }
  }

  TEST_CASE("entries and a match struct larger than the module's (a newer host) work, newer fields untouched") {
    for (const auto &router : routers()) {
      INFO(router->name());
      StridedTable t(*router, sizeof(axle_route_spec_t) + kNewerTail);
      REQUIRE_MESSAGE(t.status == AXLE_OK, t.error);
      check_matches(t, sizeof(axle_route_match_t) + kNewerTail / 2);
    }
  }

  TEST_CASE("entries or a match struct short of the 1.0 fields are refused, nothing written") {
    for (const auto &router : routers()) {
      INFO(router->name());
      StridedTable short_entries(*router, kSpec_1_0 - 4);
      CHECK(short_entries.status == AXLE_ERR_INVALID);
      CHECK(short_entries.error.find("struct_size") != std::string::npos);

      StridedTable t(*router, kSpec_1_0);
      REQUIRE(t.status == AXLE_OK);
      const std::string path = "/users/42";
      axle_route_param_t params[4];
      CallerMatch m(kMatch_1_0 - 1, params, 4);
      CHECK(router->vtable().match(t.table, AXLE_METHOD_GET, {path.data(), path.size()}, m.get()) ==
            AXLE_ROUTE_NOT_FOUND);
      CHECK(m.first_change_from(0) == std::string::npos);
    }
  }
}
