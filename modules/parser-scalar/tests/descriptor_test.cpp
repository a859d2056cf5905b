#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <axle/parser.h>
#include <doctest/doctest.h>

#include <cstring>

#include "test_host.h"

TEST_CASE("parser-scalar descriptor is a complete parser module") {
  axle::test::LoadedModule module(axle::test::module_path("parser", "scalar"));
  const axle_module_descriptor_t &d = module.desc();
  CHECK(d.struct_size == sizeof(axle_module_descriptor_t));
  CHECK(d.abi_minor == AXLE_ABI_MINOR);
  CHECK(d.kind == AXLE_KIND_PARSER);
  CHECK(std::strcmp(d.name, "scalar") == 0);
  CHECK(d.config_key_count == 0);
  const bool has_thread_init = d.thread_init != nullptr;
  CHECK_FALSE(has_thread_init);
  const auto &vt = module.vtable<axle_parser_vtable_t>();
  CHECK(vt.struct_size == sizeof(axle_parser_vtable_t));
  const bool all_slots = vt.parse_request && vt.parse_chunk_size && vt.parse_trailers;
  CHECK(all_slots);
  axle::test::Instance instance(module);
  CHECK(instance.get() != nullptr);
}

TEST_CASE("parser-scalar refuses a caller's bad arguments without crashing") {
  axle::test::LoadedModule module(axle::test::module_path("parser", "scalar"));
  const auto &vt = module.vtable<axle_parser_vtable_t>();
  axle_request_head_t head{};
  head.struct_size = sizeof head;
  size_t consumed = 99;
  CHECK(vt.parse_request(nullptr, "GET / HTTP/1.1\r\n\r\n", 18, nullptr, &head, &consumed) == AXLE_PARSE_ERROR);
  CHECK(head.error_status == 500);
  CHECK(consumed == 0);
}
