// Drives router modules through the test host: build a table from readable
// route definitions, match, and compare results as plain values.
#pragma once

#include <axle/router.h>

#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "test_host.h"

namespace axle::test::router {

struct RouteDef {
  std::string pattern;
  uint32_t methods;
  uint32_t id;
};

using Params = std::vector<std::pair<std::string, std::string>>;

// A match() outcome with the strings copied out, so two routers' results
// compare with ==.
struct MatchResult {
  axle_route_result_t result = AXLE_ROUTE_NOT_FOUND;
  uint32_t route_id = 0;
  uint32_t allowed = 0;
  Params params;
  bool operator==(const MatchResult &) const = default;
};
std::ostream &operator<<(std::ostream &os, const MatchResult &m);

MatchResult found(uint32_t id, Params params = {});
MatchResult not_found();
MatchResult not_allowed(uint32_t allowed);

// Enough for every pattern the tests use (the modules' limit is 32 + "*").
inline constexpr uint32_t kDefaultCapacity = 40;

class RouterModule;

// A built table. Keeps the patterns alive, as the ABI requires, until destroyed.
class RouteTable {
 public:
  RouteTable(const RouterModule &router, std::vector<std::string> patterns, void *table);
  ~RouteTable();
  RouteTable(const RouteTable &) = delete;
  RouteTable &operator=(const RouteTable &) = delete;

  MatchResult match(uint32_t method, const std::string &path, uint32_t capacity = kDefaultCapacity) const;
  // The raw call, for tests that look at pointers.
  axle_route_result_t match_raw(uint32_t method, const std::string &path, axle_route_match_t &out) const;

 private:
  const RouterModule &router_;
  std::vector<std::string> patterns_;
  void *table_;
};

struct BuildOutcome {
  axle_status_t status;
  std::string error;
  std::unique_ptr<RouteTable> table;  // set when status == AXLE_OK
};

class RouterModule {
 public:
  explicit RouterModule(const std::string &name);
  const std::string &name() const { return name_; }
  const axle_router_vtable_t &vtable() const { return module_.vtable<axle_router_vtable_t>(); }
  void *instance() const { return instance_.get(); }

  BuildOutcome try_build(const std::vector<RouteDef> &routes) const;
  // Builds or fails the test.
  std::unique_ptr<RouteTable> build(const std::vector<RouteDef> &routes) const;

 private:
  std::string name_;
  LoadedModule module_;
  Instance instance_;
};

// The routers under test, from the build (AXLE_ROUTER_MODULES), in order.
std::vector<std::string> router_names();
// One loaded instance of each, loaded once per process.
const std::vector<std::unique_ptr<RouterModule>> &routers();

}  // namespace axle::test::router
