#include "http/module_fields.h"

#include <doctest/doctest.h>

#include <string_view>

namespace {

axle_str_t s(std::string_view v) { return {v.data(), v.size()}; }

}  // namespace

TEST_SUITE("engine") {
TEST_CASE("module fields: response headers, trailers and early hints cannot inject lines or framing") {
  using axle::http::valid_module_field;
  CHECK(valid_module_field(s("Link"), s("</a.css>; rel=preload")));
  CHECK(valid_module_field(s("X-Digest"), s("")));
  CHECK_FALSE(valid_module_field(s(""), s("v")));
  CHECK_FALSE(valid_module_field(s("Bad Name"), s("v")));
  CHECK_FALSE(valid_module_field(s("X-A"), s("v\r\nSet-Cookie: x")));
  CHECK_FALSE(valid_module_field(s("X-A"), s("v\n")));
  CHECK_FALSE(valid_module_field(s("X-A"), s(std::string_view("v\0w", 3))));
  CHECK_FALSE(valid_module_field(s("Content-Length"), s("5")));
  CHECK_FALSE(valid_module_field(s("transfer-encoding"), s("chunked")));
  CHECK_FALSE(valid_module_field(s("Connection"), s("close")));
  axle_header_t ok[] = {{s("A"), s("1")}, {s("B"), s("2")}};
  axle_header_t bad[] = {{s("A"), s("1")}, {s("Date"), s("x")}};
  CHECK(axle::http::valid_module_fields(ok, 2));
  CHECK_FALSE(axle::http::valid_module_fields(bad, 2));
  CHECK(axle::http::valid_module_fields(nullptr, 0));
  CHECK_FALSE(axle::http::valid_module_fields(nullptr, 1));
}
}
