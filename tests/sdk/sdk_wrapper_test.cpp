// The C++ SDK's boundary, seen from the host side: a module built with
// axle/sdk/handler.hpp (sdk_probe.cpp) loaded through the test host.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "handler_harness.h"

#include <cstdio>
#include <string>
#include <unistd.h>

using axle::test::Instance;
using axle::test::LoadedModule;
using axle::test::TestRequest;
using axle::test::TestRoute;

namespace {

// Every key set, as the kernel would after filling defaults.
axle_config_t route_config(const std::string &action) {
  axle_config_t cfg;
  cfg.strings = {{"action", action}, {"greeting", "hi"}, {"file", ""}};
  cfg.ints = {{"repeat", 1}};
  cfg.bools = {{"shout", false}, {"fail_init", false}, {"wrong_type", false}};
  cfg.base_dir = "/etc/axle";
  return cfg;
}

struct Probe {
  LoadedModule module{SDK_PROBE_PATH};
  Instance instance{module};
};

}  // namespace

TEST_SUITE("sdk") {
  TEST_CASE("the generated descriptor and vtable are complete and versioned") {
    LoadedModule module(SDK_PROBE_PATH);
    const axle_module_descriptor_t &d = module.desc();
    CHECK(d.struct_size == sizeof(axle_module_descriptor_t));
    CHECK(d.abi_major == AXLE_ABI_MAJOR);
    CHECK(d.abi_minor == AXLE_ABI_MINOR);
    CHECK(d.kind == AXLE_KIND_HANDLER);
    CHECK(d.flags == 0);
    CHECK(std::string(d.name) == "sdkprobe");
    CHECK(std::string(d.version) == "0.0.1");
    CHECK((d.create != nullptr));
    CHECK((d.destroy != nullptr));
    CHECK((d.thread_init == nullptr));
    CHECK((d.thread_fini == nullptr));
    REQUIRE(d.config_key_count == 7);
    CHECK(std::string(d.config_keys[2].name) == "repeat");
    CHECK(d.config_keys[2].type == AXLE_CONFIG_INT);
    CHECK(std::string(d.config_keys[2].default_value) == "1");
    CHECK(d.config_keys[3].type == AXLE_CONFIG_BOOL);
    const auto &vt = module.vtable<axle_handler_vtable_t>();
    CHECK(vt.struct_size == sizeof(axle_handler_vtable_t));
    CHECK((vt.route_init != nullptr));
    CHECK((vt.route_fini != nullptr));
    CHECK((vt.handle != nullptr));
  }

  TEST_CASE("request accessors and config getters reach the handler") {
    Probe p;
    axle_config_t cfg = route_config("greet");
    cfg.strings["greeting"] = "yo";
    cfg.ints["repeat"] = 3;
    cfg.bools["shout"] = true;
    TestRoute route(p.module, p.instance, cfg, "/greet/{who}");
    TestRequest req("POST", "/greet/ann");
    req.query = "x=1";
    req.body = "payload";
    req.header("User-Agent", "probe/1").param("who", "ann");
    auto resp = route.serve(req);
    CHECK(resp->status == 201);
    CHECK(resp->body == "YOYOYO ann via probe/1 POST /greet/ann?x=1 [payload]");
    CHECK(resp->header("X-Pattern") == "/greet/{who}");
    CHECK(resp->header("X-Base-Dir") == "/etc/axle");
  }

  TEST_CASE("absent header and parameter are nullopt, not empty matches") {
    Probe p;
    TestRoute route(p.module, p.instance, route_config("greet"), "/g");
    TestRequest req("GET", "/g");
    auto resp = route.serve(req);
    CHECK(resp->body == "hi nobody GET /g? []");
  }

  TEST_CASE("an exception in handle becomes a non-OK status, never a crash") {
    Probe p;
    const std::pair<const char *, axle_status_t> cases[] = {
        {"throw-error", AXLE_ERR_NOT_FOUND},   {"throw-std", AXLE_ERR_INTERNAL},
        {"throw-invalid", AXLE_ERR_INVALID},   {"throw-alloc", AXLE_ERR_NOMEM},
        {"throw-int", AXLE_ERR_INTERNAL},      {"bad-status", AXLE_ERR_INVALID},
    };
    for (const auto &[action, status] : cases) {
      CAPTURE(action);
      TestRoute route(p.module, p.instance, route_config(action), "/t");
      TestRequest req("GET", "/t");
      route.serve(req, status);
      // The route keeps serving after a failure.
      route.serve(req, status);
    }
  }

  TEST_CASE("an exception in route_init becomes a status and an error message") {
    Probe p;
    axle_config_t cfg = route_config("greet");
    cfg.bools["fail_init"] = true;
    TestRoute failing(p.module, p.instance, cfg, "/f");
    CHECK(failing.init_status() == AXLE_ERR_INVALID);
    CHECK(failing.init_error() == "sdkprobe: asked to fail");
  }

  TEST_CASE("a config key read with the wrong type is a clear error") {
    Probe p;
    axle_config_t cfg = route_config("greet");
    cfg.bools["wrong_type"] = true;
    TestRoute route(p.module, p.instance, cfg, "/w");
    CHECK(route.init_status() == AXLE_ERR_NOT_FOUND);
    CHECK(route.init_error() == "sdkprobe: config key \"greeting\" is not a declared integer key");
  }

  TEST_CASE("a route object lives from route_init to route_fini") {
    Probe p;
    TestRequest req("GET", "/r");
    {
      TestRoute first(p.module, p.instance, route_config("greet"), "/r");
      CHECK(first.serve(req)->header("X-Live-Routes") == "1");
      {
        TestRoute second(p.module, p.instance, route_config("greet"), "/r2");
        CHECK(second.serve(req)->header("X-Live-Routes") == "2");
      }
      CHECK(first.serve(req)->header("X-Live-Routes") == "1");
    }
    // A failed route_init leaves no object behind.
    axle_config_t failing_cfg = route_config("greet");
    failing_cfg.bools["fail_init"] = true;
    TestRoute failing(p.module, p.instance, failing_cfg, "/f");
    REQUIRE(failing.init_status() != AXLE_OK);
    TestRoute last(p.module, p.instance, route_config("greet"), "/r3");
    CHECK(last.serve(req)->header("X-Live-Routes") == "1");
  }

  TEST_CASE("lent, owned and file bodies") {
    Probe p;
    TestRequest req("GET", "/b");
    {
      TestRoute route(p.module, p.instance, route_config("lend"), "/b");
      auto resp = route.serve(req);
      CHECK(resp->body == "hi");
      REQUIRE(resp->releases.size() == 1);
      CHECK((resp->releases[0].first == nullptr));  // route-lifetime bytes need no release
    }
    {
      TestRoute route(p.module, p.instance, route_config("own"), "/b");
      auto resp = route.serve(req);
      CHECK(resp->body == "hi owned");
      REQUIRE(resp->releases.size() == 1);
      CHECK((resp->releases[0].first != nullptr));  // frees the string when the response goes
    }
    {
      char path[] = "/tmp/axle-sdk-test-XXXXXX";
      int fd = ::mkstemp(path);
      REQUIRE(fd >= 0);
      REQUIRE(::write(fd, "file body", 9) == 9);
      ::close(fd);
      axle_config_t cfg = route_config("file");
      cfg.strings["file"] = path;
      TestRoute route(p.module, p.instance, cfg, "/b");
      auto resp = route.serve(req);
      CHECK(resp->file_contents() == "file body");
      cfg.strings["file"] = std::string(path) + ".missing";
      TestRoute missing(p.module, p.instance, cfg, "/m");
      missing.serve(req, AXLE_ERR_IO);
      ::unlink(path);
    }
  }
}
