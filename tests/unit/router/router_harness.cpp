#include "router_harness.h"

#include <doctest/doctest.h>

#include <sstream>

namespace axle::test::router {

std::ostream &operator<<(std::ostream &os, const MatchResult &m) {
  static constexpr const char *kResults[] = {"FOUND", "NOT_FOUND", "METHOD_NOT_ALLOWED"};
  os << kResults[m.result];
  if (m.result == AXLE_ROUTE_FOUND) os << " id=" << m.route_id;
  if (m.result == AXLE_ROUTE_METHOD_NOT_ALLOWED) os << " allowed=0x" << std::hex << m.allowed << std::dec;
  for (const auto &[name, value] : m.params) os << " {" << name << "=\"" << value << "\"}";
  return os;
}

MatchResult found(uint32_t id, Params params) { return {AXLE_ROUTE_FOUND, id, 0, std::move(params)}; }
MatchResult not_found() { return {AXLE_ROUTE_NOT_FOUND, 0, 0, {}}; }
MatchResult not_allowed(uint32_t allowed) { return {AXLE_ROUTE_METHOD_NOT_ALLOWED, 0, allowed, {}}; }

RouteTable::RouteTable(const RouterModule &router, std::vector<std::string> patterns, void *table)
    : router_(router), patterns_(std::move(patterns)), table_(table) {}

RouteTable::~RouteTable() { router_.vtable().table_destroy(router_.instance(), table_); }

axle_route_result_t RouteTable::match_raw(uint32_t method, const std::string &path, axle_route_match_t &out) const {
  return router_.vtable().match(table_, method, {path.data(), path.size()}, &out);
}

MatchResult RouteTable::match(uint32_t method, const std::string &path, uint32_t capacity) const {
  std::vector<axle_route_param_t> params(capacity);
  axle_route_match_t out{};
  out.struct_size = sizeof out;
  out.params = params.data();
  out.param_capacity = capacity;
  MatchResult r;
  r.result = match_raw(method, path, out);
  if (r.result == AXLE_ROUTE_FOUND) r.route_id = out.route_id;
  if (r.result == AXLE_ROUTE_METHOD_NOT_ALLOWED) r.allowed = out.allowed_methods;
  REQUIRE(out.param_count <= capacity);
  if (r.result != AXLE_ROUTE_FOUND) CHECK(out.param_count == 0);
  for (uint32_t i = 0; i < out.param_count; ++i) {
    const axle_route_param_t &p = params[i];
    // Values are slices of the path we passed (an empty one may sit at its end).
    CHECK(p.value.ptr >= path.data());
    CHECK(p.value.ptr + p.value.len <= path.data() + path.size());
    r.params.emplace_back(std::string(p.name.ptr, p.name.len), std::string(p.value.ptr, p.value.len));
  }
  return r;
}

RouterModule::RouterModule(const std::string &name)
    : name_(name), module_(module_path("router", name)), instance_(module_) {
  REQUIRE(module_.desc().kind == AXLE_KIND_ROUTER);
  REQUIRE(std::string(module_.desc().name) == name);
  REQUIRE(vtable().struct_size >= sizeof(axle_router_vtable_t));
}

BuildOutcome RouterModule::try_build(const std::vector<RouteDef> &routes) const {
  std::vector<std::string> patterns;
  patterns.reserve(routes.size());
  std::vector<axle_route_spec_t> specs;
  for (const RouteDef &r : routes) {
    patterns.push_back(r.pattern);
    specs.push_back({sizeof(axle_route_spec_t), {patterns.back().data(), patterns.back().size()}, r.methods, r.id});
  }
  axle_error_t err;
  void *table = nullptr;
  BuildOutcome outcome;
  outcome.status = vtable().build(instance(), specs.data(), specs.size(), &table, &err);
  outcome.error = err.message;
  if (outcome.status == AXLE_OK) outcome.table = std::make_unique<RouteTable>(*this, std::move(patterns), table);
  return outcome;
}

std::unique_ptr<RouteTable> RouterModule::build(const std::vector<RouteDef> &routes) const {
  BuildOutcome outcome = try_build(routes);
  REQUIRE_MESSAGE(outcome.status == AXLE_OK, name_ << ": " << outcome.error);
  return std::move(outcome.table);
}

std::vector<std::string> router_names() {
  std::vector<std::string> names;
  std::stringstream list(AXLE_ROUTER_MODULES);
  for (std::string name; std::getline(list, name, ',');)
    if (!name.empty()) names.push_back(name);
  return names;
}

const std::vector<std::unique_ptr<RouterModule>> &routers() {
  static const std::vector<std::unique_ptr<RouterModule>> loaded = [] {
    std::vector<std::unique_ptr<RouterModule>> v;
    for (const std::string &name : router_names()) v.push_back(std::make_unique<RouterModule>(name));
    REQUIRE_MESSAGE(!v.empty(), "no router module was built");
    return v;
  }();
  return loaded;
}

}  // namespace axle::test::router
