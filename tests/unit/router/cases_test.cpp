// One route table and one list of (method, path) -> expected outcome, run
// against every router module: precedence, backtracking, methods, wildcards,
// trailing slashes and parameter capture.
#include <doctest/doctest.h>

#include <atomic>
#include <cstring>
#include <thread>

#include "router_harness.h"

namespace {

using namespace axle::test::router;

constexpr uint32_t GET = AXLE_METHOD_GET, HEAD = AXLE_METHOD_HEAD, POST = AXLE_METHOD_POST, PUT = AXLE_METHOD_PUT,
                   DELETE = AXLE_METHOD_DELETE, OPTIONS = AXLE_METHOD_OPTIONS, OTHER = AXLE_METHOD_OTHER;

const std::vector<RouteDef> kRoutes = {
    {"/", GET, 1},
    {"/ping", GET, 2},
    {"/static/*", GET | HEAD, 3},
    {"/static/special", GET, 4},
    {"/users/{id}", GET, 5},
    {"/users/{id}", PUT | DELETE, 6},
    {"/users/me", GET, 7},
    {"/users/{id}/posts/{post}", GET, 8},
    {"/users/{id}/posts", POST, 9},
    {"/a/b/c", GET, 10},
    {"/a/{x}/d", GET, 11},
    {"/files/{name}/*", GET, 12},
    {"/docs/", GET, 13},
    {"/api/v1/items", GET, 14},
    {"/api/{version}/items/{item}", GET, 15},
    {"/api/v1/{thing}", GET, 16},
    {"/api/*", POST, 17},
    {"/x/{a}/y/{b}/z", GET, 18},
    {"/x/{c}/y/w", GET, 19},
    {"/shadow/{first}", GET, 20},
    {"/shadow/{second}", GET, 21},  // same shape as 20 for GET: config order, 20 wins
    {"/shadow/{second}", POST, 22},
    {"/assets/*", GET, 24},
    {"/assets", GET, 25},
    {"/caf\xc3\xa9/\xc3\xbc", GET, 26},
    {"/opt", OPTIONS | OTHER, 27},
};

struct Case {
  uint32_t method;
  std::string path;
  MatchResult expected;
};

const std::vector<Case> kCases = {
    // Exact literals, trailing slash, malformed paths.
    {GET, "/", found(1)},
    {GET, "/ping", found(2)},
    {HEAD, "/ping", not_allowed(GET)},
    {GET, "/ping/", not_found()},
    {GET, "/pin", not_found()},
    {GET, "/pingx", not_found()},
    {GET, "//ping", not_found()},
    {GET, "", not_found()},
    {GET, "ping", not_found()},
    {GET, "*", not_found()},
    // "*": matches "/static", "/static/" and anything below, as the param "*".
    {GET, "/static", found(3, {{"*", ""}})},
    {GET, "/static/", found(3, {{"*", ""}})},
    {GET, "/static/a/b", found(3, {{"*", "a/b"}})},
    {GET, "/static//x", found(3, {{"*", "/x"}})},
    {HEAD, "/static/x", found(3, {{"*", "x"}})},
    {POST, "/static/x", not_allowed(GET | HEAD)},
    {GET, "/staticx", not_found()},
    // A literal beats "*"; "*" still takes what the literal does not.
    {GET, "/static/special", found(4)},
    {HEAD, "/static/special", found(3, {{"*", "special"}})},
    {GET, "/static/special/x", found(3, {{"*", "special/x"}})},
    {GET, "/static/specialx", found(3, {{"*", "specialx"}})},
    // Params; the same pattern split by method; literal before param.
    {GET, "/users/42", found(5, {{"id", "42"}})},
    {PUT, "/users/42", found(6, {{"id", "42"}})},
    {POST, "/users/42", not_allowed(GET | PUT | DELETE)},
    {GET, "/users/me", found(7)},
    {DELETE, "/users/me", found(6, {{"id", "me"}})},
    {POST, "/users/me", not_allowed(GET | PUT | DELETE)},
    {GET, "/users/", not_found()},  // a param never matches an empty segment
    {GET, "/users", not_found()},
    {GET, "/users/42/posts/7", found(8, {{"id", "42"}, {"post", "7"}})},
    {POST, "/users/42/posts", found(9, {{"id", "42"}})},
    {GET, "/users/42/posts", not_allowed(POST)},
    {GET, "/users/42/posts/", not_found()},
    {GET, "/users/42/posts/7/8", not_found()},
    // Backtracking: the literal "b" dead-ends, the param route still matches.
    {GET, "/a/b/c", found(10)},
    {GET, "/a/b/d", found(11, {{"x", "b"}})},
    {GET, "/a/z/d", found(11, {{"x", "z"}})},
    {GET, "/a/b/e", not_found()},
    {GET, "/a/b/c/", not_found()},
    // A param followed by "*": the rest may be empty or absent.
    {GET, "/files/report.pdf", found(12, {{"name", "report.pdf"}, {"*", ""}})},
    {GET, "/files/r/x/y", found(12, {{"name", "r"}, {"*", "x/y"}})},
    {GET, "/files/", not_found()},
    {GET, "/files", not_found()},
    // A pattern with a trailing slash is exact too.
    {GET, "/docs/", found(13)},
    {GET, "/docs", not_found()},
    // Precedence at the leftmost differing segment; backtracking across two levels.
    {GET, "/api/v1/items", found(14)},
    {GET, "/api/v2/items/9", found(15, {{"version", "v2"}, {"item", "9"}})},
    {GET, "/api/v1/items/9", found(15, {{"version", "v1"}, {"item", "9"}})},
    {GET, "/api/v1/other", found(16, {{"thing", "other"}})},
    {POST, "/api/v1/items", found(17, {{"*", "v1/items"}})},
    {GET, "/api/v2/other", not_allowed(POST)},
    {DELETE, "/api", not_allowed(POST)},
    {GET, "/x/1/y/2/z", found(18, {{"a", "1"}, {"b", "2"}})},
    {GET, "/x/1/y/w", found(19, {{"c", "1"}})},
    {GET, "/x/1/y/w/z", found(18, {{"a", "1"}, {"b", "w"}})},
    // Same shape, different names: config order per method, names from the winner.
    {GET, "/shadow/v", found(20, {{"first", "v"}})},
    {POST, "/shadow/v", found(22, {{"second", "v"}})},
    {DELETE, "/shadow/v", not_allowed(GET | POST)},
    // An exact pattern beats "*" matching nothing.
    {GET, "/assets", found(25)},
    {GET, "/assets/", found(24, {{"*", ""}})},
    {GET, "/assets/x", found(24, {{"*", "x"}})},
    // Literals are bytes.
    {GET, "/caf\xc3\xa9/\xc3\xbc", found(26)},
    {GET, "/caf\xc3\xa9/u", not_found()},
    {OTHER, "/opt", found(27)},
    {OPTIONS, "/opt", found(27)},
    {GET, "/opt", not_allowed(OPTIONS | OTHER)},
};

TEST_SUITE("router.cases") {
  TEST_CASE("shared table: every router gives the expected outcome") {
    for (const auto &router : routers()) {
      auto table = router->build(kRoutes);
      for (const Case &c : kCases) {
        INFO(router->name(), ": method 0x", std::hex, c.method, std::dec, " path \"", c.path, "\"");
        CHECK(table->match(c.method, c.path) == c.expected);
      }
    }
  }

  TEST_CASE("a catch-all \"/*\" for one method") {
    for (const auto &router : routers()) {
      INFO(router->name());
      auto table = router->build({{"/*", PUT, 1}, {"/ping", GET, 2}});
      CHECK(table->match(PUT, "/nothing/here") == found(1, {{"*", "nothing/here"}}));
      CHECK(table->match(PUT, "/") == found(1, {{"*", ""}}));
      CHECK(table->match(PUT, "/ping") == found(1, {{"*", "ping"}}));
      CHECK(table->match(GET, "/ping") == found(2));
      CHECK(table->match(GET, "/nothing") == not_allowed(PUT));
      CHECK(table->match(HEAD, "/ping") == not_allowed(GET | PUT));
      CHECK(table->match(PUT, "nothing") == not_found());
      CHECK(table->match(PUT, "") == not_found());
    }
  }

  TEST_CASE("more params than the caller's capacity is NOT_FOUND") {
    for (const auto &router : routers()) {
      INFO(router->name());
      auto table = router->build(kRoutes);
      CHECK(table->match(GET, "/users/42/posts/7", 1) == not_found());
      CHECK(table->match(GET, "/users/42/posts/7", 2) == found(8, {{"id", "42"}, {"post", "7"}}));
      CHECK(table->match(GET, "/static/x", 0) == not_found());
      CHECK(table->match(GET, "/ping", 0) == found(2));
      CHECK(table->match(HEAD, "/ping", 0) == not_allowed(GET));
    }
  }

  TEST_CASE("param names live in the table, values in the path") {
    for (const auto &router : routers()) {
      INFO(router->name());
      auto table = router->build({{"/u/{user}/f/*", GET, 1}});
      const std::string path = "/u/ann/f/a/b";
      axle_route_param_t params[2];
      axle_route_match_t out{};
      out.struct_size = sizeof out;
      out.params = params;
      out.param_capacity = 2;
      REQUIRE(table->match_raw(GET, path, out) == AXLE_ROUTE_FOUND);
      REQUIRE(out.param_count == 2);
      CHECK(params[0].value.ptr == path.data() + 3);
      CHECK(params[0].value.len == 3);
      CHECK(params[1].value.ptr == path.data() + 9);
      CHECK(params[1].value.len == 3);
      const char *user_name = params[0].name.ptr;
      // Another lookup with another path: the names are the same table bytes.
      const std::string other = "/u/bob/f/";
      REQUIRE(table->match_raw(GET, other, out) == AXLE_ROUTE_FOUND);
      CHECK(params[0].name.ptr == user_name);
      CHECK(std::string(params[0].name.ptr, params[0].name.len) == "user");
      CHECK(std::string(params[1].name.ptr, params[1].name.len) == "*");
    }
  }

  TEST_CASE("an empty table finds nothing") {
    for (const auto &router : routers()) {
      INFO(router->name());
      auto table = router->build({});
      CHECK(table->match(GET, "/") == not_found());
      CHECK(table->match(GET, "/a/b") == not_found());
    }
  }

  TEST_CASE("route array stride follows struct_size (a host built with a newer minor)") {
    // A larger spec struct, as a host with extra fields appended would pass.
    struct WiderSpec {
      axle_route_spec_t spec;
      uint64_t appended_field;
    };
    const std::string a = "/a/{x}", b = "/b";
    WiderSpec specs[2] = {{{sizeof(WiderSpec), {a.data(), a.size()}, GET, 7}, ~0ull},
                          {{sizeof(WiderSpec), {b.data(), b.size()}, POST, 8}, ~0ull}};
    for (const auto &router : routers()) {
      INFO(router->name());
      void *raw = nullptr;
      axle_error_t err;
      REQUIRE_MESSAGE(router->vtable().build(router->instance(), &specs[0].spec, 2, &raw, &err) == AXLE_OK,
                      err.message);
      RouteTable table(*router, {}, raw);
      CHECK(table.match(GET, "/a/1") == found(7, {{"x", "1"}}));
      CHECK(table.match(POST, "/b") == found(8));
    }
  }

  TEST_CASE("a result struct too small for this ABI is refused without being written") {
    for (const auto &router : routers()) {
      INFO(router->name());
      auto table = router->build(kRoutes);
      axle_route_match_t out{};
      out.struct_size = sizeof out - 1;
      out.route_id = 12345;
      CHECK(table->match_raw(GET, "/ping", out) == AXLE_ROUTE_NOT_FOUND);
      CHECK(out.route_id == 12345);
    }
  }

  TEST_CASE("concurrent matches on one table agree with the expected outcomes") {
    for (const auto &router : routers()) {
      INFO(router->name());
      auto table = router->build(kRoutes);
      std::atomic<int> mismatches{0};
      std::vector<std::thread> workers;
      for (int t = 0; t < 4; ++t)
        workers.emplace_back([&] {
          for (int round = 0; round < 200; ++round)
            for (const Case &c : kCases) {
              // Not match(): doctest assertions are not thread-safe.
              axle_route_param_t params[kDefaultCapacity];
              axle_route_match_t out{};
              out.struct_size = sizeof out;
              out.params = params;
              out.param_capacity = kDefaultCapacity;
              const axle_route_result_t r = table->match_raw(c.method, c.path, out);
              if (r != c.expected.result || (r == AXLE_ROUTE_FOUND && out.route_id != c.expected.route_id) ||
                  out.param_count != c.expected.params.size())
                ++mismatches;
            }
        });
      for (auto &w : workers) w.join();
      CHECK(mismatches.load() == 0);
    }
  }
}

}  // namespace
