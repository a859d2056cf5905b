#include "static_fixture.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace static_test;

TEST_SUITE("static") {
  TEST_CASE_FIXTURE(StaticFixture, "serves a file with type, validators and Accept-Ranges") {
    tree.write("hello.txt", "hello, world\n");
    auto r = route();
    auto resp = get(*r, "/hello.txt");
    CHECK(resp->status == 200);
    CHECK(resp->file_fd >= 0);
    CHECK(resp->file_offset == 0);
    CHECK(resp->file_length == 13);
    CHECK(resp->file_contents() == "hello, world\n");
    CHECK((::fcntl(resp->file_fd, F_GETFL) & O_NONBLOCK) == 0);  // the host may read it blocking
    CHECK(resp->header("Content-Type") == "text/plain; charset=utf-8");
    CHECK(resp->header("Accept-Ranges") == "bytes");
    const std::string etag = resp->header("ETag");
    CHECK(etag.size() > 2);
    CHECK(etag.front() == '"');
    CHECK(etag.back() == '"');
    CHECK(resp->header("Last-Modified").size() == 29);
    CHECK(resp->header("Last-Modified").ends_with(" GMT"));
    CHECK(resp->header("Cache-Control").empty());
  }

  TEST_CASE_FIXTURE(StaticFixture, "ETag changes when the file changes") {
    tree.write("f.txt", "one");
    auto r = route();
    const std::string before = get(*r, "/f.txt")->header("ETag");
    tree.write("f.txt", "three");
    CHECK(get(*r, "/f.txt")->header("ETag") != before);
  }

  TEST_CASE_FIXTURE(StaticFixture, "max_age adds Cache-Control") {
    tree.write("a.css", "body{}");
    auto r = route(3600);
    auto resp = get(*r, "/a.css");
    CHECK(resp->header("Cache-Control") == "max-age=3600");
    CHECK(get(*r, "/a.css", {{"If-None-Match", resp->header("ETag")}})->header("Cache-Control") == "max-age=3600");
  }

  TEST_CASE_FIXTURE(StaticFixture, "the wildcard parameter names the file when present") {
    tree.write("a.txt", "A");
    auto r = std::make_unique<TestRoute>(mod, inst, static_config(tree.dir().string()), "/assets/*");
    TestRequest req("GET", "/assets/a.txt");
    req.param("*", "a.txt");
    auto resp = r->serve(req);
    CHECK(resp->status == 200);
    CHECK(resp->file_contents() == "A");
  }

  TEST_CASE_FIXTURE(StaticFixture, "relative root resolves against the config directory") {
    tree.write("site/x.txt", "X");
    auto cfg = static_config("site");
    cfg.base_dir = tree.dir().string();
    TestRoute r(mod, inst, cfg);
    CHECK(get(r, "/x.txt")->file_contents() == "X");
  }

  TEST_CASE_FIXTURE(StaticFixture, "directory with trailing slash serves its index") {
    tree.write("index.html", "<h1>root</h1>");
    tree.write("sub/index.html", "<h1>sub</h1>");
    auto r = route();
    auto root = get(*r, "/");
    CHECK(root->status == 200);
    CHECK(root->file_contents() == "<h1>root</h1>");
    CHECK(root->header("Content-Type") == "text/html; charset=utf-8");
    auto sub = get(*r, "/sub/");
    CHECK(sub->status == 200);
    CHECK(sub->file_contents() == "<h1>sub</h1>");
  }

  TEST_CASE_FIXTURE(StaticFixture, "directory without index is 404, never a listing") {
    tree.write("empty/notindex.txt", "x");
    auto r = route();
    auto resp = get(*r, "/empty/");
    CHECK(resp->status == 404);
    CHECK(resp->file_fd < 0);
  }

  TEST_CASE_FIXTURE(StaticFixture, "directory without trailing slash redirects, keeping the query") {
    tree.write("sub/index.html", "x");
    tree.mkdir("a b");
    auto r = route();
    TestRequest req("GET", "/sub");
    req.query = "x=1&y=2";
    auto resp = r->serve(req);
    CHECK(resp->status == 301);
    CHECK(resp->header("Location") == "/sub/?x=1&y=2");
    CHECK(resp->file_fd < 0);
    // The decoded path is encoded again for the header.
    CHECK(get(*r, "/a b")->header("Location") == "/a%20b/");
  }

  TEST_CASE_FIXTURE(StaticFixture, "missing file is 404") {
    auto r = route();
    auto resp = get(*r, "/nope.txt");
    CHECK(resp->status == 404);
    CHECK(resp->file_fd < 0);
    CHECK(get(*r, "/nope/deeper.txt")->status == 404);
  }

  TEST_CASE_FIXTURE(StaticFixture, "a file below a regular file is 404") {
    tree.write("file.txt", "x");
    auto r = route();
    CHECK(get(*r, "/file.txt/more")->status == 404);
    CHECK(get(*r, "/file.txt/")->status == 404);
  }

  TEST_CASE_FIXTURE(StaticFixture, "dot-dot, NUL and backslash are refused") {
    tree.write("inside.txt", "in");
    TempTree outside;
    outside.write("secret.txt", "secret");
    const std::string up = "/../" + outside.dir().filename().string() + "/secret.txt";
    auto r = route();
    CHECK(get(*r, up)->status == 404);
    CHECK(get(*r, "/sub/../inside.txt")->status == 404);
    CHECK(get(*r, "/..")->status == 404);
    CHECK(get(*r, std::string("/inside.txt\0.png", 16))->status == 404);
    CHECK(get(*r, "/..\\inside.txt")->status == 404);
    // In the wildcard parameter too.
    TestRequest req("GET", "/x");
    req.param("*", "../" + outside.dir().filename().string() + "/secret.txt");
    auto resp = r->serve(req);
    CHECK(resp->status == 404);
    CHECK(resp->file_fd < 0);
  }

  TEST_CASE_FIXTURE(StaticFixture, "symlinks leaving the root are refused, those inside are served") {
    tree.write("real/data.txt", "data");
    tree.symlink("/etc/passwd", "passwd");
    tree.symlink("/etc", "etc");
    tree.symlink("real/data.txt", "alias.txt");
    TempTree outside;
    outside.write("secret.txt", "secret");
    tree.symlink("../" + outside.dir().filename().string() + "/secret.txt", "relative-escape");
    tree.symlink("real", "realdir");
    auto r = route();
    auto escaped = get(*r, "/passwd");
    CHECK(escaped->status == 404);
    CHECK(escaped->file_fd < 0);
    CHECK(get(*r, "/etc/passwd")->status == 404);
    CHECK(get(*r, "/relative-escape")->status == 404);
    auto alias = get(*r, "/alias.txt");
    CHECK(alias->status == 200);
    CHECK(alias->file_contents() == "data");
    CHECK(get(*r, "/realdir/data.txt")->file_contents() == "data");
  }

  TEST_CASE_FIXTURE(StaticFixture, "only regular files: a FIFO is 404 and does not block") {
    REQUIRE(::mkfifo((tree.dir() / "pipe").c_str(), 0600) == 0);
    auto r = route();
    CHECK(get(*r, "/pipe")->status == 404);
  }

  TEST_CASE_FIXTURE(StaticFixture, "an empty file is 200 with no body handed over") {
    tree.write("empty.txt", "");
    auto r = route();
    auto resp = get(*r, "/empty.txt");
    CHECK(resp->status == 200);
    CHECK(resp->file_fd < 0);
    CHECK(resp->header("Content-Type") == "text/plain; charset=utf-8");
  }

  TEST_CASE_FIXTURE(StaticFixture, "If-None-Match: match, list, weak, star and mismatch") {
    tree.write("f.js", "let x;");
    auto r = route();
    const std::string etag = get(*r, "/f.js")->header("ETag");
    auto exact = get(*r, "/f.js", {{"If-None-Match", etag}});
    CHECK(exact->status == 304);
    CHECK(exact->file_fd < 0);
    CHECK(exact->header("ETag") == etag);
    CHECK(get(*r, "/f.js", {{"If-None-Match", "\"zzz\", W/" + etag}})->status == 304);
    CHECK(get(*r, "/f.js", {{"If-None-Match", "*"}})->status == 304);
    CHECK(get(*r, "/f.js", {{"If-None-Match", "\"other\""}})->status == 200);
    // HEAD is conditional too.
    CHECK(get(*r, "/f.js", {{"If-None-Match", etag}}, "HEAD")->status == 304);
  }

  TEST_CASE_FIXTURE(StaticFixture, "If-Modified-Since") {
    tree.write("f.txt", "x");
    auto r = route();
    const std::string last_modified = get(*r, "/f.txt")->header("Last-Modified");
    CHECK(get(*r, "/f.txt", {{"If-Modified-Since", last_modified}})->status == 304);
    CHECK(get(*r, "/f.txt", {{"If-Modified-Since", "Fri, 01 Jan 2100 00:00:00 GMT"}})->status == 304);
    CHECK(get(*r, "/f.txt", {{"If-Modified-Since", "Thu, 01 Jan 1970 00:00:00 GMT"}})->status == 200);
    // The obsolete forms are accepted too.
    CHECK(get(*r, "/f.txt", {{"If-Modified-Since", "Friday, 01-Jan-99 00:00:00 GMT"}})->status == 200);
    CHECK(get(*r, "/f.txt", {{"If-Modified-Since", "Fri Jan  1 00:00:00 2100"}})->status == 304);
    // A broken date is ignored.
    CHECK(get(*r, "/f.txt", {{"If-Modified-Since", "yesterday"}})->status == 200);
    // If-None-Match takes precedence: a mismatching tag wins over a fresh date.
    CHECK(get(*r, "/f.txt", {{"If-None-Match", "\"nope\""}, {"If-Modified-Since", last_modified}})->status == 200);
  }

  TEST_CASE_FIXTURE(StaticFixture, "If-Match and If-Unmodified-Since fail with 412") {
    tree.write("f.txt", "x");
    auto r = route();
    auto ok = get(*r, "/f.txt");
    CHECK(get(*r, "/f.txt", {{"If-Match", ok->header("ETag")}})->status == 200);
    CHECK(get(*r, "/f.txt", {{"If-Match", "W/" + ok->header("ETag")}})->status == 412);
    CHECK(get(*r, "/f.txt", {{"If-Match", "\"old\""}})->status == 412);
    CHECK(get(*r, "/f.txt", {{"If-Unmodified-Since", "Thu, 01 Jan 1970 00:00:00 GMT"}})->status == 412);
    CHECK(get(*r, "/f.txt", {{"If-Unmodified-Since", ok->header("Last-Modified")}})->status == 200);
  }

  TEST_CASE_FIXTURE(StaticFixture, "Range: a-b, a-, -n") {
    tree.write("digits.txt", "0123456789");
    auto r = route();
    auto a_b = get(*r, "/digits.txt", {{"Range", "bytes=2-5"}});
    CHECK(a_b->status == 206);
    CHECK(a_b->header("Content-Range") == "bytes 2-5/10");
    CHECK(a_b->file_offset == 2);
    CHECK(a_b->file_length == 4);
    CHECK(a_b->file_contents() == "2345");
    CHECK(a_b->header("ETag").size() > 2);

    auto open_end = get(*r, "/digits.txt", {{"Range", "bytes=7-"}});
    CHECK(open_end->status == 206);
    CHECK(open_end->header("Content-Range") == "bytes 7-9/10");
    CHECK(open_end->file_contents() == "789");

    auto suffix = get(*r, "/digits.txt", {{"Range", "bytes=-3"}});
    CHECK(suffix->status == 206);
    CHECK(suffix->header("Content-Range") == "bytes 7-9/10");
    CHECK(suffix->file_contents() == "789");

    // Clamped to the file.
    CHECK(get(*r, "/digits.txt", {{"Range", "bytes=8-100"}})->header("Content-Range") == "bytes 8-9/10");
    CHECK(get(*r, "/digits.txt", {{"Range", "bytes=-50"}})->header("Content-Range") == "bytes 0-9/10");
    CHECK(get(*r, "/digits.txt", {{"Range", "BYTES=0-0"}})->file_contents() == "0");
  }

  TEST_CASE_FIXTURE(StaticFixture, "Range past the end is 416 with the size") {
    tree.write("digits.txt", "0123456789");
    auto r = route();
    for (const char *range : {"bytes=10-", "bytes=10-20", "bytes=-0", "bytes=99999999999999999999999-"}) {
      CAPTURE(range);
      auto resp = get(*r, "/digits.txt", {{"Range", range}});
      CHECK(resp->status == 416);
      CHECK(resp->header("Content-Range") == "bytes */10");
      CHECK(resp->file_fd < 0);
    }
  }

  TEST_CASE_FIXTURE(StaticFixture, "multiple or malformed ranges are ignored: 200 whole file") {
    tree.write("digits.txt", "0123456789");
    auto r = route();
    for (const char *range : {"bytes=0-1,3-4", "bytes=5-2", "bytes=abc", "bytes=", "bytes=-", "items=0-1", "0-1",
                              "bytes=1-2-3", "bytes=+1-2"}) {
      CAPTURE(range);
      auto resp = get(*r, "/digits.txt", {{"Range", range}});
      CHECK(resp->status == 200);
      CHECK(resp->file_contents() == "0123456789");
      CHECK(resp->header("Content-Range").empty());
    }
  }

  TEST_CASE_FIXTURE(StaticFixture, "If-Range decides between the range and the whole file") {
    tree.write("digits.txt", "0123456789");
    auto r = route();
    auto full = get(*r, "/digits.txt");
    const std::string etag = full->header("ETag");
    const std::string last_modified = full->header("Last-Modified");
    CHECK(get(*r, "/digits.txt", {{"Range", "bytes=0-1"}, {"If-Range", etag}})->status == 206);
    CHECK(get(*r, "/digits.txt", {{"Range", "bytes=0-1"}, {"If-Range", "\"stale\""}})->status == 200);
    CHECK(get(*r, "/digits.txt", {{"Range", "bytes=0-1"}, {"If-Range", "W/" + etag}})->status == 200);
    CHECK(get(*r, "/digits.txt", {{"Range", "bytes=0-1"}, {"If-Range", last_modified}})->status == 206);
    CHECK(get(*r, "/digits.txt", {{"Range", "bytes=0-1"}, {"If-Range", "Thu, 01 Jan 1970 00:00:00 GMT"}})->status ==
          200);
  }

  TEST_CASE_FIXTURE(StaticFixture, "Content-Type by extension") {
    const std::pair<const char *, const char *> cases[] = {
        {"a.html", "text/html; charset=utf-8"},
        {"a.htm", "text/html; charset=utf-8"},
        {"a.css", "text/css; charset=utf-8"},
        {"a.js", "text/javascript; charset=utf-8"},
        {"a.mjs", "text/javascript; charset=utf-8"},
        {"a.json", "application/json"},
        {"a.svg", "image/svg+xml"},
        {"a.png", "image/png"},
        {"A.PNG", "image/png"},
        {"a.jpeg", "image/jpeg"},
        {"a.wasm", "application/wasm"},
        {"a.woff2", "font/woff2"},
        {"a.tar.gz", "application/gzip"},
        {"a.unknownext", "application/octet-stream"},
        {"Makefile", "application/octet-stream"},
        {".hidden", "application/octet-stream"},
    };
    for (const auto &[name, type] : cases) tree.write(name, "x");
    auto r = route();
    for (const auto &c : cases) {
      CAPTURE(c.first);
      CHECK(get(*r, std::string("/") + c.first)->header("Content-Type") == c.second);
    }
  }

  TEST_CASE_FIXTURE(StaticFixture, "HEAD gets the same head as GET and ignores Range") {
    tree.write("page.html", "<p>hi</p>");
    auto r = route();
    auto g = get(*r, "/page.html");
    auto h = get(*r, "/page.html", {}, "HEAD");
    CHECK(h->status == g->status);
    CHECK(h->headers == g->headers);
    CHECK(h->file_length == g->file_length);  // the host takes Content-Length from it
    auto hr = get(*r, "/page.html", {{"Range", "bytes=0-1"}}, "HEAD");
    CHECK(hr->status == 200);
    CHECK(hr->headers == g->headers);
  }

  TEST_CASE_FIXTURE(StaticFixture, "other methods are 405 with Allow") {
    tree.write("f.txt", "x");
    auto r = route();
    for (const char *method : {"POST", "PUT", "DELETE", "OPTIONS", "BREW"}) {
      CAPTURE(method);
      auto resp = get(*r, "/f.txt", {}, method);
      CHECK(resp->status == 405);
      CHECK(resp->header("Allow") == "GET, HEAD");
      CHECK(resp->file_fd < 0);
    }
  }

  TEST_CASE("missing root: welcome page with fallback, clear failure without") {
    LoadedModule mod(module_path("handler", "static"));
    Instance inst(mod);
    TempTree tree;
    const std::string missing = (tree.dir() / "no-such-dir").string();

    TestRoute failing(mod, inst, static_config(missing));
    CHECK(failing.init_status() == AXLE_ERR_INVALID);
    CHECK(failing.init_error().find("does not exist") != std::string::npos);
    CHECK(failing.init_error().find(missing) != std::string::npos);

    TestRoute welcome(mod, inst, static_config(missing, "welcome"));
    REQUIRE(welcome.init_status() == AXLE_OK);
    for (const char *path : {"/", "/index.html"}) {
      CAPTURE(path);
      auto resp = get(welcome, path);
      CHECK(resp->status == 200);
      CHECK(resp->header("Content-Type") == "text/html; charset=utf-8");
      CHECK(resp->body.find("<html") != std::string::npos);
    }
    CHECK(get(welcome, "/other.html")->status == 404);
    CHECK(get(welcome, "/", {}, "POST")->status == 405);
  }

  TEST_CASE_FIXTURE(StaticFixture, "fallback welcome changes nothing while the root exists") {
    tree.write("index.html", "mine");
    TestRoute r(mod, inst, static_config(tree.dir().string(), "welcome"));
    CHECK(get(r, "/")->file_contents() == "mine");
    CHECK(get(r, "/other.html")->status == 404);
  }

  TEST_CASE("bad route configuration is refused with a message") {
    LoadedModule mod(module_path("handler", "static"));
    Instance inst(mod);
    TempTree tree;
    const std::string file = tree.write("file.txt", "x").string();
    const std::string dir = tree.dir().string();
    struct Case {
      axle_config_t cfg;
      const char *message;
    };
    const Case cases[] = {
        {static_config(file), "not a directory"},
        {static_config(file, "welcome"), "not a directory"},
        {static_config(""), "non-empty"},
        {static_config(dir, "please"), "fallback"},
        {static_config(dir, "", -1), "max_age"},
        {static_config(dir, "", 0, "../index.html"), "index"},
        {static_config(dir, "", 0, "a/b.html"), "index"},
        {static_config(dir, "", 0, "index.html", {.entries = -1}), "cache_entries"},
        {static_config(dir, "", 0, "index.html", {.entries = 1 << 20}), "cache_entries"},
        {static_config(dir, "", 0, "index.html", {.valid_ms = -5}), "cache_valid_ms"},
        {static_config(dir, "", 0, "index.html", {.memory_max = -1}), "memory_max_bytes"},
        {static_config(dir, "", 0, "index.html", {.memory_cache = int64_t{1} << 40}), "memory_cache_bytes"},
    };
    for (const Case &c : cases) {
      TestRoute r(mod, inst, c.cfg);
      CAPTURE(c.message);
      CHECK(r.init_status() == AXLE_ERR_INVALID);
      CHECK(r.init_error().find(c.message) != std::string::npos);
    }
  }
}
