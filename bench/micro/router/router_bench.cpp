// Router micro-benchmark driver: loads one router module by path, builds a
// table of N generated routes (a REST-like mix of literals, params and
// wildcards), then runs a fixed list of lookups (every route's path once
// per round, plus 1 miss in 10) inside axle_bench_run_matches, the only
// function run.sh tells callgrind to count.
//
//   router-bench MODULE.so ROUTES ROUNDS
//
// Prints the number of lookups and outcomes; the instruction counts come
// from callgrind, not from this program.
#include <axle/router.h>

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

// The host defines the opaque error type.
struct axle_error_t {
  std::string message;
};

namespace {

// The routers only report errors and log warnings; nothing else is reachable
// from build/match, so the rest of the host table stays empty.
void host_log(const axle_config_t *, axle_log_level_t, const char *msg, size_t len) {
  std::fprintf(stderr, "router log: %.*s\n", static_cast<int>(len), msg);
}

void host_error_set(axle_error_t *err, const char *msg, size_t len) { err->message.assign(msg, len); }

axle_host_api_t make_host() {
  axle_host_api_t host{};
  host.struct_size = sizeof host;
  host.abi_major = AXLE_ABI_MAJOR;
  host.abi_minor = AXLE_ABI_MINOR;
  host.log = host_log;
  host.error_set = host_error_set;
  return host;
}

struct Route {
  std::string pattern;
  std::string path;  // a path this route matches
};

// Route i of a table: four families with shared prefixes, as an API with
// versioned resources, item pages, nested resources and static trees has.
Route generate(int i) {
  const std::string n = std::to_string(i);
  const std::string v = std::to_string(i % 7);
  switch (i % 4) {
    case 0: return {"/api/v" + v + "/res" + n + "/list", "/api/v" + v + "/res" + n + "/list"};
    case 1: return {"/api/v" + v + "/res" + n + "/{id}", "/api/v" + v + "/res" + n + "/12345"};
    case 2: return {"/users" + n + "/{user}/posts/{post}", "/users" + n + "/alice/posts/987"};
    default: return {"/static" + n + "/*", "/static" + n + "/css/site.css"};
  }
}

}  // namespace

// Counted by callgrind (run.sh: --toggle-collect=axle_bench_run_matches).
extern "C" __attribute__((noinline)) uint64_t axle_bench_run_matches(const axle_router_vtable_t *vt, const void *table,
                                                                     const std::vector<std::string> &paths,
                                                                     int rounds) {
  axle_route_param_t params[8];
  axle_route_match_t out{};
  out.struct_size = sizeof out;
  out.params = params;
  out.param_capacity = 8;
  uint64_t found = 0;
  for (int r = 0; r < rounds; ++r)
    for (const std::string &p : paths)
      found += vt->match(table, AXLE_METHOD_GET, {p.data(), p.size()}, &out) == AXLE_ROUTE_FOUND;
  return found;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s MODULE.so ROUTES ROUNDS\n", argv[0]);
    return 2;
  }
  const int route_count = std::atoi(argv[2]);
  const int rounds = std::atoi(argv[3]);
  if (route_count <= 0 || rounds <= 0) {
    std::fprintf(stderr, "ROUTES and ROUNDS must be positive\n");
    return 2;
  }

  void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    std::fprintf(stderr, "dlopen %s: %s\n", argv[1], dlerror());
    return 1;
  }
  auto entry = reinterpret_cast<axle_module_entry_fn>(dlsym(lib, AXLE_ENTRY_SYMBOL));
  const axle_module_descriptor_t *desc = entry ? entry() : nullptr;
  if (!desc || desc->abi_major != AXLE_ABI_MAJOR || desc->kind != AXLE_KIND_ROUTER) {
    std::fprintf(stderr, "%s is not a router module of ABI %d\n", argv[1], AXLE_ABI_MAJOR);
    return 1;
  }
  const auto *vt = static_cast<const axle_router_vtable_t *>(desc->vtable);

  const axle_host_api_t host = make_host();
  axle_error_t err;
  void *instance = nullptr;
  if (desc->create(&host, nullptr, &instance, &err) != AXLE_OK) {
    std::fprintf(stderr, "create: %s\n", err.message.c_str());
    return 1;
  }

  std::vector<Route> routes;
  std::vector<axle_route_spec_t> specs;
  std::vector<std::string> paths;
  routes.reserve(route_count);
  for (int i = 0; i < route_count; ++i) {
    routes.push_back(generate(i));
    const Route &r = routes.back();
    specs.push_back({sizeof(axle_route_spec_t), {r.pattern.data(), r.pattern.size()}, AXLE_METHOD_GET,
                     static_cast<uint32_t>(i)});
    paths.push_back(r.path);
    if (i % 10 == 9) paths.push_back("/api/v" + std::to_string(i % 7) + "/missing" + std::to_string(i));
  }

  void *table = nullptr;
  if (vt->build(instance, specs.data(), specs.size(), &table, &err) != AXLE_OK) {
    std::fprintf(stderr, "build: %s\n", err.message.c_str());
    return 1;
  }
  const uint64_t found = axle_bench_run_matches(vt, table, paths, rounds);
  const uint64_t lookups = static_cast<uint64_t>(paths.size()) * static_cast<uint64_t>(rounds);
  std::printf("router=%s routes=%d lookups=%llu found=%llu\n", desc->name, route_count,
              static_cast<unsigned long long>(lookups), static_cast<unsigned long long>(found));

  vt->table_destroy(instance, table);
  desc->destroy(instance);
  dlclose(lib);
  return found == static_cast<uint64_t>(route_count) * static_cast<uint64_t>(rounds) ? 0 : 1;
}
