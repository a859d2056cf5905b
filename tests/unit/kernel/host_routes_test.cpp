// Host scoping: the request host as routing sees it, exact names before the
// longest wildcard, the table each scope gets and its 404/405 fallbacks. A
// fake router (exact patterns only) records the tables it is asked to build.
#include "host_api.h"
#include "host_routes.h"

#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

namespace {

using axle::HostRoutes;
using axle::RouteFallback;

struct FakeTable {
  std::vector<std::pair<std::string, uint32_t>> routes;  // pattern, route id
};

struct FakeRouter {
  int built = 0, destroyed = 0;
  std::string refuse;  // build fails when a table holds this pattern
};

axle_status_t fake_build(void *instance, const axle_route_spec_t *routes, size_t count, void **out, axle_error_t *err) {
  auto *router = static_cast<FakeRouter *>(instance);
  auto *table = new FakeTable;
  for (size_t i = 0; i < count; ++i) {
    std::string pattern(routes[i].pattern.ptr, routes[i].pattern.len);
    if (pattern == router->refuse) {
      delete table;
      err->message = "refused " + pattern;
      return AXLE_ERR_INVALID;
    }
    table->routes.emplace_back(pattern, routes[i].route_id);
  }
  ++router->built;
  *out = table;
  return AXLE_OK;
}

void fake_destroy(void *instance, void *table) {
  ++static_cast<FakeRouter *>(instance)->destroyed;
  delete static_cast<FakeTable *>(table);
}

axle_route_result_t fake_match(const void *, uint32_t, axle_str_t, axle_route_match_t *) { return AXLE_ROUTE_NOT_FOUND; }

const axle_router_vtable_t kFakeVtable = {sizeof(axle_router_vtable_t), fake_build, fake_destroy, fake_match};

const FakeTable &table_of(const HostRoutes::Scope *scope) {
  REQUIRE(scope);
  REQUIRE(scope->table);
  return *static_cast<const FakeTable *>(scope->table);
}

std::string norm(std::string_view raw) {
  char buf[axle::kMaxRoutingHostBytes];
  return std::string(axle::normalize_host(raw, buf));
}

std::string host_of(const char *target, std::vector<axle_header_t> headers) {
  axle_request_head_t head{};
  head.struct_size = sizeof head;
  head.target = {target, std::strlen(target)};
  head.headers = headers.data();
  head.header_count = static_cast<uint32_t>(headers.size());
  char buf[axle::kMaxRoutingHostBytes];
  return std::string(axle::request_host(head, buf));
}

axle_header_t header(const char *name, const char *value) {
  return {{name, std::strlen(name)}, {value, std::strlen(value)}};
}

}  // namespace

TEST_SUITE("host_routes") {

TEST_CASE("the request host is lowercased, without port, trailing dot or userinfo") {
  CHECK(norm("Example.COM") == "example.com");
  CHECK(norm("example.com:8080") == "example.com");
  CHECK(norm("example.com.") == "example.com");
  CHECK(norm("example.com.:80") == "example.com");
  CHECK(norm("user:pw@Example.com:1") == "example.com");
  CHECK(norm("[::1]:8080") == "[::1]");
  CHECK(norm("127.0.0.1:80") == "127.0.0.1");
  CHECK(norm("") == "");
  CHECK(norm(std::string(255, 'a')) == std::string(255, 'a'));
  CHECK(norm(std::string(256, 'a')) == "");  // too long for any scope: unscoped
}

TEST_CASE("an absolute-form target's authority wins over Host") {
  CHECK(host_of("/x", {header("Accept", "*/*"), header("HOST", "A.example:81")}) == "a.example");
  CHECK(host_of("http://B.example:8080/x?q", {header("Host", "a.example")}) == "b.example");
  CHECK(host_of("http://b.example?q", {}) == "b.example");
  CHECK(host_of("http://b.example", {}) == "b.example");
  CHECK(host_of("*", {header("Host", "a.example")}) == "a.example");
  CHECK(host_of("/x", {}) == "");
}

TEST_CASE("scopes: exact names first, then the longest wildcard, one table each") {
  FakeRouter router;
  const std::vector<std::string> any, a{"a.example.com"}, wild{"*.example.com"}, deep{"*.b.example.com"},
      both{"c.test", "*.example.com"};
  std::vector<HostRoutes::Input> in = {
      {"/one", AXLE_METHOD_ANY, &any, RouteFallback::None},                  // 0
      {"/two", AXLE_METHOD_ANY, &a, RouteFallback::None},                    // 1
      {"/three", AXLE_METHOD_ANY, &wild, RouteFallback::None},               // 2
      {"/four", AXLE_METHOD_ANY, &deep, RouteFallback::None},                // 3
      {"/five", AXLE_METHOD_ANY, &both, RouteFallback::None},                // 4
      {"", AXLE_METHOD_ANY, &any, RouteFallback::NotFound},                  // 5
      {"", AXLE_METHOD_ANY, &wild, RouteFallback::MethodNotAllowed},         // 6
      {"", AXLE_METHOD_ANY, &a, RouteFallback::NotFound},                    // 7
  };
  {
    HostRoutes routes;
    std::string error;
    REQUIRE(routes.build(&kFakeVtable, &router, in, error));
    CHECK(router.built == 5);  // unscoped, a., *.example.com, *.b.example.com, c.test
    CHECK(routes.scoped());

    CHECK(table_of(&routes.unscoped()).routes == std::vector<std::pair<std::string, uint32_t>>{{"/one", 0}});
    CHECK(table_of(routes.find("a.example.com")).routes == std::vector<std::pair<std::string, uint32_t>>{{"/two", 1}});
    auto wild_table = std::vector<std::pair<std::string, uint32_t>>{{"/three", 2}, {"/five", 4}};
    CHECK(table_of(routes.find("x.example.com")).routes == wild_table);
    CHECK(table_of(routes.find("x.y.example.com")).routes == wild_table);
    CHECK(table_of(routes.find("b.example.com")).routes == wild_table);  // *.b.example.com is below it
    CHECK(table_of(routes.find("x.b.example.com")).routes == std::vector<std::pair<std::string, uint32_t>>{{"/four", 3}});
    CHECK(table_of(routes.find("z.x.b.example.com")).routes == std::vector<std::pair<std::string, uint32_t>>{{"/four", 3}});
    CHECK(table_of(routes.find("c.test")).routes == std::vector<std::pair<std::string, uint32_t>>{{"/five", 4}});

    CHECK(routes.find("example.com") == nullptr);  // a wildcard needs a label before it
    CHECK(routes.find(".example.com") == nullptr);
    CHECK(routes.find("c.test.other") == nullptr);
    CHECK(routes.find("d.test") == nullptr);
    CHECK(routes.find("") == nullptr);

    // Fallbacks: the scope's own, else the unscoped one.
    CHECK(routes.fallback(nullptr, 404) == 5);
    CHECK(routes.fallback(nullptr, 405) == AXLE_ROUTE_NONE);
    CHECK(routes.fallback(routes.find("a.example.com"), 404) == 7);
    CHECK(routes.fallback(routes.find("a.example.com"), 405) == AXLE_ROUTE_NONE);
    CHECK(routes.fallback(routes.find("x.example.com"), 404) == 5);
    CHECK(routes.fallback(routes.find("x.example.com"), 405) == 6);
  }
  CHECK(router.destroyed == 5);
}

TEST_CASE("a scope with only a fallback has no table; no host scopes means no lookup") {
  FakeRouter router;
  const std::vector<std::string> any, a{"a.test"};
  std::vector<HostRoutes::Input> in = {
      {"/one", AXLE_METHOD_ANY, &any, RouteFallback::None},
      {"", AXLE_METHOD_ANY, &a, RouteFallback::NotFound},
  };
  HostRoutes routes;
  std::string error;
  REQUIRE(routes.build(&kFakeVtable, &router, in, error));
  REQUIRE(routes.find("a.test"));
  CHECK(routes.find("a.test")->table == nullptr);
  CHECK(routes.fallback(routes.find("a.test"), 404) == 1);

  HostRoutes plain;
  std::vector<HostRoutes::Input> only = {{"/one", AXLE_METHOD_ANY, &any, RouteFallback::None}};
  REQUIRE(plain.build(&kFakeVtable, &router, only, error));
  CHECK_FALSE(plain.scoped());
  CHECK(plain.fallback(nullptr, 404) == AXLE_ROUTE_NONE);
}

TEST_CASE("implemented methods: every path route's in every scope, HEAD with GET, OPTIONS always") {
  FakeRouter router;
  const std::vector<std::string> any, a{"a.test"};
  std::string error;
  {
    // Fallbacks answer every method but implement none: only path routes count.
    std::vector<HostRoutes::Input> in = {
        {"/one", AXLE_METHOD_GET, &any, RouteFallback::None},
        {"/two", AXLE_METHOD_DELETE, &a, RouteFallback::None},
        {"", AXLE_METHOD_ANY, &any, RouteFallback::NotFound},
        {"", AXLE_METHOD_ANY, &a, RouteFallback::MethodNotAllowed},
    };
    HostRoutes routes;
    REQUIRE(routes.build(&kFakeVtable, &router, in, error));
    CHECK(routes.implemented() ==
          (AXLE_METHOD_GET | AXLE_METHOD_HEAD | AXLE_METHOD_DELETE | AXLE_METHOD_OPTIONS));
  }
  {
    std::vector<HostRoutes::Input> in = {{"/p", AXLE_METHOD_POST, &any, RouteFallback::None}};
    HostRoutes routes;
    REQUIRE(routes.build(&kFakeVtable, &router, in, error));
    CHECK(routes.implemented() == (AXLE_METHOD_POST | AXLE_METHOD_OPTIONS));  // no GET: no HEAD
  }
  {
    // A route without `methods` takes every method, extension ones too.
    std::vector<HostRoutes::Input> in = {{"/p", AXLE_METHOD_ANY, &any, RouteFallback::None}};
    HostRoutes routes;
    REQUIRE(routes.build(&kFakeVtable, &router, in, error));
    CHECK(routes.implemented() == AXLE_METHOD_ANY);
  }
  {
    HostRoutes routes;
    REQUIRE(routes.build(&kFakeVtable, &router, {}, error));
    CHECK(routes.implemented() == AXLE_METHOD_OPTIONS);
  }
}

TEST_CASE("a table the router refuses names its scope, and what was built is destroyed") {
  FakeRouter router;
  router.refuse = "/bad";
  const std::vector<std::string> any, a{"a.test"};
  std::vector<HostRoutes::Input> in = {
      {"/one", AXLE_METHOD_ANY, &any, RouteFallback::None},
      {"/bad", AXLE_METHOD_ANY, &a, RouteFallback::None},
  };
  {
    HostRoutes routes;
    std::string error;
    CHECK_FALSE(routes.build(&kFakeVtable, &router, in, error));
    CHECK(error == "the routes for host \"a.test\": refused /bad");
  }
  CHECK(router.built == 1);
  CHECK(router.destroyed == 1);
}

}  // TEST_SUITE
