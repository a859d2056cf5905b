#include "handler_harness.h"

using axle::test::Instance;
using axle::test::LoadedModule;
using axle::test::module_path;
using axle::test::TestRequest;
using axle::test::TestRoute;

TEST_SUITE("ping") {
  TEST_CASE("answers 200 text/plain pong, for any method") {
    LoadedModule mod(module_path("handler", "ping"));
    CHECK(std::string(mod.desc().name) == "ping");
    Instance inst(mod);
    TestRoute route(mod, inst, {}, "/ping");
    for (const char *method : {"GET", "HEAD", "POST"}) {
      TestRequest req(method, "/ping");
      auto resp = route.serve(req);
      CHECK(resp->status == 200);
      CHECK(resp->header("Content-Type") == "text/plain");
      CHECK(resp->body == "pong");
    }
  }
}

TEST_SUITE("echo") {
  TEST_CASE("returns the request body with its Content-Type") {
    LoadedModule mod(module_path("handler", "echo"));
    Instance inst(mod);
    TestRoute route(mod, inst, {}, "/echo/{msg}");
    TestRequest req("POST", "/echo/ignored");
    req.param("msg", "ignored").header("content-type", "application/json");
    req.body = "{\"a\":1}";
    auto resp = route.serve(req);
    // The module must have copied the body: the request's memory dies now.
    req.body.assign(req.body.size(), 'x');
    CHECK(resp->status == 200);
    CHECK(resp->header("Content-Type") == "application/json");
    CHECK(resp->body == "{\"a\":1}");
  }

  TEST_CASE("a body without Content-Type is application/octet-stream") {
    LoadedModule mod(module_path("handler", "echo"));
    Instance inst(mod);
    TestRoute route(mod, inst, {}, "/echo");
    TestRequest req("PUT", "/echo");
    req.body = std::string("\0\x01\x02", 3);
    auto resp = route.serve(req);
    CHECK(resp->header("Content-Type") == "application/octet-stream");
    CHECK(resp->body == std::string("\0\x01\x02", 3));
  }

  TEST_CASE("without a body, the msg parameter as text") {
    LoadedModule mod(module_path("handler", "echo"));
    Instance inst(mod);
    TestRoute route(mod, inst, {}, "/echo/{other}/{msg}");
    TestRequest req("GET", "/echo/first/hello world");
    req.param("other", "first").param("msg", "hello world");
    auto resp = route.serve(req);
    CHECK(resp->status == 200);
    CHECK(resp->header("Content-Type") == "text/plain");
    CHECK(resp->body == "hello world");
  }

  TEST_CASE("without msg, the first parameter") {
    LoadedModule mod(module_path("handler", "echo"));
    Instance inst(mod);
    TestRoute route(mod, inst, {}, "/say/{word}");
    TestRequest req("GET", "/say/hi");
    req.param("word", "hi").param("*", "rest");
    auto resp = route.serve(req);
    CHECK(resp->body == "hi");
  }

  TEST_CASE("no body and no parameter: empty 200") {
    LoadedModule mod(module_path("handler", "echo"));
    Instance inst(mod);
    TestRoute route(mod, inst, {}, "/echo");
    TestRequest req("GET", "/echo");
    auto resp = route.serve(req);
    CHECK(resp->status == 200);
    CHECK(resp->body.empty());
    CHECK(resp->header("Content-Type").empty());
  }
}
