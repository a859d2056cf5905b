// 1,000 generated routes mixing literals, params and wildcards: every route
// is found with its id and params, and near-miss paths are not.
#include <doctest/doctest.h>

#include <random>

#include "router_harness.h"

namespace {

using namespace axle::test::router;

constexpr uint32_t GET = AXLE_METHOD_GET;
constexpr int kRouteCount = 1000;

struct Generated {
  RouteDef route;
  std::string path;  // a path only this route matches
  MatchResult expected;
};

// Four families, sharing prefixes ("lit1", "lit10", "lit100"...) so the radix
// tree has to split edges; route ids differ from indices on purpose.
Generated generate(int i) {
  const std::string n = std::to_string(i);
  const uint32_t id = 10000 + 3 * static_cast<uint32_t>(i);
  switch (i % 4) {
    case 0:
      return {{"/v" + std::to_string(i % 7) + "/lit" + n + "/end", GET, id},
              "/v" + std::to_string(i % 7) + "/lit" + n + "/end",
              found(id)};
    case 1:
      return {{"/v" + std::to_string(i % 7) + "/lit" + n + "/{p}", GET, id},
              "/v" + std::to_string(i % 7) + "/lit" + n + "/val" + n,
              found(id, {{"p", "val" + n}})};
    case 2:
      return {{"/u" + n + "/{a}/mid/{b}", GET, id}, "/u" + n + "/A" + n + "/mid/B" + n,
              found(id, {{"a", "A" + n}, {"b", "B" + n}})};
    default:
      return {{"/w" + std::to_string(i % 5) + "/s" + n + "/*", GET, id}, "/w" + std::to_string(i % 5) + "/s" + n + "/rest/" + n,
              found(id, {{"*", "rest/" + n}})};
  }
}

TEST_SUITE("router.scale") {
  TEST_CASE("1,000 routes: each found with its id and params; misses are not found") {
    std::vector<Generated> generated;
    std::vector<RouteDef> routes;
    for (int i = 0; i < kRouteCount; ++i) {
      generated.push_back(generate(i));
      routes.push_back(generated.back().route);
    }
    for (const auto &router : routers()) {
      INFO(router->name());
      auto table = router->build(routes);
      for (const Generated &g : generated) {
        INFO("pattern ", g.route.pattern, " path ", g.path);
        CHECK(table->match(GET, g.path) == g.expected);
      }

      std::mt19937 rng(1234);
      for (int k = 0; k < 2000; ++k) {
        const int i = static_cast<int>(rng() % kRouteCount);
        const std::string n = std::to_string(i);
        std::vector<std::string> misses = {
            "/v" + std::to_string(i % 7) + "/lit" + n,                 // one segment short
            "/v" + std::to_string((i + 1) % 7) + "/lit" + n + "/end",  // wrong first segment
            "/u" + n + "/A/mid",                                       // last param missing
            "/u" + n + "/A/mid/",                                      // last param empty
            "/s" + n + "/rest",                                        // no such first segment
            "/q" + std::to_string(rng()),
        };
        // One segment too many (a "*" route takes any rest, so not for those).
        if (i % 4 != 3) misses.push_back(generated[i].path + "/extra");
        for (const std::string &path : misses) {
          INFO("path ", path);
          CHECK(table->match(GET, path) == not_found());
        }
      }
    }
  }
}

}  // namespace
