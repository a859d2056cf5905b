// [modules] tls and [tls]: the transport's listeners, its options, and every
// error with the "file:line: key: what" the operator will see.
#include "config.h"
#include "config_parse.h"

#include <doctest/doctest.h>

#include <string>

namespace {

using config_parse::error_of;
using config_parse::parse_ok;

const std::string kListen = "[server]\nlisten = [\"127.0.0.1:8080\"]\n";  // lines 1-2

}  // namespace

TEST_SUITE("config_tls") {

TEST_CASE("no [tls]: cleartext only") {
  auto cfg = parse_ok(kListen);
  CHECK(cfg.tls.empty());
  CHECK(cfg.tls_listen.empty());
  CHECK(cfg.tls_options.values.empty());
}

TEST_CASE("[tls] listen is the kernel's, every other key the transport's") {
  auto cfg = parse_ok(kListen + R"([modules]
tls = "openssl"
[tls]
listen = ["127.0.0.1:8443", "[::1]:0", "127.0.0.1:0"]
certificate = "server.crt"
key = "server.key"
session_tickets = true
handshake_timeout_ms = 5000
)");
  CHECK(cfg.tls == "openssl");
  CHECK(cfg.module_positions.at("tls").str() == "t.toml:4");
  REQUIRE(cfg.tls_listen.size() == 3);
  CHECK(cfg.tls_listen[0].text() == "127.0.0.1:8443");
  CHECK(cfg.tls_listen[1].text() == "[::1]:0");
  CHECK(cfg.tls_options.path == "tls");
  CHECK(cfg.tls_options.values.count("listen") == 0);
  CHECK(std::get<std::string>(cfg.tls_options.values.at("certificate")) == "server.crt");
  CHECK(std::get<bool>(cfg.tls_options.values.at("session_tickets")));
  CHECK(std::get<int64_t>(cfg.tls_options.values.at("handshake_timeout_ms")) == 5000);
  CHECK(cfg.tls_options.positions.at("key").str() == "t.toml:8");
  CHECK(cfg.listen.size() == 1);  // server.listen untouched
}

TEST_CASE("[tls] and [modules] tls come together") {
  CHECK(error_of(kListen + "[tls]\nlisten = [\"127.0.0.1:8443\"]\n") ==
        "t.toml:3: tls: [tls] needs [modules] tls = \"NAME\", the transport module that serves it");
  CHECK(error_of(kListen + "[modules]\ntls = \"openssl\"\n") ==
        "t.toml:4: modules.tls: needs a [tls] table with listen = [\"HOST:PORT\", ...]");
  CHECK(error_of(kListen + "[modules]\ntls = \"openssl\"\n[tls]\ncertificate = \"a.crt\"\n") ==
        "t.toml:5: tls.listen: required key missing (the addresses to serve with TLS)");
}

TEST_CASE("HTTPS only: [tls] listen without cleartext listeners") {
  const std::string tls = "[modules]\ntls = \"openssl\"\n[tls]\nlisten = [\"127.0.0.1:8443\"]\n";
  for (const std::string &server : {std::string(), std::string("[server]\nlisten = []\n")}) {
    axle::Config cfg = parse_ok(server + tls);
    CHECK(cfg.listen.empty());
    CHECK(cfg.tls_listen.size() == 1);
  }
}

TEST_CASE("[tls] errors name file, line and key") {
  const std::string head = kListen + "[modules]\ntls = \"openssl\"\n[tls]\n";  // [tls] is line 5
  CHECK(error_of(head + "listen = []\n") == "t.toml:6: tls.listen: at least one listen address is required");
  CHECK(error_of(head + "listen = \"127.0.0.1:8443\"\n") ==
        "t.toml:6: tls.listen: expected an array of \"HOST:PORT\" strings, got \"127.0.0.1:8443\"");
  CHECK(error_of(head + "listen = [\"127.0.0.1:8443\", \"localhost:1\"]\n").starts_with(
      "t.toml:6: tls.listen[1]: invalid listen address \"localhost:1\""));
  CHECK(error_of(head + "listen = [\"127.0.0.1:8443\", \"127.0.0.1:8443\"]\n") ==
        "t.toml:6: tls.listen[1]: duplicate listen address 127.0.0.1:8443");
  CHECK(error_of(head + "listen = [\"127.0.0.1:0\", \"127.0.0.1:8080\"]\n") ==
        "t.toml:6: tls.listen[1]: 127.0.0.1:8080 is also in server.listen");
  CHECK(error_of(head + "listen = [\"127.0.0.1:8443\"]\nciphers = 1.5\n") ==
        "t.toml:7: tls.ciphers: expected a string, integer, boolean or array of strings, got a float (1.5)");
  CHECK(error_of(kListen + "[modules]\ntls = \"../x\"\n[tls]\nlisten = [\"127.0.0.1:1\"]\n") ==
        "t.toml:4: modules.tls: invalid module name \"../x\" (letters, digits, '_' and '-' only)");
  CHECK(error_of(head + "listen = [\"127.0.0.1:8443\"]\n[module.openssl]\nkey = \"k\"\n") ==
        "t.toml:7: module.openssl: a transport's options go in [tls]");
}

TEST_CASE("port 0 may repeat, as in server.listen") {
  auto cfg = parse_ok(kListen + "[modules]\ntls = \"x\"\n[tls]\nlisten = [\"127.0.0.1:0\", \"127.0.0.1:0\"]\n");
  CHECK(cfg.tls_listen.size() == 2);
}

}  // TEST_SUITE
