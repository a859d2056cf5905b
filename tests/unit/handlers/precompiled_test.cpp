#include "handler_harness.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

using axle::test::Instance;
using axle::test::LoadedModule;
using axle::test::module_path;
using axle::test::TestRequest;
using axle::test::TestRoute;

namespace {

axle_config_t precompiled_config(int64_t status = 200, const std::string &content_type = "text/plain",
                                 const std::string &body = "", const std::string &file = "") {
  axle_config_t cfg;
  cfg.ints = {{"status", status}};
  cfg.strings = {{"content_type", content_type}, {"body", body}, {"file", file}};
  return cfg;
}

// A wire image parsed back into its parts.
struct ParsedImage {
  std::string status_line;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  size_t head_len = 0;

  std::string header(const std::string &name) const {
    for (const auto &[n, v] : headers)
      if (n == name) return v;
    return "";
  }
};

ParsedImage parse_image(const std::string &wire) {
  ParsedImage out;
  const size_t end = wire.find("\r\n\r\n");
  REQUIRE(end != std::string::npos);
  out.head_len = end + 4;
  size_t pos = wire.find("\r\n");
  out.status_line = wire.substr(0, pos);
  pos += 2;
  while (pos < end + 2) {
    const size_t eol = wire.find("\r\n", pos);
    const std::string line = wire.substr(pos, eol - pos);
    const size_t colon = line.find(": ");
    REQUIRE(colon != std::string::npos);
    out.headers.emplace_back(line.substr(0, colon), line.substr(colon + 2));
    pos = eol + 2;
  }
  out.body = wire.substr(out.head_len);
  return out;
}

struct PrecompiledFixture {
  LoadedModule mod{module_path("handler", "precompiled")};
  Instance inst{mod};
};

}  // namespace

TEST_SUITE("precompiled") {
  TEST_CASE_FIXTURE(PrecompiledFixture, "the image is a complete, exact HTTP/1.1 response") {
    TestRoute route(mod, inst, precompiled_config(200, "application/json", "{\"ok\":true}"));
    TestRequest req("GET", "/x");
    auto resp = route.serve(req);
    CHECK(resp->status == 200);
    const std::string expected = "HTTP/1.1 200 OK\r\nServer: axle\r\nContent-Type: application/json\r\n"
                                 "Content-Length: 11\r\nDate: " +
                                 inst.worker().date + "\r\n\r\n{\"ok\":true}";
    CHECK(resp->prebuilt == expected);
    const ParsedImage img = parse_image(resp->prebuilt);
    CHECK(resp->prebuilt_head_len == img.head_len);
    CHECK(img.status_line == "HTTP/1.1 200 OK");
    CHECK(img.header("Content-Length") == std::to_string(img.body.size()));
    CHECK(img.header("Date") == inst.worker().date);
    CHECK(img.header("Connection").empty());  // the host adds it when needed
    CHECK(img.body == "{\"ok\":true}");
  }

  TEST_CASE_FIXTURE(PrecompiledFixture, "status, reason, empty content type and 204") {
    {
      TestRoute route(mod, inst, precompiled_config(404, "", "gone"));
      TestRequest req;
      auto resp = route.serve(req);
      CHECK(resp->status == 404);
      const ParsedImage img = parse_image(resp->prebuilt);
      CHECK(img.status_line == "HTTP/1.1 404 Not Found");
      CHECK(img.header("Content-Type").empty());
      CHECK(img.body == "gone");
    }
    {
      TestRoute route(mod, inst, precompiled_config(299, "text/plain", "odd"));
      TestRequest req;
      CHECK(parse_image(route.serve(req)->prebuilt).status_line == "HTTP/1.1 299 ");
    }
    {
      TestRoute route(mod, inst, precompiled_config(204, "", ""));
      TestRequest req;
      auto resp = route.serve(req);
      const ParsedImage img = parse_image(resp->prebuilt);
      CHECK(img.status_line == "HTTP/1.1 204 No Content");
      CHECK(img.header("Content-Length").empty());
      CHECK(img.body.empty());
    }
  }

  TEST_CASE_FIXTURE(PrecompiledFixture, "file body is read at route_init, relative to the config directory") {
    const auto dir = std::filesystem::temp_directory_path() / ("axle-precompiled-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "page.html", std::ios::binary) << "<h1>hi</h1>";
    auto cfg = precompiled_config(200, "text/html", "", "page.html");
    cfg.base_dir = dir.string();
    TestRoute route(mod, inst, cfg);
    std::filesystem::remove_all(dir);  // the image no longer needs the file
    TestRequest req;
    const ParsedImage img = parse_image(route.serve(req)->prebuilt);
    CHECK(img.body == "<h1>hi</h1>");
    CHECK(img.header("Content-Length") == "11");
    CHECK(img.header("Content-Type") == "text/html");
  }

  TEST_CASE_FIXTURE(PrecompiledFixture, "bad configuration is refused with a message") {
    const std::string fifo =
        (std::filesystem::temp_directory_path() / ("axle-fifo-" + std::to_string(::getpid()))).string();
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    struct Case {
      axle_config_t cfg;
      const char *message;
    };
    const Case cases[] = {
        {precompiled_config(200, "text/plain", "a", "/etc/hostname"), "exclusive"},
        {precompiled_config(99), "status"},
        {precompiled_config(600), "status"},
        {precompiled_config(304), "status"},
        {precompiled_config(204, "", "body"), "204"},
        {precompiled_config(200, "text/plain\r\nX-Evil: 1"), "content_type"},
        {precompiled_config(200, "text/plain", "", "/nonexistent/axle/file"), "/nonexistent/axle/file"},
        {precompiled_config(200, "text/plain", "", "/"), "not a regular file"},
        {precompiled_config(200, "text/plain", "", fifo), "not a regular file"},
    };
    for (const Case &c : cases) {
      TestRoute r(mod, inst, c.cfg);
      CAPTURE(c.message);
      CHECK(r.init_status() == AXLE_ERR_INVALID);
      CHECK(r.init_error().find(c.message) != std::string::npos);
    }
    ::unlink(fifo.c_str());
  }

  TEST_CASE_FIXTURE(PrecompiledFixture, "Date follows the worker's date; lent bytes never change") {
    TestRoute route(mod, inst, precompiled_config(200, "text/plain", "hello"));
    std::vector<std::pair<const void *, size_t>> lent;
    axle::test::set_prebuilt_observer([&](const void *wire, size_t len) { lent.emplace_back(wire, len); });

    TestRequest req;
    auto first = route.serve(req);
    CHECK(parse_image(first->prebuilt).header("Date") == inst.worker().date);
    auto second = route.serve(req);  // same second: the same image, lent twice
    REQUIRE(lent.size() == 2);
    CHECK(lent[0].first == lent[1].first);

    // The worker's clock moves on while both lends are outstanding: a fresh
    // image carries the new date and the lent one stays as it was.
    inst.worker().date = "Thu, 26 Nov 2026 18:40:11 GMT";
    auto third = route.serve(req);
    REQUIRE(lent.size() == 3);
    CHECK(lent[2].first != lent[0].first);
    CHECK(parse_image(third->prebuilt).header("Date") == "Thu, 26 Nov 2026 18:40:11 GMT");
    CHECK(std::string(static_cast<const char *>(lent[0].first), lent[0].second) == first->prebuilt);
    CHECK(parse_image(first->prebuilt).header("Date") == "Thu, 26 Nov 2026 18:40:10 GMT");

    // Once everything is released, the next second patches the image in place.
    first.reset();
    second.reset();
    third.reset();
    inst.worker().date = "Thu, 26 Nov 2026 18:40:12 GMT";
    auto fourth = route.serve(req);
    REQUIRE(lent.size() == 4);
    CHECK(lent[3].first == lent[2].first);
    CHECK(parse_image(fourth->prebuilt).header("Date") == "Thu, 26 Nov 2026 18:40:12 GMT");
    axle::test::set_prebuilt_observer({});
  }

  TEST_CASE_FIXTURE(PrecompiledFixture, "each route has its own image") {
    TestRoute a(mod, inst, precompiled_config(200, "text/plain", "A"));
    TestRoute b(mod, inst, precompiled_config(201, "text/plain", "BB"));
    TestRequest req;
    for (int i = 0; i < 3; ++i) {
      auto ra = a.serve(req);
      auto rb = b.serve(req);
      CHECK(parse_image(ra->prebuilt).body == "A");
      CHECK(parse_image(rb->prebuilt).body == "BB");
      CHECK(rb->status == 201);
    }
  }

  TEST_CASE("lends released after thread_fini free their image") {
    // Destruction order: the instance (thread_fini, destroy) goes before the
    // responses, so the images must be freed by the late releases; valgrind
    // or ASan reports a leak or a use after free if not.
    LoadedModule mod(module_path("handler", "precompiled"));
    std::vector<std::unique_ptr<axle_response_t>> held;
    {
      Instance inst(mod);
      TestRoute route(mod, inst, precompiled_config(200, "text/plain", "late"));
      TestRequest req;
      held.push_back(route.serve(req));
      inst.worker().date = "Thu, 26 Nov 2026 18:40:11 GMT";
      held.push_back(route.serve(req));  // a second image while the first is lent
    }
    CHECK(parse_image(held[0]->prebuilt).body == "late");
    held.clear();
  }
}
