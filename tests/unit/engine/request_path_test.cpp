#include "http/request_path.h"

#include <doctest/doctest.h>

#include <string>

namespace {

std::string normalized(std::string_view raw) {
  std::string out;
  REQUIRE_MESSAGE(axle::http::normalize_request_path(raw, out), "refused: " << raw);
  return out;
}

bool refused(std::string_view raw) {
  std::string out;
  return !axle::http::normalize_request_path(raw, out);
}

}  // namespace

TEST_SUITE("request_path") {
  TEST_CASE("plain paths pass through") {
    CHECK(normalized("/") == "/");
    CHECK(normalized("/ping") == "/ping");
    CHECK(normalized("/a/b/c") == "/a/b/c");
    CHECK(normalized("/dir/") == "/dir/");
    CHECK(normalized("") == "/");  // absolute-form without a path
  }

  TEST_CASE("percent escapes are decoded") {
    CHECK(normalized("/hello%20world") == "/hello world");
    CHECK(normalized("/%41%62") == "/Ab");
    CHECK(normalized("/a%2Fb") == "/a/b");  // an encoded slash separates segments like a real one
  }

  TEST_CASE("dot segments are removed and never climb above the root") {
    CHECK(normalized("/a/./b") == "/a/b");
    CHECK(normalized("/a/../b") == "/b");
    CHECK(normalized("/a/b/..") == "/a/");
    CHECK(normalized("/a/b/.") == "/a/b/");
    CHECK(normalized("/../../etc/passwd") == "/etc/passwd");
    CHECK(normalized("/static/../../etc/passwd") == "/etc/passwd");
    CHECK(normalized("/static/%2e%2e/%2e%2e/etc/passwd") == "/etc/passwd");
    CHECK(normalized("/static/..%2f..%2fetc/passwd") == "/etc/passwd");
    CHECK(normalized("/static/%2E%2E/x") == "/x");
    CHECK(normalized("/..") == "/");
  }

  TEST_CASE("double encoding decodes once only") {
    // %252e is "%2e" after one decode: a literal name, not a dot segment.
    CHECK(normalized("/static/%252e%252e/etc") == "/static/%2e%2e/etc");
  }

  TEST_CASE("repeated slashes merge") {
    CHECK(normalized("//a///b") == "/a/b");
  }

  TEST_CASE("malformed input is refused") {
    CHECK(refused("relative/path"));
    CHECK(refused("/bad%"));
    CHECK(refused("/bad%4"));
    CHECK(refused("/bad%zz"));
    CHECK(refused("/nul%00byte"));
  }
}
