// Upstream server entries: "IP:PORT[ weight=N]".
#include "upstream_config.h"

#include <doctest/doctest.h>

using namespace axle::proxy;

TEST_CASE("valid server entries") {
  ServerSpec s;
  axle_address_t a{};
  std::string why;
  REQUIRE(parse_server("127.0.0.1:9001", s, a, why));
  CHECK(s.text == "127.0.0.1:9001");
  CHECK(s.weight == 1);
  CHECK(a.family == AXLE_ADDR_IPV4);
  CHECK(a.port == 9001);
  CHECK(a.addr[0] == 127);
  REQUIRE(parse_server("127.0.0.1:9002 weight=2", s, a, why));
  CHECK(s.weight == 2);
  REQUIRE(parse_server("[::1]:80 weight=256", s, a, why));
  CHECK(a.family == AXLE_ADDR_IPV6);
  CHECK(a.addr[15] == 1);
  CHECK(s.weight == 256);
}

TEST_CASE("invalid server entries say why") {
  for (const char *bad : {"localhost:80", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:80 weight=0",
                          "127.0.0.1:80 weight=257", "127.0.0.1:80 w=2", "::1:80", "[::1]80", "[nothost]:80",
                          "1.2.3.4:80x", ""}) {
    ServerSpec s;
    axle_address_t a{};
    std::string why;
    CAPTURE(bad);
    CHECK(!parse_server(bad, s, a, why));
    CHECK(!why.empty());
  }
}
