#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <axle/parser.h>
#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include "test_host.h"

namespace {

axle_status_t create_with_isa(const axle::test::LoadedModule &module, const char *isa, std::string *message) {
  axle_config_t cfg;
  cfg.strings["isa"] = isa;
  axle_error_t err;
  void *instance = nullptr;
  const axle_status_t st = module.desc().create(axle::test::host_api(), &cfg, &instance, &err);
  if (st == AXLE_OK) module.desc().destroy(instance);
  *message = err.message;
  return st;
}

}  // namespace

TEST_CASE("parser-simd declares its isa key") {
  axle::test::LoadedModule module(axle::test::module_path("parser", "simd"));
  const axle_module_descriptor_t &d = module.desc();
  CHECK(d.kind == AXLE_KIND_PARSER);
  CHECK(std::strcmp(d.name, "simd") == 0);
  REQUIRE(d.config_key_count == 1);
  CHECK(std::strcmp(d.config_keys[0].name, "isa") == 0);
  CHECK(d.config_keys[0].type == AXLE_CONFIG_STRING);
  CHECK(std::strcmp(d.config_keys[0].default_value, "auto") == 0);
  const auto &vt = module.vtable<axle_parser_vtable_t>();
  const bool all_slots = vt.parse_request && vt.parse_chunk_size && vt.parse_trailers;
  CHECK(all_slots);
}

TEST_CASE("parser-simd accepts auto and scalar everywhere, a forced level only if the CPU has it") {
  axle::test::LoadedModule module(axle::test::module_path("parser", "simd"));
  std::string message;
  CHECK(create_with_isa(module, "auto", &message) == AXLE_OK);
  CHECK(create_with_isa(module, "scalar", &message) == AXLE_OK);
  __builtin_cpu_init();
  const bool has_avx2 = __builtin_cpu_supports("avx2");
  const bool has_sse42 = __builtin_cpu_supports("sse4.2");
  CHECK(create_with_isa(module, "avx2", &message) == (has_avx2 ? AXLE_OK : AXLE_ERR_UNSUPPORTED));
  CHECK(create_with_isa(module, "sse42", &message) == (has_sse42 ? AXLE_OK : AXLE_ERR_UNSUPPORTED));
}

TEST_CASE("parser-simd refuses an unknown isa with a message naming it") {
  axle::test::LoadedModule module(axle::test::module_path("parser", "simd"));
  std::string message;
  CHECK(create_with_isa(module, "avx512", &message) == AXLE_ERR_INVALID);
  CHECK(message.find("\"avx512\"") != std::string::npos);
}

TEST_CASE("parser-simd works without thread_init (NULL thread context)") {
  axle::test::LoadedModule module(axle::test::module_path("parser", "simd"));
  const auto &vt = module.vtable<axle_parser_vtable_t>();
  static const char kRequest[] = "GET /x HTTP/1.1\r\nHost: h\r\n\r\n";
  axle_header_t headers[4];
  axle_request_head_t head{};
  head.struct_size = sizeof head;
  head.headers = headers;
  head.header_capacity = 4;
  const axle_parse_limits_t limits{sizeof limits, 8192, 1024, 16};
  size_t consumed = 0;
  REQUIRE(vt.parse_request(nullptr, kRequest, sizeof kRequest - 1, &limits, &head, &consumed) == AXLE_PARSE_COMPLETE);
  CHECK(consumed == sizeof kRequest - 1);
  CHECK(head.header_count == 1);
}
