// Config parsing: a full valid file, the embedded default, and every kind of
// error with the exact "file:line: key: what" the operator will see.
#include "config.h"
#include "config_parse.h"

#include <axle/router.h>

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace {

using config_parse::error_of;
using config_parse::parse_ok;

const std::string kListen = "[server]\nlisten = [\"127.0.0.1:0\"]\n";  // lines 1-2

}  // namespace

TEST_SUITE("config") {

TEST_CASE("a full valid config fills every field") {
  auto cfg = parse_ok(R"([server]
listen = ["127.0.0.1:8080", "[::1]:0"]
workers = 4
module_dirs = ["mods", "/abs/mods"]

[modules]
io = "uring"
allocator = "pool"
parser = "simd"
router = "radix"
metrics = "prometheus"
metrics_path = "/stats"

[module.uring]
entries = 256
sqpoll = true
mode = "fast"

[limits]
max_head_bytes = 8192
max_target_bytes = 2048
max_headers = 50
max_body_bytes = 10000000000
max_connections = 500
max_pipelined = 8

[timeouts]
header_ms = 1
body_ms = 2
idle_ms = 3
write_ms = 4
drain_ms = 5

[sockets]
backlog = 128
reuse_port = true
tcp_nodelay = false
tcp_quickack = true
busy_poll_us = 50
defer_accept_s = 1
recv_buffer = 65536
send_buffer = 131072

[log]
level = "debug"
access_log = "logs/access.log"

[admin]
listen = "127.0.0.1:9090"

[[route]]
path = "/static/*"
handler = "static"
methods = ["GET", "HEAD"]
root = "public"
max_age = 60
index = true

[[route]]
path = "/any"
handler = "echo"
)");
  CHECK(cfg.source == "t.toml");
  CHECK(cfg.base_dir == "/base");
  REQUIRE(cfg.listen.size() == 2);
  CHECK(cfg.listen[0].host == "127.0.0.1");
  CHECK(cfg.listen[0].port == 8080);
  CHECK(cfg.listen[1].host == "::1");
  CHECK(cfg.listen[1].port == 0);
  CHECK(cfg.workers == 4);
  CHECK(cfg.module_dirs == std::vector<std::string>{"/base/mods", "/abs/mods"});
  CHECK(cfg.io == "uring");
  CHECK(cfg.allocator == "pool");
  CHECK(cfg.parser == "simd");
  CHECK(cfg.router == "radix");
  CHECK(cfg.metrics == "prometheus");
  CHECK(cfg.metrics_path == "/stats");

  REQUIRE(cfg.module_options.count("uring"));
  const auto &uring = cfg.module_options.at("uring");
  CHECK(uring.path == "module.uring");
  CHECK(std::get<int64_t>(uring.values.at("entries")) == 256);
  CHECK(std::get<bool>(uring.values.at("sqpoll")) == true);
  CHECK(std::get<std::string>(uring.values.at("mode")) == "fast");
  CHECK(uring.positions.at("mode").str() == "t.toml:17");

  CHECK(cfg.limits.max_head_bytes == 8192);
  CHECK(cfg.limits.max_target_bytes == 2048);
  CHECK(cfg.limits.max_headers == 50);
  CHECK(cfg.limits.max_body_bytes == 10000000000ull);
  CHECK(cfg.limits.max_connections == 500);
  CHECK(cfg.limits.max_pipelined == 8);
  CHECK(cfg.timeouts.header_ms == 1);
  CHECK(cfg.timeouts.body_ms == 2);
  CHECK(cfg.timeouts.idle_ms == 3);
  CHECK(cfg.timeouts.write_ms == 4);
  CHECK(cfg.timeouts.drain_ms == 5);
  CHECK(cfg.sockets.backlog == 128);
  CHECK(cfg.sockets.reuse_port);
  CHECK(cfg.sockets.tcp_nodelay == false);
  CHECK(cfg.sockets.tcp_quickack == true);
  CHECK(cfg.sockets.busy_poll_us == 50);
  CHECK(cfg.sockets.defer_accept_s == 1);
  CHECK(cfg.sockets.recv_buffer == 65536);
  CHECK(cfg.sockets.send_buffer == 131072);
  CHECK(cfg.log.level == "debug");
  CHECK(cfg.log.access_log == "/base/logs/access.log");
  REQUIRE(cfg.admin_listen.has_value());
  CHECK(cfg.admin_listen->text() == "127.0.0.1:9090");

  REQUIRE(cfg.routes.size() == 2);
  const auto &r0 = cfg.routes[0];
  CHECK(r0.pos.str() == "t.toml:51");
  CHECK(r0.path == "/static/*");
  CHECK(r0.handler == "static");
  CHECK(r0.method_mask == (AXLE_METHOD_GET | AXLE_METHOD_HEAD));
  CHECK(r0.options.path == "route[0]");
  CHECK(r0.options.values.size() == 3);  // path, handler, methods are the route's own
  CHECK(std::get<std::string>(r0.options.values.at("root")) == "public");
  CHECK(std::get<int64_t>(r0.options.values.at("max_age")) == 60);
  CHECK(std::get<bool>(r0.options.values.at("index")) == true);
  CHECK(cfg.routes[1].method_mask == AXLE_METHOD_ANY);
  CHECK(cfg.routes[1].options.values.empty());
}

TEST_CASE("defaults apply when sections are left out") {
  auto cfg = parse_ok(kListen);
  CHECK(cfg.workers == 0);
  CHECK(cfg.io == "epoll");
  CHECK(cfg.allocator == "malloc");
  CHECK(cfg.parser == "scalar");
  CHECK(cfg.router == "linear");
  CHECK(cfg.metrics.empty());
  CHECK(cfg.limits.max_head_bytes == axle::Limits{}.max_head_bytes);
  CHECK(cfg.timeouts.idle_ms == axle::Timeouts{}.idle_ms);
  CHECK_FALSE(cfg.admin_listen.has_value());
  CHECK(cfg.routes.empty());
  CHECK(parse_ok(kListen + "workers = \"auto\"\n[modules]\nmetrics = \"none\"\n").metrics.empty());
}

TEST_CASE("the embedded default config parses") {
  auto text = axle::default_config_text();
  REQUIRE_FALSE(text.empty());
  CHECK(text.find("[server]") != std::string_view::npos);
  std::string error;
  auto cfg = axle::load_default_config(error);
  INFO(error);
  REQUIRE(cfg.has_value());
  CHECK(cfg->source == "<embedded default>");
  CHECK(cfg->base_dir == std::filesystem::current_path().string());
  CHECK_FALSE(cfg->listen.empty());
  CHECK_FALSE(cfg->routes.empty());
}

TEST_CASE("every shipped config in configs/ parses") {
  int checked = 0;
  for (const auto &entry : std::filesystem::directory_iterator(AXLE_CONFIGS_DIR)) {
    if (entry.path().extension() != ".toml") continue;
    std::string error;
    INFO(entry.path().string());
    CHECK_MESSAGE(axle::load_config_file(entry.path().string(), error).has_value(), error);
    ++checked;
  }
  CHECK(checked >= 1);
}

TEST_CASE("listen addresses") {
  axle::ListenAddress addr;
  std::string error;
  CHECK(axle::parse_listen_address("0.0.0.0:80", addr, error));
  CHECK(addr.host == "0.0.0.0");
  CHECK(addr.port == 80);
  CHECK(addr.text() == "0.0.0.0:80");
  CHECK(axle::parse_listen_address("[::]:65535", addr, error));
  CHECK(addr.host == "::");
  CHECK(addr.port == 65535);
  CHECK(addr.text() == "[::]:65535");
  CHECK(axle::parse_listen_address("127.0.0.1:0", addr, error));
  CHECK(addr.port == 0);

  CHECK_FALSE(axle::parse_listen_address("localhost:80", addr, error));
  CHECK(error == "invalid listen address \"localhost:80\": the host must be a numeric address, e.g. "
                 "\"127.0.0.1:80\" or \"[::1]:80\" (names such as localhost are not resolved)");
  CHECK_FALSE(axle::parse_listen_address("::1:80", addr, error));
  CHECK(error == "invalid listen address \"::1:80\": an IPv6 address needs brackets, e.g. \"[::1]:8080\"");
  CHECK_FALSE(axle::parse_listen_address("[::1:80", addr, error));
  CHECK(error == "invalid listen address \"[::1:80\": missing ']' after the IPv6 address");
  CHECK_FALSE(axle::parse_listen_address("[::1]80", addr, error));
  CHECK_FALSE(axle::parse_listen_address("[1.2.3.4]:80", addr, error));
  CHECK_FALSE(axle::parse_listen_address("1.2.3.4", addr, error));
  CHECK(error == "invalid listen address \"1.2.3.4\": expected HOST:PORT");
  CHECK_FALSE(axle::parse_listen_address("1.2.3.4:65536", addr, error));
  CHECK(error == "invalid listen address \"1.2.3.4:65536\": port must be a number from 0 to 65535");
  CHECK_FALSE(axle::parse_listen_address("1.2.3.4:", addr, error));
  CHECK_FALSE(axle::parse_listen_address("1.2.3.4:+80", addr, error));
  CHECK_FALSE(axle::parse_listen_address("1.2.3.4:80x", addr, error));
  CHECK_FALSE(axle::parse_listen_address("", addr, error));
}

TEST_CASE("errors name file, line and key") {
  SUBCASE("TOML syntax") {
    CHECK(error_of("[server]\nlisten = [\"127.0.0.1:1\"\n").rfind("t.toml:2: invalid TOML: ", 0) == 0);
  }
  SUBCASE("workers") {
    CHECK(error_of(kListen + "workers = \"lots\"\n") ==
          "t.toml:3: server.workers: expected an integer from 1 to 1024 or \"auto\", got \"lots\"");
    CHECK(error_of(kListen + "workers = 0\n") ==
          "t.toml:3: server.workers: expected an integer from 1 to 1024 or \"auto\", got 0");
    CHECK(error_of(kListen + "workers = 1025\n") ==
          "t.toml:3: server.workers: expected an integer from 1 to 1024 or \"auto\", got 1025");
  }
  SUBCASE("unknown keys and tables") {
    CHECK(error_of(kListen + "lisen = 1\n") ==
          "t.toml:3: server.lisen: unknown key (expected one of: listen, workers, module_dirs, user, group)");
    CHECK(error_of(kListen + "[limit]\nmax_headers = 1\n") ==
          "t.toml:3: limit: unknown key (expected one of: server, modules, module, limits, timeouts, sockets, log, "
          "admin, tls, route)");
    CHECK(error_of(kListen + "[modules]\nallocater = \"pool\"\n") ==
          "t.toml:4: modules.allocater: unknown key (expected one of: io, allocator, parser, router, metrics, "
          "metrics_path, tls)");
    CHECK(error_of(kListen + "[timeouts]\nidle = 5\n").rfind("t.toml:4: timeouts.idle: unknown key", 0) == 0);
    CHECK(error_of(kListen + "[sockets]\nnodelay = true\n").rfind("t.toml:4: sockets.nodelay: unknown key", 0) == 0);
    CHECK(error_of(kListen + "[log]\nlevle = \"info\"\n").rfind("t.toml:4: log.levle: unknown key", 0) == 0);
    CHECK(error_of(kListen + "[admin]\nport = 1\n").rfind("t.toml:4: admin.port: unknown key", 0) == 0);
  }
  SUBCASE("a table where a value belongs and the reverse") {
    CHECK(error_of("server = 1\n") == "t.toml:1: server: expected a table, got 1");
    CHECK(error_of(kListen + "[route]\npath = \"/\"\n") == "t.toml:3: route: expected [[route]] tables, got a table");
  }
  SUBCASE("listen") {
    CHECK(error_of("[server]\nworkers = 1\n") == "t.toml:1: server.listen: at least one listen address is required (here or in [tls] listen)");
    CHECK(error_of("[modules]\nio = \"epoll\"\n") == "t.toml:1: server.listen: at least one listen address is required (here or in [tls] listen)");
    CHECK(error_of("[server]\nlisten = []\n") == "t.toml:2: server.listen: at least one listen address is required (here or in [tls] listen)");
    CHECK(error_of("[server]\nlisten = \"127.0.0.1:80\"\n") ==
          "t.toml:2: server.listen: expected an array of \"HOST:PORT\" strings, got \"127.0.0.1:80\"");
    CHECK(error_of("[server]\nlisten = [\n  \"127.0.0.1:80\",\n  \"example.com:80\",\n]\n") ==
          "t.toml:4: server.listen[1]: invalid listen address \"example.com:80\": the host must be a numeric "
          "address, e.g. \"127.0.0.1:80\" or \"[::1]:80\" (names such as localhost are not resolved)");
    CHECK(error_of("[server]\nlisten = [\"127.0.0.1:80\", 80]\n") == "t.toml:2: server.listen[1]: expected a string, got 80");
    CHECK(error_of("[server]\nlisten = [\"127.0.0.1:80\", \"127.0.0.1:80\"]\n") ==
          "t.toml:2: server.listen[1]: duplicate listen address 127.0.0.1:80");
  }
  SUBCASE("module names become file names, so no path characters") {
    CHECK(error_of(kListen + "[modules]\nparser = \"../evil\"\n") ==
          "t.toml:4: modules.parser: invalid module name \"../evil\" (letters, digits, '_' and '-' only)");
    CHECK(error_of(kListen + "[modules]\nio = \"\"\n").rfind("t.toml:4: modules.io: invalid module name", 0) == 0);
    CHECK(error_of(kListen + "[modules]\nrouter = 3\n") == "t.toml:4: modules.router: expected a string, got 3");
    CHECK(error_of(kListen + "[modules]\nmetrics_path = \"metrics\"\n") ==
          "t.toml:4: modules.metrics_path: must start with '/', got \"metrics\"");
    CHECK(error_of(kListen + "[module.\"a/b\"]\nx = 1\n").rfind("t.toml:3: module.a/b: invalid module name", 0) == 0);
  }
  SUBCASE("options for a module that is not selected") {
    CHECK(error_of(kListen + "[module.epol]\nread_buffer = 1\n") ==
          "t.toml:3: module.epol: module 'epol' is not selected in [modules] (selected: epoll, malloc, scalar, linear)");
    CHECK(error_of(kListen + "[[route]]\npath = \"/\"\nhandler = \"static\"\n[module.static]\nroot = \"x\"\n") ==
          "t.toml:6: module.static: a handler's options go in the [[route]] tables that use it");
    CHECK(parse_ok(kListen + "[modules]\nmetrics = \"prometheus\"\n[module.prometheus]\nbuckets = \"1,2\"\n")
              .module_options.count("prometheus"));
  }
  SUBCASE("module option values are scalars or arrays of strings") {
    CHECK(error_of(kListen + "[module.epoll]\nsizes = [1, 2]\n") ==
          "t.toml:4: module.epoll.sizes[0]: expected a string, got 1");
    CHECK(error_of(kListen + "[module.epoll]\nsizes = [\"a\", [\"b\"]]\n") ==
          "t.toml:4: module.epoll.sizes[1]: expected a string, got an array");
    CHECK(error_of(kListen + "[module.epoll]\nratio = 1.5\n") ==
          "t.toml:4: module.epoll.ratio: expected a string, integer, boolean or array of strings, got a float (1.5)");
    CHECK(error_of(kListen + "[module]\nepoll = 1\n") == "t.toml:4: module.epoll: expected a table, got 1");
  }
  SUBCASE("limits and timeouts are positive integers") {
    CHECK(error_of(kListen + "[limits]\nmax_headers = 0\n") ==
          "t.toml:4: limits.max_headers: expected an integer from 1 to 4096, got 0");
    CHECK(error_of(kListen + "[limits]\nmax_headers = -5\n") ==
          "t.toml:4: limits.max_headers: expected an integer from 1 to 4096, got -5");
    CHECK(error_of(kListen + "[limits]\nmax_headers = \"many\"\n") ==
          "t.toml:4: limits.max_headers: expected an integer from 1 to 4096, got \"many\"");
    CHECK(error_of(kListen + "[limits]\nmax_head_bytes = 100\nmax_target_bytes = 200\n") ==
          "t.toml:5: limits.max_target_bytes: must not exceed limits.max_head_bytes (100)");
    CHECK(error_of(kListen + "[limits]\nmax_head_bytes = 100\n") ==
          "t.toml:3: limits.max_target_bytes: must not exceed limits.max_head_bytes (100)");
    CHECK(error_of(kListen + "[timeouts]\nidle_ms = 0\n") ==
          "t.toml:4: timeouts.idle_ms: expected an integer from 1 to 86400000, got 0");
  }
  // Regression: max_headers = 4000000000 passed --check and a reload then
  // aborted the live server with std::bad_alloc sizing per-worker scratch.
  SUBCASE("limits and timeouts have upper bounds: the largest passes, one more is refused") {
    struct Case {
      const char *section, *key;
      int64_t max;
    };
    const Case cases[] = {
        {"limits", "max_head_bytes", 4 << 20},          {"limits", "max_target_bytes", 1 << 20},
        {"limits", "max_headers", 4096},                {"limits", "max_body_bytes", int64_t{64} << 30},
        {"limits", "max_connections", 1 << 20},         {"limits", "max_pipelined", 1024},
        {"timeouts", "header_ms", 86'400'000},          {"timeouts", "body_ms", 86'400'000},
        {"timeouts", "idle_ms", 86'400'000},            {"timeouts", "write_ms", 86'400'000},
        {"timeouts", "drain_ms", 86'400'000},
    };
    for (const Case &c : cases) {
      CAPTURE(c.key);
      std::string head = kListen + "[" + c.section + "]\n";
      // max_target_bytes may not exceed max_head_bytes: raise the head limit with it.
      if (std::string(c.key) == "max_target_bytes") head += "max_head_bytes = 4194304\n";
      int line = std::string(c.key) == "max_target_bytes" ? 5 : 4;
      parse_ok(head + c.key + " = " + std::to_string(c.max) + "\n");
      CHECK(error_of(head + c.key + " = " + std::to_string(c.max + 1) + "\n") ==
            "t.toml:" + std::to_string(line) + ": " + c.section + "." + c.key + ": expected an integer from 1 to " +
                std::to_string(c.max) + ", got " + std::to_string(c.max + 1));
    }
    CHECK(error_of(kListen + "[limits]\nmax_headers = 4000000000\n") ==
          "t.toml:4: limits.max_headers: expected an integer from 1 to 4096, got 4000000000");
    // The reserve above max_connections may be none at all.
    CHECK(parse_ok(kListen + "[limits]\nreserve_connections = 0\n").limits.reserve_connections == 0);
    CHECK(parse_ok(kListen + "[limits]\nreserve_connections = 1024\n").limits.reserve_connections == 1024);
    CHECK(error_of(kListen + "[limits]\nreserve_connections = 1025\n") ==
          "t.toml:4: limits.reserve_connections: expected an integer from 0 to 1024, got 1025");
  }
  SUBCASE("sockets and log") {
    CHECK(error_of(kListen + "[sockets]\nreuse_port = \"yes\"\n") ==
          "t.toml:4: sockets.reuse_port: expected true or false, got \"yes\"");
    CHECK(error_of(kListen + "[sockets]\nbacklog = 0\n") == "t.toml:4: sockets.backlog: expected an integer >= 1, got 0");
    CHECK(error_of(kListen + "[sockets]\nbusy_poll_us = -1\n") ==
          "t.toml:4: sockets.busy_poll_us: expected an integer >= 0, got -1");
    CHECK(error_of(kListen + "[log]\nlevel = \"verbose\"\n") ==
          "t.toml:4: log.level: expected one of debug, info, warn, error, got \"verbose\"");
  }
  SUBCASE("admin listens on loopback only") {
    CHECK(error_of(kListen + "[admin]\nlisten = \"0.0.0.0:9090\"\n") ==
          "t.toml:4: admin.listen: must be a loopback address (127.0.0.0/8 or [::1]), got \"0.0.0.0:9090\"");
    CHECK(error_of(kListen + "[admin]\nlisten = \"[::]:9090\"\n").rfind("t.toml:4: admin.listen: must be a loopback", 0) == 0);
    CHECK(error_of(kListen + "[admin]\nlisten = \"9090\"\n") ==
          "t.toml:4: admin.listen: invalid listen address \"9090\": expected HOST:PORT");
    CHECK(parse_ok(kListen + "[admin]\nlisten = \"[::1]:9090\"\n").admin_listen->text() == "[::1]:9090");
    CHECK(parse_ok(kListen + "[admin]\nlisten = \"127.1.2.3:0\"\n").admin_listen->host == "127.1.2.3");
  }
  SUBCASE("routes") {
    const std::string ok_route = "[[route]]\npath = \"/a\"\nhandler = \"ping\"\n";  // lines 3-5
    CHECK(error_of(kListen + ok_route + "[[route]]\nhandler = \"ping\"\n") ==
          "t.toml:6: route[1].path: required key missing (or answers = \"not_found\" / \"method_not_allowed\")");
    CHECK(error_of(kListen + "[[route]]\npath = \"/a\"\n") == "t.toml:3: route[0].handler: required key missing");
    CHECK(error_of(kListen + "[[route]]\npath = \"a\"\nhandler = \"ping\"\n") ==
          "t.toml:4: route[0].path: must start with '/', got \"a\"");
    CHECK(error_of(kListen + "[[route]]\npath = \"/a?b=1\"\nhandler = \"ping\"\n") ==
          "t.toml:4: route[0].path: must not contain spaces, control bytes, '?' or '#', got \"/a?b=1\"");
    CHECK(error_of(kListen + "[[route]]\npath = \"/a b\"\nhandler = \"ping\"\n").rfind("t.toml:4: route[0].path: must not", 0) == 0);
    CHECK(error_of(kListen + "[[route]]\npath = \"/a\\tb\"\nhandler = \"ping\"\n").rfind("t.toml:4: route[0].path: must not", 0) == 0);
    CHECK(error_of(kListen + "[[route]]\npath = \"/a\"\nhandler = \"x/y\"\n") ==
          "t.toml:5: route[0].handler: invalid module name \"x/y\" (letters, digits, '_' and '-' only)");
    CHECK(error_of(kListen + ok_route + "methods = [\"GET\", \"FE TCH\"]\n").rfind(
              "t.toml:6: route[0].methods[1]: a method is a token of at most 32 letters", 0) == 0);
    CHECK(error_of(kListen + ok_route + "methods = [\"get\"]\n") ==
          "t.toml:6: route[0].methods[0]: method names are case-sensitive: \"get\" is not GET");
    CHECK(error_of(kListen + ok_route + "methods = [\"FETCH\", \"FETCH\"]\n") ==
          "t.toml:6: route[0].methods[1]: \"FETCH\" is listed twice");
    {
      std::string many = "methods = [";
      for (int i = 0; i < 17; ++i) many += "\"X" + std::to_string(i) + "\", ";
      CHECK(error_of(kListen + ok_route + many + "]\n") ==
            "t.toml:6: route[0].methods[16]: at most 16 extension methods per route");
    }
    {
      auto ext = parse_ok(kListen + ok_route + "methods = [\"GET\", \"PROPFIND\", \"MKCOL\"]\n");
      CHECK(ext.routes[0].method_mask == (AXLE_METHOD_GET | AXLE_METHOD_OTHER));
      CHECK(ext.routes[0].extension_methods == std::vector<std::string>{"PROPFIND", "MKCOL"});
    }
    CHECK(error_of(kListen + ok_route + "methods = []\n") ==
          "t.toml:6: route[0].methods: expected a non-empty array of method names, got an array");
    CHECK(error_of(kListen + ok_route + "methods = \"GET\"\n") ==
          "t.toml:6: route[0].methods: expected a non-empty array of method names, got \"GET\"");
    CHECK(error_of(kListen + ok_route + "headers = { a = 1 }\n") ==
          "t.toml:6: route[0].headers: expected a string, integer, boolean or array of strings, got a table");
    auto all = parse_ok(kListen + ok_route + "methods = [\"GET\", \"HEAD\", \"POST\", \"PUT\", \"DELETE\", \"PATCH\", \"OPTIONS\"]\n");
    CHECK(all.routes[0].method_mask == (AXLE_METHOD_ANY & ~AXLE_METHOD_OTHER));
  }
}

TEST_CASE("server user and group resolve when parsed") {
  // root and its group 0 exist on every system; the names are looked up now.
  auto cfg = parse_ok(kListen + "user = \"root\"\n");
  CHECK(cfg.run_as.user == "root");
  CHECK(cfg.run_as.uid == 0);
  CHECK(cfg.run_as.gid == 0);
  CHECK(parse_ok(kListen).run_as.empty());
  CHECK(error_of(kListen + "user = \"axle-no-such-user\"\n") ==
        "t.toml:3: server.user: no such user \"axle-no-such-user\"");
  CHECK(error_of(kListen + "user = \"root\"\ngroup = \"axle-no-such-group\"\n") ==
        "t.toml:4: server.group: no such group \"axle-no-such-group\"");
  CHECK(error_of(kListen + "group = \"\"\n") == "t.toml:3: server.group: expected a user or group name, got \"\"");
}

TEST_CASE("load_config_file") {
  std::string error;
  CHECK_FALSE(axle::load_config_file("/nonexistent/axle.toml", error));
  CHECK(error == "cannot read /nonexistent/axle.toml: No such file or directory");
  CHECK_FALSE(axle::load_config_file("/", error));
  CHECK(error == "cannot read /: Is a directory");
  CHECK_FALSE(axle::load_config_file("/dev/zero", error));
  CHECK(error == "cannot read /dev/zero: larger than 16 MiB");

  char dir_template[] = "/tmp/axle-config-test-XXXXXX";
  REQUIRE(mkdtemp(dir_template));
  std::filesystem::path dir(dir_template);
  {
    std::ofstream(dir / "good.toml") << kListen << "module_dirs = [\"mods\", \"../other\"]\n";
    std::ofstream(dir / "bad.toml") << kListen << "workers = -1\n";
  }
  auto cfg = axle::load_config_file((dir / "good.toml").string(), error);
  INFO(error);
  REQUIRE(cfg.has_value());
  CHECK(cfg->source == (dir / "good.toml").string());
  CHECK(cfg->base_dir == dir.string());
  CHECK(cfg->module_dirs == std::vector<std::string>{(dir / "mods").string(), (dir.parent_path() / "other").string()});

  CHECK_FALSE(axle::load_config_file((dir / "bad.toml").string(), error));
  CHECK(error == (dir / "bad.toml").string() +
                     ":3: server.workers: expected an integer from 1 to 1024 or \"auto\", got -1");
  std::filesystem::remove_all(dir);
}

TEST_CASE("stream_body: the route's key, else its handler's AXLE_MODULE_FLAG_STREAM_BODY (ABI 1.3+)") {
  auto cfg = parse_ok(kListen + R"([[route]]
path = "/default"
handler = "proxy"

[[route]]
path = "/off"
handler = "proxy"
stream_body = false

[[route]]
path = "/on"
handler = "echo"
stream_body = true

[[route]]
answers = "not_found"
handler = "proxy"
)");
  REQUIRE(cfg.routes.size() == 4);
  CHECK_FALSE(cfg.routes[0].stream_body.has_value());  // unset: the handler decides
  CHECK(cfg.routes[1].stream_body == false);
  CHECK(cfg.routes[2].stream_body == true);
  const uint32_t flag = AXLE_MODULE_FLAG_STREAM_BODY;
  CHECK(cfg.routes[0].streams_body(3, flag));
  CHECK_FALSE(cfg.routes[0].streams_body(3, 0));
  CHECK_FALSE(cfg.routes[0].streams_body(2, flag));  // the bit meant nothing before 1.3
  CHECK_FALSE(cfg.routes[1].streams_body(3, flag));  // the route says no
  CHECK(cfg.routes[2].streams_body(3, 0));
  CHECK_FALSE(cfg.routes[3].streams_body(3, flag));  // a fallback never streams
}

TEST_CASE("route host scopes and fallbacks") {
  auto cfg = parse_ok(kListen + R"([[route]]
path = "/a"
handler = "ping"
host = "Example.COM"

[[route]]
path = "/b"
handler = "ping"
host = ["*.Example.com", "127.0.0.1", "x_y.test"]

[[route]]
answers = "not_found"
handler = "hello"
greeting = "gone"

[[route]]
answers = "not_found"
handler = "hello"
host = "example.com"

[[route]]
answers = "method_not_allowed"
handler = "hello"
host = ["example.com", "*.example.com"]

[[route]]
path = "/"
handler = "static"
fallback = "welcome"
)");
  REQUIRE(cfg.routes.size() == 6);
  CHECK(cfg.routes[0].hosts == std::vector<std::string>{"example.com"});
  CHECK(cfg.routes[0].fallback == axle::RouteFallback::None);
  CHECK(cfg.routes[0].options.values.empty());
  CHECK(cfg.routes[1].hosts == std::vector<std::string>{"*.example.com", "127.0.0.1", "x_y.test"});
  CHECK(cfg.routes[2].fallback == axle::RouteFallback::NotFound);
  CHECK(cfg.routes[2].path.empty());
  CHECK(cfg.routes[2].hosts.empty());
  REQUIRE(cfg.routes[2].options.values.size() == 1);  // greeting is the handler's
  CHECK(std::get<std::string>(cfg.routes[2].options.values.at("greeting")) == "gone");
  CHECK(cfg.routes[3].fallback == axle::RouteFallback::NotFound);
  CHECK(cfg.routes[4].fallback == axle::RouteFallback::MethodNotAllowed);
  // "fallback" is not a kernel key: static's own (its welcome page).
  CHECK(cfg.routes[5].fallback == axle::RouteFallback::None);
  CHECK(std::get<std::string>(cfg.routes[5].options.values.at("fallback")) == "welcome");
}

TEST_CASE("route host and fallback errors name file, line and key") {
  auto route = [](const std::string &keys) { return kListen + "[[route]]\nhandler = \"ping\"\n" + keys; };  // keys from line 5
  CHECK(error_of(route("path = \"/\"\nhost = \"\"\n")) == "t.toml:6: route[0].host: empty host name, got \"\"");
  CHECK(error_of(route("path = \"/\"\nhost = \"a.test:8080\"\n")) ==
        "t.toml:6: route[0].host: no port or IPv6 literal: routes match the host name, whatever the port, got \"a.test:8080\"");
  CHECK(error_of(route("path = \"/\"\nhost = \"[::1]\"\n")).rfind("t.toml:6: route[0].host: no port or IPv6 literal", 0) == 0);
  CHECK(error_of(route("path = \"/\"\nhost = \"a.*.test\"\n")) ==
        "t.toml:6: route[0].host: '*' is allowed only as a leading \"*.\" (e.g. \"*.example.com\"), got \"a.*.test\"");
  CHECK(error_of(route("path = \"/\"\nhost = \"*\"\n")).rfind("t.toml:6: route[0].host: '*' is allowed only", 0) == 0);
  CHECK(error_of(route("path = \"/\"\nhost = \"*a.test\"\n")).rfind("t.toml:6: route[0].host: '*' is allowed only", 0) == 0);
  CHECK(error_of(route("path = \"/\"\nhost = \"*.\"\n")) ==
        "t.toml:6: route[0].host: empty label (leading, trailing or doubled '.'), got \"*.\"");
  CHECK(error_of(route("path = \"/\"\nhost = \"a..test\"\n")).rfind("t.toml:6: route[0].host: empty label", 0) == 0);
  CHECK(error_of(route("path = \"/\"\nhost = \"a.test.\"\n")).rfind("t.toml:6: route[0].host: empty label", 0) == 0);
  CHECK(error_of(route("path = \"/\"\nhost = \"a b\"\n")) ==
        "t.toml:6: route[0].host: a host name has letters, digits, '-', '_' and '.' only, got \"a b\"");
  CHECK(error_of(route("path = \"/\"\nhost = \"" + std::string(64, 'a') + ".test\"\n"))
            .rfind("t.toml:6: route[0].host: a label has at most 63 characters", 0) == 0);
  CHECK(error_of(route("path = \"/\"\nhost = []\n")) ==
        "t.toml:6: route[0].host: expected a host name or a non-empty array of them, got an array");
  CHECK(error_of(route("path = \"/\"\nhost = 3\n")) ==
        "t.toml:6: route[0].host: expected a host name or a non-empty array of them, got 3");
  CHECK(error_of(route("path = \"/\"\nhost = [\"a.test\", \"A.test\"]\n")) ==
        "t.toml:6: route[0].host[1]: \"a.test\" is listed twice");
  CHECK(error_of(route("path = \"/\"\nhost = [\"a.test\", 1]\n")) ==
        "t.toml:6: route[0].host[1]: expected a string, got 1");

  CHECK(error_of(route("path = \"/\"\nanswers = \"not_found\"\n")) ==
        "t.toml:5: route[0].path: a fallback route has no path (it answers what no path matched)");
  CHECK(error_of(route("answers = \"not_found\"\nmethods = [\"GET\"]\n")) ==
        "t.toml:6: route[0].methods: a fallback route answers every method; remove methods");
  CHECK(error_of(route("answers = \"method_not_allowed\"\nstream_body = true\n")) ==
        "t.toml:6: route[0].stream_body: a fallback route cannot stream the request body");
  CHECK(error_of(route("fallback = \"gone\"\n")) ==
        "t.toml:3: route[0].path: required key missing (or answers = \"not_found\" / \"method_not_allowed\")");
  // One of each per scope; the unscoped routes are a scope of their own.
  std::string nf = "[[route]]\nanswers = \"not_found\"\nhandler = \"ping\"\n";  // lines 3-5, then 6-8
  CHECK(error_of(kListen + nf + nf) ==
        "t.toml:7: route[1].answers: a \"not_found\" fallback for routes without host is already configured at t.toml:3");
  CHECK(error_of(kListen + nf + "host = [\"b.test\", \"*.a.test\"]\n" + nf + "host = \"*.A.test\"\n") ==
        "t.toml:8: route[1].answers: a \"not_found\" fallback for host \"*.a.test\" is already configured at t.toml:3");
  parse_ok(kListen + nf + "host = \"a.test\"\n" + nf + "[[route]]\nanswers = \"method_not_allowed\"\nhandler = \"ping\"\n");
}

}  // TEST_SUITE
