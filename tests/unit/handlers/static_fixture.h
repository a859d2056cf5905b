// Shared by the static handler tests: a temp tree, the route config with
// its cache keys, and the fixture most tests use.
#pragma once

#include "handler_harness.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace static_test {

using axle::test::Instance;
using axle::test::LoadedModule;
using axle::test::module_path;
using axle::test::TestRequest;
using axle::test::TestRoute;
namespace fs = std::filesystem;


// A throw-away directory tree under /tmp, removed with the test.
class TempTree {
 public:
  TempTree() {
    std::string templ = (fs::temp_directory_path() / "axle-static-XXXXXX").string();
    REQUIRE(::mkdtemp(templ.data()) != nullptr);
    dir_ = templ;
  }
  ~TempTree() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  const fs::path &dir() const { return dir_; }
  fs::path write(const std::string &rel, const std::string &content) {
    fs::path p = dir_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
  void mkdir(const std::string &rel) { fs::create_directories(dir_ / rel); }
  void symlink(const std::string &target, const std::string &rel) { fs::create_symlink(target, dir_ / rel); }

 private:
  fs::path dir_;
};


// The cache keys of a route. The defaults here keep the cache on but check
// the file on every request (valid 0) and hold no bytes, so the tests of
// plain behaviour see every change at once and get descriptors.
struct CacheConfig {
  int64_t entries = 1024;
  int64_t valid_ms = 0;
  int64_t memory_max = 0;
  int64_t memory_cache = 8 << 20;
  bool precompressed = false;
};

inline axle_config_t static_config(const std::string &root, const std::string &fallback = "", int64_t max_age = 0,
                            const std::string &index = "index.html", const CacheConfig &cache = {}) {
  axle_config_t cfg;
  cfg.strings = {{"root", root}, {"index", index}, {"fallback", fallback}};
  cfg.ints = {{"max_age", max_age},
              {"cache_entries", cache.entries},
              {"cache_valid_ms", cache.valid_ms},
              {"memory_max_bytes", cache.memory_max},
              {"memory_cache_bytes", cache.memory_cache}};
  cfg.bools = {{"precompressed", cache.precompressed}};
  return cfg;
}


// The module and one route over a temp tree, the fixture of most tests.
struct StaticFixture {
  TempTree tree;
  LoadedModule mod{module_path("handler", "static")};
  Instance inst{mod};

  std::unique_ptr<TestRoute> route(int64_t max_age = 0, const CacheConfig &cache = {}) {
    return std::make_unique<TestRoute>(mod, inst, static_config(tree.dir().string(), "", max_age, "index.html", cache));
  }
};

inline std::unique_ptr<axle_response_t> get(TestRoute &route, const std::string &path,
                                     std::vector<std::pair<std::string, std::string>> headers = {},
                                     const std::string &method = "GET") {
  TestRequest req(method, path);
  for (auto &[n, v] : headers) req.header(n, v);
  return route.serve(req);
}

}  // namespace static_test
