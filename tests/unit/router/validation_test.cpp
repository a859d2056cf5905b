// Route lists build() must refuse, with a message naming the route and the
// problem; every router refuses the same lists with the same words.
#include <doctest/doctest.h>

#include "router_harness.h"

namespace {

using namespace axle::test::router;

constexpr uint32_t GET = AXLE_METHOD_GET, POST = AXLE_METHOD_POST, PUT = AXLE_METHOD_PUT;

std::string repeat(const std::string &piece, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += piece;
  return out;
}

std::string many_params(int count) {
  std::string out;
  for (int i = 0; i < count; ++i) out += "/{p" + std::to_string(i) + "}";
  return out;
}

// Builds routes with every router; all must fail with AXLE_ERR_INVALID and
// the same message, which is returned.
std::string refused_message(const std::vector<RouteDef> &routes) {
  std::string first;
  for (const auto &router : routers()) {
    INFO(router->name());
    BuildOutcome outcome = router->try_build(routes);
    CHECK(outcome.status == AXLE_ERR_INVALID);
    CHECK(outcome.table == nullptr);
    if (&router == &routers().front())
      first = outcome.error;
    else
      CHECK(outcome.error == first);
  }
  return first;
}

struct BadPattern {
  std::string pattern;
  std::string problem;  // expected in the message
};

TEST_SUITE("router.invalid") {
  TEST_CASE("invalid patterns are refused, naming the route, the pattern and the problem") {
    const std::vector<BadPattern> bad = {
        {"", "is empty"},
        {"ping", "must start with '/'"},
        {"*", "must start with '/'"},
        {"/a/{x", "'{' without a closing '}'"},
        {"/a/{x/y}", "'{' without a closing '}'"},
        {"/a/x}", "'}' without '{'"},
        {"/a/{}", "empty parameter name"},
        {"/a/{x-y}", "outside [A-Za-z0-9_]"},
        {"/a/{*}", "'*' inside a segment"},
        {"/a/*/b", "'*' before the end"},
        {"/a*", "'*' inside a segment"},
        {"/a/b*", "'*' inside a segment"},
        {"/a/{a}{b}", "two parameters in one segment"},
        {"/a{x}", "text before a parameter"},
        {"/{x}a", "text after a parameter"},
        {"/a//b", "empty segment"},
        {"//", "empty segment"},
        {"/{x}/{x}", "parameter name \"x\" twice"},
        {std::string("/a\0b", 4), "NUL byte"},
        {many_params(33), "more than 32 parameters"},
        {repeat("/s", 129), "more than 128 segments"},
    };
    for (const BadPattern &b : bad) {
      INFO("pattern \"", b.pattern, "\"");
      const std::string msg = refused_message({{"/ok", GET, 1}, {b.pattern, GET, 99}});
      CHECK(msg.find("route #2 (id 99)") != std::string::npos);
      CHECK(msg.find(b.problem) != std::string::npos);
      if (b.pattern.find('\0') == std::string::npos && b.pattern.size() < 80)
        CHECK(msg.find("\"" + b.pattern + "\"") != std::string::npos);
    }
  }

  TEST_CASE("limits are inclusive: 32 params and 128 segments build") {
    for (const auto &router : routers()) {
      INFO(router->name());
      auto table = router->build({{many_params(32), GET, 1}, {repeat("/s", 127) + "/*", GET, 2}});
      std::string path;
      Params expected;
      for (int i = 0; i < 32; ++i) {
        path += "/v" + std::to_string(i);
        expected.emplace_back("p" + std::to_string(i), "v" + std::to_string(i));
      }
      CHECK(table->match(GET, path) == found(1, expected));
      CHECK(table->match(GET, repeat("/s", 127) + "/t/u") == found(2, {{"*", "t/u"}}));
    }
  }

  TEST_CASE("bad method masks are refused") {
    CHECK(refused_message({{"/a", 0, 5}}).find("accepts no method") != std::string::npos);
    CHECK(refused_message({{"/a", 0x100 | GET, 5}}).find("unknown method bits in method_mask 0x100") !=
          std::string::npos);
  }

  TEST_CASE("bad route arrays are refused") {
    for (const auto &router : routers()) {
      INFO(router->name());
      axle_error_t err;
      void *table = nullptr;
      CHECK(router->vtable().build(router->instance(), nullptr, 3, &table, &err) == AXLE_ERR_INVALID);
      CHECK(err.message.find("NULL") != std::string::npos);

      const std::string p = "/a";
      axle_route_spec_t old_spec = {sizeof(axle_route_spec_t) - 4, {p.data(), p.size()}, GET, 1};
      CHECK(router->vtable().build(router->instance(), &old_spec, 1, &table, &err) == AXLE_ERR_INVALID);
      CHECK(err.message.find("struct_size") != std::string::npos);

      axle_route_spec_t mixed[2] = {{sizeof(axle_route_spec_t), {p.data(), p.size()}, GET, 1},
                                    {sizeof(axle_route_spec_t) + 8, {p.data(), p.size()}, POST, 2}};
      CHECK(router->vtable().build(router->instance(), mixed, 2, &table, &err) == AXLE_ERR_INVALID);
      CHECK(err.message.find("route #2") != std::string::npos);
    }
  }
}

TEST_SUITE("router.duplicates") {
  TEST_CASE("the same pattern with overlapping methods is refused, naming both routes") {
    const std::string msg = refused_message({{"/x", GET, 1}, {"/a/{id}", GET | POST, 10}, {"/a/{id}", POST | PUT, 11}});
    CHECK(msg.find("route #3 (id 11) \"/a/{id}\"") != std::string::npos);
    CHECK(msg.find("route #2 (id 10) \"/a/{id}\"") != std::string::npos);
    CHECK(msg.find("duplicates") != std::string::npos);
    CHECK(msg.find("POST") != std::string::npos);
    CHECK(msg.find("PUT") == std::string::npos);  // only the overlap is named
  }

  TEST_CASE("the same pattern with disjoint methods builds") {
    for (const auto &router : routers()) {
      INFO(router->name());
      auto table = router->build({{"/a", GET, 1}, {"/a", POST, 2}, {"/a", PUT, 3}});
      CHECK(table->match(POST, "/a") == found(2));
      CHECK(table->match(AXLE_METHOD_DELETE, "/a") == not_allowed(GET | POST | PUT));
    }
  }

  TEST_CASE("same shape with other param names builds; the earlier route wins") {
    for (const auto &router : routers()) {
      INFO(router->name());
      auto table = router->build({{"/a/{x}", GET | POST, 1}, {"/a/{y}", GET, 2}});
      CHECK(table->match(GET, "/a/1") == found(1, {{"x", "1"}}));
    }
  }
}

}  // namespace
