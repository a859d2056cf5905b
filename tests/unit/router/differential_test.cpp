// Random route sets and random paths: every router must return exactly what
// the reference (the first router, "linear") returns. Fixed seed, bounded.
#include <doctest/doctest.h>

#include <random>

#include "router_harness.h"

namespace {

using namespace axle::test::router;

// Few, prefix-sharing words so random routes collide, nest and split edges.
const std::vector<std::string> kWords = {"a", "b", "ab", "ba", "abc", "aa"};
const std::vector<std::string> kPathWords = {"a", "b", "ab", "ba", "abc", "aa", "x", "", "abcd"};
const std::vector<uint32_t> kMasks = {AXLE_METHOD_GET,
                                      AXLE_METHOD_POST,
                                      AXLE_METHOD_GET | AXLE_METHOD_HEAD,
                                      AXLE_METHOD_PUT | AXLE_METHOD_DELETE,
                                      AXLE_METHOD_GET | AXLE_METHOD_POST,
                                      AXLE_METHOD_ANY};

class Generator {
 public:
  explicit Generator(uint32_t seed) : rng_(seed) {}

  // rng() % n rather than a distribution: the sequence is the same with every
  // standard library, so a failure reproduces anywhere.
  size_t below(size_t n) { return rng_() % n; }
  template <class T>
  const T &pick(const std::vector<T> &v) { return v[below(v.size())]; }

  std::string pattern() {
    if (below(16) == 0) return "/";
    std::string p;
    const size_t segments = 1 + below(4);
    for (size_t k = 0; k < segments; ++k) {
      const size_t kind = below(8);
      if (k + 1 == segments && kind == 0) return p + "/*";
      if (kind < 3)
        p += "/{n" + std::to_string(k) + (below(2) ? "x" : "y") + "}";
      else
        p += "/" + pick(kWords);
    }
    if (below(8) == 0) p += "/";
    return p;
  }

  // keep_duplicates: whether an exact duplicate (same pattern, overlapping
  // methods) may stay in, making the whole set one that build() refuses.
  std::vector<RouteDef> routes(size_t max_count, bool keep_duplicates) {
    std::vector<RouteDef> out;
    const size_t count = 1 + below(max_count);
    while (out.size() < count) {
      RouteDef r{pattern(), pick(kMasks), static_cast<uint32_t>(100 + out.size())};
      bool duplicate = false;
      for (const RouteDef &o : out) duplicate = duplicate || (o.pattern == r.pattern && (o.methods & r.methods));
      if (!duplicate || keep_duplicates) out.push_back(std::move(r));
    }
    return out;
  }

  std::string random_path() {
    std::string p;
    const size_t segments = below(6);
    for (size_t k = 0; k < segments; ++k) p += "/" + pick(kPathWords);
    if (p.empty() || below(6) == 0) p += "/";
    return p;
  }

  // A path some route probably matches: fill a pattern's params and "*".
  std::string path_for(const std::string &pattern) {
    std::string p;
    size_t i = 0;
    while (i < pattern.size()) {
      if (pattern[i] == '{') {
        p += pick(kPathWords);
        i = pattern.find('}', i) + 1;
      } else if (pattern[i] == '*') {
        static const std::vector<std::string> kRests = {"", "a", "a/b", "b/", "/"};
        p += pick(kRests);
        ++i;
      } else {
        p += pattern[i++];
      }
    }
    if (pattern.ends_with("/*") && below(4) == 0) p = pattern.substr(0, pattern.size() - 2);  // bare "/static"
    return p;
  }

  uint32_t method() { return 1u << below(8); }
  uint32_t capacity() { return below(8) == 0 ? static_cast<uint32_t>(below(4)) : kDefaultCapacity; }

 private:
  std::mt19937 rng_;
};

std::string describe(const std::vector<RouteDef> &routes) {
  std::string s;
  for (const RouteDef &r : routes)
    s += "\n  {\"" + r.pattern + "\", 0x" + std::to_string(r.methods) + ", " + std::to_string(r.id) + "}";
  return s;
}

void run_differential(uint32_t seed, int sets, size_t max_routes, bool keep_duplicates, int paths_per_set) {
  const auto &all = routers();
  REQUIRE(!all.empty());
  Generator gen(seed);
  int built = 0, found_count = 0, not_allowed_count = 0;
  for (int set = 0; set < sets; ++set) {
    const std::vector<RouteDef> routes = gen.routes(max_routes, keep_duplicates);
    std::vector<BuildOutcome> outcomes;
    for (const auto &router : all) outcomes.push_back(router->try_build(routes));
    bool agree = true;
    for (size_t r = 1; r < all.size(); ++r) {
      INFO(all[r]->name(), " vs ", all[0]->name(), " building", describe(routes));
      CHECK(outcomes[r].status == outcomes[0].status);
      CHECK(outcomes[r].error == outcomes[0].error);
      agree = agree && outcomes[r].status == outcomes[0].status;
    }
    if (!agree || outcomes[0].status != AXLE_OK) continue;
    ++built;

    for (int k = 0; k < paths_per_set; ++k) {
      const std::string path = k % 2 ? gen.random_path() : gen.path_for(gen.pick(routes).pattern);
      const uint32_t method = gen.method(), capacity = gen.capacity();
      const MatchResult expected = outcomes[0].table->match(method, path, capacity);
      found_count += expected.result == AXLE_ROUTE_FOUND;
      not_allowed_count += expected.result == AXLE_ROUTE_METHOD_NOT_ALLOWED;
      for (size_t r = 1; r < all.size(); ++r) {
        const MatchResult got = outcomes[r].table->match(method, path, capacity);
        if (got == expected) continue;
        INFO(all[r]->name(), " vs ", all[0]->name(), ": method 0x", std::hex, method, std::dec, " capacity ",
             capacity, " path \"", path, "\" routes", describe(routes));
        CHECK(got == expected);
      }
    }
  }
  // Guard against a generator that stopped exercising anything.
  MESSAGE("seed ", seed, ": ", built, "/", sets, " sets built, ", found_count, " found, ", not_allowed_count,
          " method-not-allowed");
  CHECK(built > sets / 4);
  CHECK(found_count > sets);
  CHECK(not_allowed_count > sets / 10);
}

TEST_SUITE("router.differential") {
  TEST_CASE("small random route sets, some refused as duplicates") { run_differential(20261126, 4000, 12, true, 40); }
  TEST_CASE("large random route sets") { run_differential(7, 100, 300, false, 400); }
}

}  // namespace
