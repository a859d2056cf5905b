// The ABI as C++ sees it must match the pinned numbers (abi_pins.inc), the
// same ones the C11 build checks, so a layout edit cannot slip through.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <axle/alloc.h>
#include <axle/handler.h>
#include <axle/io.h>
#include <axle/metrics.h>
#include <axle/module.h>
#include <axle/parser.h>
#include <axle/router.h>
#include <axle/transport.h>

#include <doctest/doctest.h>

#include <cstddef>
#include <cstring>
#include <type_traits>

#if !defined(__LP64__) || !defined(__linux__)
#error "the ABI pins are written for LP64 Linux"
#endif

#define AXLE_PIN_VALUE(name, value) static_assert((name) == (value), #name " changed: see abi_pins.inc");
#define AXLE_PIN_SIZE(type, bytes) static_assert(sizeof(type) == (bytes), "sizeof(" #type ") changed: see abi_pins.inc");
#define AXLE_PIN_OFFSET(type, field, bytes) \
  static_assert(offsetof(type, field) == (bytes), "offsetof(" #type ", " #field ") changed: see abi_pins.inc");
#include "abi_pins.inc"

namespace {

// Every struct crossing the boundary must be plain data: no constructors,
// no virtuals, the same layout in C and C++.
template <class... T>
constexpr bool all_plain = (... && (std::is_standard_layout_v<T> && std::is_trivial_v<T>));

static_assert(all_plain<axle_str_t, axle_config_key_t, axle_host_api_t, axle_module_descriptor_t, axle_iov_t,
                        axle_io_events_t, axle_io_loop_options_t, axle_io_vtable_t, axle_address_t, axle_alloc_stats_t,
                        axle_alloc_vtable_t, axle_header_t, axle_parse_limits_t, axle_request_head_t,
                        axle_parser_vtable_t, axle_route_spec_t, axle_route_param_t, axle_route_match_t,
                        axle_router_vtable_t, axle_request_t, axle_handler_vtable_t, axle_request_record_t,
                        axle_module_info_t, axle_metrics_generation_t, axle_metrics_vtable_t,
                        axle_outgoing_events_t, axle_metric_sample_t, axle_response_hooks_t,
                        axle_config_section_t, axle_transport_conn_options_t, axle_transport_info_t,
                        axle_transport_vtable_t>);

}  // namespace

TEST_SUITE("abi") {

TEST_CASE("the entry symbol name and version are pinned") {
  CHECK(std::strcmp(AXLE_ENTRY_SYMBOL, "axle_module_entry") == 0);
  CHECK(AXLE_ABI_MAJOR == 1);
  CHECK(AXLE_ABI_MINOR == 3);
}

TEST_CASE("every sized struct starts with its uint32_t struct_size") {
  CHECK(offsetof(axle_host_api_t, struct_size) == 0);
  CHECK(offsetof(axle_module_descriptor_t, struct_size) == 0);
  CHECK(std::is_same_v<decltype(axle_module_descriptor_t::struct_size), uint32_t>);
  CHECK(std::is_same_v<decltype(axle_io_vtable_t::struct_size), uint32_t>);
  CHECK(std::is_same_v<decltype(axle_alloc_vtable_t::struct_size), uint32_t>);
  CHECK(std::is_same_v<decltype(axle_parser_vtable_t::struct_size), uint32_t>);
  CHECK(std::is_same_v<decltype(axle_router_vtable_t::struct_size), uint32_t>);
  CHECK(std::is_same_v<decltype(axle_handler_vtable_t::struct_size), uint32_t>);
  CHECK(std::is_same_v<decltype(axle_metrics_vtable_t::struct_size), uint32_t>);
  CHECK(std::is_same_v<decltype(axle_address_t::struct_size), uint32_t>);
  CHECK(std::is_same_v<decltype(axle_outgoing_events_t::struct_size), uint32_t>);
  CHECK(std::is_same_v<decltype(axle_metric_sample_t::struct_size), uint32_t>);
  CHECK(std::is_same_v<decltype(axle_response_hooks_t::struct_size), uint32_t>);
  CHECK(std::is_same_v<decltype(axle_transport_vtable_t::struct_size), uint32_t>);
  CHECK(std::is_same_v<decltype(axle_transport_conn_options_t::struct_size), uint32_t>);
  CHECK(std::is_same_v<decltype(axle_transport_info_t::struct_size), uint32_t>);
}

TEST_CASE("AXLE_STRUCT_HAS tells a 1.1 host table and request from 1.2 ones") {
  // What a 1.2 module sees from a 1.1 host: the table ends after response_prebuilt.
  axle_host_api_t host{};
  host.struct_size = offsetof(axle_host_api_t, response_prebuilt) + sizeof host.response_prebuilt;
  CHECK(AXLE_STRUCT_HAS(&host, axle_host_api_t, response_prebuilt));
  CHECK_FALSE(AXLE_STRUCT_HAS(&host, axle_host_api_t, response_keep));
  host.struct_size = sizeof host;
  CHECK(AXLE_STRUCT_HAS(&host, axle_host_api_t, metrics_collect));
  // A 1.1 request ends with worker; flags sits in the 1.2 tail.
  axle_request_t req{};
  req.struct_size = offsetof(axle_request_t, worker) + sizeof req.worker;
  CHECK_FALSE(AXLE_STRUCT_HAS(&req, axle_request_t, request_id));
  CHECK_FALSE(AXLE_STRUCT_HAS(&req, axle_request_t, flags));
  req.struct_size = sizeof req;
  CHECK(AXLE_STRUCT_HAS(&req, axle_request_t, flags));
}

TEST_CASE("AXLE_STRUCT_HAS tells a 1.2 host table and descriptor from 1.3 ones") {
  // What a 1.3 module sees from a 1.2 host: the table ends after response_cancel.
  axle_host_api_t host{};
  host.struct_size = offsetof(axle_host_api_t, response_cancel) + sizeof host.response_cancel;
  CHECK(AXLE_STRUCT_HAS(&host, axle_host_api_t, response_cancel));
  CHECK_FALSE(AXLE_STRUCT_HAS(&host, axle_host_api_t, config_get_string_list));
  CHECK_FALSE(AXLE_STRUCT_HAS(&host, axle_host_api_t, response_switch_protocols));
  host.struct_size = sizeof host;
  CHECK(AXLE_STRUCT_HAS(&host, axle_host_api_t, response_switch_protocols));
  // A 1.2 descriptor ends with vtable: no sections.
  axle_module_descriptor_t d{};
  d.struct_size = offsetof(axle_module_descriptor_t, vtable) + sizeof d.vtable;
  CHECK_FALSE(AXLE_STRUCT_HAS(&d, axle_module_descriptor_t, config_sections));
  d.struct_size = sizeof d;
  CHECK(AXLE_STRUCT_HAS(&d, axle_module_descriptor_t, config_section_count));
}

TEST_CASE("axle_request_find_header (header-only helper) is case-insensitive") {
  axle_header_t headers[] = {{{"Host", 4}, {"a", 1}}, {{"content-TYPE", 12}, {"text/plain", 10}}};
  axle_request_t req{};
  req.struct_size = sizeof req;
  req.headers = headers;
  req.header_count = 2;
  const axle_header_t *found = axle_request_find_header(&req, "Content-Type", 12);
  REQUIRE(found);
  CHECK(found == &headers[1]);
  CHECK(axle_request_find_header(&req, "HOST", 4) == &headers[0]);
  CHECK(axle_request_find_header(&req, "Hos", 3) == nullptr);
  CHECK(axle_request_find_header(&req, "Accept", 6) == nullptr);
}

}  // TEST_SUITE
