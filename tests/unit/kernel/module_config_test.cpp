// Module option validation against a module's declared keys.
#include "host_api.h"
#include "module_config.h"

#include <axle/sdk/config.hpp>
#include <doctest/doctest.h>

#include <cstddef>
#include <cstring>

namespace {

const axle_config_key_t kDemoKeys[] = {
    {"root", AXLE_CONFIG_STRING, nullptr, "Directory to serve"},
    {"count", AXLE_CONFIG_INT, "64", "How many"},
    {"verbose", AXLE_CONFIG_BOOL, "false", "Talk more"},
    {"label", AXLE_CONFIG_STRING, "demo", "Shown in logs"},
};

axle_module_descriptor_t demo_descriptor(const axle_config_key_t *keys = kDemoKeys,
                                         size_t count = std::size(kDemoKeys)) {
  axle_module_descriptor_t d{};
  d.struct_size = sizeof d;
  d.abi_major = AXLE_ABI_MAJOR;
  d.kind = AXLE_KIND_HANDLER;
  d.name = "demo";
  d.version = "1.0.0";
  d.config_keys = keys;
  d.config_key_count = count;
  return d;
}

// A route table as config.cpp would produce it: "t.toml", table at line 4.
axle::OptionTable table(std::map<std::string, axle::OptionValue> values) {
  axle::OptionTable t;
  t.pos = {"t.toml", 4};
  t.path = "route[0]";
  uint32_t line = 5;
  for (auto &[key, value] : values) {
    t.positions[key] = {"t.toml", line++};
    t.values[key] = value;
  }
  return t;
}

std::string build_error(const axle::OptionTable &t, const axle_module_descriptor_t &d = demo_descriptor()) {
  axle_config_t out;
  std::string error;
  CHECK_FALSE(axle::build_module_config(d, t, {}, "/base", out, error));
  return error;
}

}  // namespace

TEST_SUITE("module_config") {

TEST_CASE("declared values are kept and defaults fill the rest") {
  axle_config_t out;
  std::string error;
  auto d = demo_descriptor();
  REQUIRE(axle::build_module_config(d, table({{"root", std::string("public")}, {"verbose", true}}), {}, "/base", out,
                                    error));
  CHECK(out.owner == "demo");
  CHECK(out.base_dir == "/base");
  CHECK(out.values.size() == 4);
  CHECK(std::get<std::string>(out.values.at("root")) == "public");
  CHECK(std::get<bool>(out.values.at("verbose")) == true);
  CHECK(std::get<int64_t>(out.values.at("count")) == 64);
  CHECK(std::get<std::string>(out.values.at("label")) == "demo");
}

TEST_CASE("ignored keys are skipped") {
  axle_config_t out;
  std::string error;
  auto d = demo_descriptor();
  CHECK(axle::build_module_config(d, table({{"root", std::string("x")}, {"path", std::string("/a")}}), {"path"},
                                  "/base", out, error));
  CHECK_FALSE(out.values.count("path"));
}

TEST_CASE("type mismatches name the key and the value") {
  // keys sort as count(5), root(6): positions follow map order
  CHECK(build_error(table({{"count", std::string("lots")}, {"root", std::string("x")}})) ==
        "t.toml:5: route[0].count: expected an integer, got \"lots\"");
  CHECK(build_error(table({{"root", int64_t{3}}})) == "t.toml:5: route[0].root: expected a string, got 3");
  CHECK(build_error(table({{"root", std::string("x")}, {"verbose", int64_t{1}}})) ==
        "t.toml:6: route[0].verbose: expected a boolean, got 1");
  CHECK(build_error(table({{"count", true}, {"root", std::string("x")}})) ==
        "t.toml:5: route[0].count: expected an integer, got true");
}

TEST_CASE("an unknown key lists the valid ones") {
  CHECK(build_error(table({{"colour", std::string("red")}, {"root", std::string("x")}})) ==
        "t.toml:5: route[0].colour: unknown key for module 'demo' (valid keys: root, count, verbose, label)");
  auto keyless = demo_descriptor(nullptr, 0);
  CHECK(build_error(table({{"x", int64_t{1}}}), keyless) ==
        "t.toml:5: route[0].x: unknown key for module 'demo' (it takes no keys)");
}

TEST_CASE("a required key must be present") {
  CHECK(build_error(table({})) == "t.toml:4: route[0].root: required key missing (module 'demo': Directory to serve)");
}

TEST_CASE("declared key tables are checked") {
  auto d = demo_descriptor();
  CHECK(axle::validate_declared_keys(d).empty());
  CHECK(axle::validate_declared_keys(demo_descriptor(nullptr, 0)).empty());
  CHECK(axle::validate_declared_keys(demo_descriptor(nullptr, 2)) == "declares 2 config keys but no key table");

  const axle_config_key_t bad_default[] = {{"n", AXLE_CONFIG_INT, "12x", "doc"}};
  CHECK(axle::validate_declared_keys(demo_descriptor(bad_default, 1)) ==
        "config key 'n' has default \"12x\", which is not an integer");
  const axle_config_key_t bad_bool[] = {{"b", AXLE_CONFIG_BOOL, "yes", "doc"}};
  CHECK(axle::validate_declared_keys(demo_descriptor(bad_bool, 1)) ==
        "config key 'b' has default \"yes\", which is not a boolean");
  const axle_config_key_t bad_type[] = {{"t", static_cast<axle_config_type_t>(9), "1", "doc"}};
  CHECK(axle::validate_declared_keys(demo_descriptor(bad_type, 1)) == "config key 't' has unknown type 9");
  const axle_config_key_t no_name[] = {{"a", AXLE_CONFIG_INT, "1", "doc"}, {nullptr, AXLE_CONFIG_INT, "1", "doc"}};
  CHECK(axle::validate_declared_keys(demo_descriptor(no_name, 2)) == "config key #1 has no name");
  const axle_config_key_t twice[] = {{"a", AXLE_CONFIG_INT, "1", "doc"}, {"a", AXLE_CONFIG_BOOL, "true", "doc"}};
  CHECK(axle::validate_declared_keys(demo_descriptor(twice, 2)) == "config key 'a' is declared twice");
}

TEST_CASE("describe_module_keys prints one line per key") {
  auto d = demo_descriptor();
  CHECK(axle::describe_module_keys(d) ==
        "  root     string   required  -- Directory to serve\n"
        "  count    integer  default 64  -- How many\n"
        "  verbose  boolean  default false  -- Talk more\n"
        "  label    string   default \"demo\"  -- Shown in logs\n");
  CHECK(axle::describe_module_keys(demo_descriptor(nullptr, 0)) == "  (no configuration keys)\n");
}

TEST_CASE("a parsed route's options validate against its handler's keys") {
  std::string error;
  auto cfg = axle::parse_config(
      "[server]\nlisten = [\"127.0.0.1:0\"]\n[[route]]\npath = \"/s/*\"\nhandler = \"demo\"\nroot = \"www\"\ncount = \"9\"\n",
      "r.toml", "/srv", error);
  REQUIRE(cfg.has_value());
  axle_config_t out;
  auto d = demo_descriptor();
  CHECK_FALSE(axle::build_module_config(d, cfg->routes[0].options, {}, cfg->base_dir, out, error));
  CHECK(error == "r.toml:7: route[0].count: expected an integer, got \"9\"");
}

}  // TEST_SUITE

// ---- 1.3: string lists, sections, positions ----

namespace {

const axle_config_key_t kUpstreamKeys[] = {
    {"servers", AXLE_CONFIG_STRING_LIST, nullptr, "host:port of each server"},
    {"balance", AXLE_CONFIG_STRING, "round_robin", "How to pick a server"},
    {"tags", AXLE_CONFIG_STRING_LIST, "a,b", "Labels"},
};
const axle_config_section_t kProxySections[] = {
    {"upstream", "Upstream groups", kUpstreamKeys, std::size(kUpstreamKeys)},
    {"health", "Health checks", nullptr, 0},
};
const axle_config_key_t kProxyKeys[] = {
    {"upstream", AXLE_CONFIG_STRING, nullptr, "Group this route proxies to"},
    {"headers", AXLE_CONFIG_STRING_LIST, "", "Extra headers"},
};

axle_module_descriptor_t proxy_descriptor(const axle_config_section_t *sections = kProxySections,
                                          size_t count = std::size(kProxySections)) {
  axle_module_descriptor_t d = demo_descriptor(kProxyKeys, std::size(kProxyKeys));
  d.abi_minor = AXLE_ABI_MINOR;
  d.name = "proxy";
  d.config_sections = sections;
  d.config_section_count = count;
  return d;
}

axle::OptionTable named_table(const std::string &name, const std::string &parent, uint32_t line,
                              std::map<std::string, axle::OptionValue> values = {}) {
  axle::OptionTable t;
  t.name = name;
  t.path = parent + "." + name;
  t.pos = {"p.toml", line};
  for (auto &[key, value] : values) {
    t.positions[key] = {"p.toml", ++line};
    t.values[key] = value;
  }
  return t;
}

// [module.proxy] with [module.proxy.upstream.<name>] tables, as config.cpp builds them.
axle::OptionTable proxy_table(std::vector<axle::OptionTable> upstreams) {
  axle::OptionTable module = named_table("proxy", "module", 10);
  axle::OptionTable upstream = named_table("upstream", "module.proxy", 10);
  for (auto &t : upstreams) {
    t.path = "module.proxy.upstream." + t.name;
    upstream.tables.push_back(std::move(t));
  }
  module.tables.push_back(std::move(upstream));
  return module;
}

using Strings = std::vector<std::string>;

std::vector<std::string> list_of(const axle_config_t *cfg, const char *key) {
  const axle_str_t *items = nullptr;
  size_t count = 0;
  REQUIRE(axle::host_api()->config_get_string_list(cfg, key, &items, &count) == AXLE_OK);
  std::vector<std::string> out;
  for (size_t i = 0; i < count; ++i) out.emplace_back(items[i].ptr, items[i].len);
  return out;
}

std::string handler_error(const axle::OptionTable &t, const axle_module_descriptor_t &d = proxy_descriptor()) {
  axle_config_t out;
  std::string error;
  CHECK_FALSE(axle::build_handler_instance_config(d, t, "/base", out, error));
  return error;
}

}  // namespace

TEST_SUITE("module_config") {

TEST_CASE("string lists: values, comma-joined defaults and type errors") {
  const axle_host_api_t *host = axle::host_api();
  auto d = proxy_descriptor();
  axle_config_t out;
  std::string error;
  REQUIRE(axle::build_module_config(d, table({{"upstream", std::string("app")}}), {}, "/base", out, error));
  CHECK(list_of(&out, "headers").empty());  // default ""
  axle_config_t with;
  REQUIRE(axle::build_module_config(
      d, table({{"upstream", std::string("app")}, {"headers", Strings{"X-A: 1", "", "X-B: 2"}}}), {}, "/base", with,
      error));
  CHECK(list_of(&with, "headers") == Strings{"X-A: 1", "", "X-B: 2"});
  // Not a list, not declared, no output pointers.
  const axle_str_t *items = nullptr;
  size_t count = 0;
  CHECK(host->config_get_string_list(&with, "upstream", &items, &count) == AXLE_ERR_INVALID);
  CHECK(host->config_get_string_list(&with, "nope", &items, &count) == AXLE_ERR_NOT_FOUND);
  CHECK(host->config_get_string_list(&with, "headers", nullptr, &count) == AXLE_ERR_INVALID);
  axle_str_t text{};
  CHECK(host->config_get_string(&with, "headers", &text) == AXLE_ERR_INVALID);

  CHECK(build_error(table({{"upstream", std::string("app")}, {"headers", std::string("X-A: 1")}}), d) ==
        "t.toml:5: route[0].headers: expected a list of strings, got \"X-A: 1\"");
  CHECK(build_error(table({{"upstream", Strings{"a", "b"}}}), d) ==
        "t.toml:5: route[0].upstream: expected a string, got [\"a\", \"b\"]");
  CHECK(build_error(table({{"headers", int64_t{3}}, {"upstream", std::string("a")}}), d) ==
        "t.toml:5: route[0].headers: expected a list of strings, got 3");
}

TEST_CASE("list defaults split at every comma") {
  const axle_config_key_t keys[] = {{"a", AXLE_CONFIG_STRING_LIST, "x", ""},
                                    {"b", AXLE_CONFIG_STRING_LIST, "x,,y", ""},
                                    {"c", AXLE_CONFIG_STRING_LIST, ",", ""}};
  auto d = demo_descriptor(keys, std::size(keys));
  CHECK(axle::validate_declared_keys(d).empty());
  axle_config_t out;
  std::string error;
  REQUIRE(axle::build_module_config(d, table({}), {}, "/base", out, error));
  CHECK(list_of(&out, "a") == Strings{"x"});
  CHECK(list_of(&out, "b") == Strings{"x", "", "y"});
  CHECK(list_of(&out, "c") == Strings{"", ""});
}

TEST_CASE("sections: tables in NAME order, defaults applied, read through the host table") {
  const axle_host_api_t *host = axle::host_api();
  axle_config_t out;
  std::string error;
  REQUIRE(axle::build_handler_instance_config(
      proxy_descriptor(),
      proxy_table({named_table("web", "", 20, {{"servers", Strings{"127.0.0.1:9001", "127.0.0.1:9002"}}}),
                   named_table("api", "", 30, {{"servers", Strings{"[::1]:9003"}}, {"tags", Strings{}}})}),
      "/base", out, error));
  CHECK(out.values.empty());  // a handler's instance has no plain keys
  REQUIRE(host->config_section_count(&out, "upstream") == 2);
  CHECK(host->config_section_count(&out, "health") == 0);  // declared, no table
  CHECK(host->config_section_count(&out, "nope") == 0);
  CHECK(host->config_section_count(&out, nullptr) == 0);

  axle_str_t name{};
  const axle_config_t *first = nullptr, *second = nullptr;
  REQUIRE(host->config_section_at(&out, "upstream", 0, &name, &first) == AXLE_OK);
  CHECK(std::string(name.ptr, name.len) == "api");
  REQUIRE(host->config_section_at(&out, "upstream", 1, &name, &second) == AXLE_OK);
  CHECK(std::string(name.ptr, name.len) == "web");
  CHECK(host->config_section_at(&out, "upstream", 2, &name, &second) == AXLE_ERR_NOT_FOUND);
  CHECK(host->config_section_at(&out, "health", 0, &name, &second) == AXLE_ERR_NOT_FOUND);
  CHECK(host->config_section_at(&out, "nope", 0, &name, &second) == AXLE_ERR_NOT_FOUND);

  CHECK(list_of(first, "servers") == Strings{"[::1]:9003"});
  CHECK(list_of(first, "tags").empty());
  CHECK(list_of(second, "servers") == Strings{"127.0.0.1:9001", "127.0.0.1:9002"});
  CHECK(list_of(second, "tags") == Strings{"a", "b"});
  axle_str_t balance{};
  REQUIRE(host->config_get_string(second, "balance", &balance) == AXLE_OK);
  CHECK(std::string(balance.ptr, balance.len) == "round_robin");
  CHECK(first->owner == "proxy");
  CHECK(std::string(host->config_base_dir(first)) == "/base");
}

TEST_CASE("sections: unknown key, unknown section, missing required key, keys where tables belong") {
  CHECK(handler_error(proxy_table({named_table("app", "", 20, {{"servers", Strings{"x"}}, {"weight", int64_t{2}}})})) ==
        "p.toml:22: module.proxy.upstream.app.weight: unknown key for section 'upstream' of module 'proxy' "
        "(valid keys: servers, balance, tags)");
  CHECK(handler_error(proxy_table({named_table("app", "", 20, {{"servers", std::string("x")}})})) ==
        "p.toml:21: module.proxy.upstream.app.servers: expected a list of strings, got \"x\"");
  CHECK(handler_error(proxy_table({named_table("app", "", 20, {{"balance", std::string("hash")}})})) ==
        "p.toml:20: module.proxy.upstream.app.servers: required key missing (section 'upstream' of module 'proxy': "
        "host:port of each server)");

  axle::OptionTable stray = proxy_table({});
  stray.tables.push_back(named_table("x", "module.proxy", 40));
  CHECK(handler_error(stray) == "p.toml:40: module.proxy.x: module 'proxy' has no section 'x' (sections: upstream, health)");

  axle::OptionTable flat = proxy_table({});
  flat.tables[0].values["servers"] = Strings{"a"};
  flat.tables[0].positions["servers"] = {"p.toml", 11};
  CHECK(handler_error(flat) ==
        "p.toml:11: module.proxy.upstream.servers: section 'upstream' of module 'proxy' holds named tables "
        "([module.proxy.upstream.<NAME>]), not keys");

  axle::OptionTable deep = proxy_table({named_table("app", "", 20, {{"servers", Strings{"a"}}})});
  deep.tables[0].tables[0].tables.push_back(named_table("more", "module.proxy.upstream.app", 25));
  CHECK(handler_error(deep) ==
        "p.toml:25: module.proxy.upstream.app.more: a table inside section 'upstream' of module 'proxy' (its tables "
        "hold keys only)");

  // A handler's plain keys are its routes'.
  axle::OptionTable plain = proxy_table({});
  plain.values["upstream"] = std::string("app");
  plain.positions["upstream"] = {"p.toml", 11};
  CHECK(handler_error(plain) ==
        "p.toml:11: module.proxy.upstream: a handler's keys go in the [[route]] tables that use it; [module.proxy] "
        "holds only the tables of its sections (upstream, health)");
}

TEST_CASE("positions name the file, line and path of a key, else of its table") {
  const axle_host_api_t *host = axle::host_api();
  axle_config_t out;
  std::string error;
  REQUIRE(axle::build_handler_instance_config(
      proxy_descriptor(), proxy_table({named_table("app", "", 20, {{"servers", Strings{"127.0.0.1:1"}}})}), "/base",
      out, error));
  CHECK(std::string(host->config_position(&out, nullptr)) == "p.toml:10: module.proxy");
  const axle_config_t *app = nullptr;
  REQUIRE(host->config_section_at(&out, "upstream", 0, nullptr, &app) == AXLE_OK);
  CHECK(std::string(host->config_position(app, "servers")) == "p.toml:21: module.proxy.upstream.app.servers");
  CHECK(std::string(host->config_position(app, "balance")) == "p.toml:20: module.proxy.upstream.app");  // a default
  CHECK(std::string(host->config_position(app, nullptr)) == "p.toml:20: module.proxy.upstream.app");
  CHECK(std::string(host->config_position(nullptr, "x")).empty());

  axle_config_t route;
  REQUIRE(axle::build_module_config(demo_descriptor(), table({{"root", std::string("www")}}), {}, "/b", route, error));
  CHECK(std::string(host->config_position(&route, "root")) == "t.toml:5: route[0].root");
  CHECK(std::string(host->config_position(&route, "count")) == "t.toml:4: route[0]");
}

TEST_CASE("a descriptor built for 1.2 has no sections, whatever lies past its end") {
  // A 1.2 descriptor ends at vtable; what follows it in the module's memory is not its.
  struct {
    axle_module_descriptor_t d;
  } bytes{};
  bytes.d = proxy_descriptor(reinterpret_cast<const axle_config_section_t *>(0x1), 7);
  bytes.d.struct_size = offsetof(axle_module_descriptor_t, config_sections);
  bytes.d.abi_minor = 2;
  bytes.d.config_keys = nullptr;
  bytes.d.config_key_count = 0;
  CHECK(axle::module_schema(bytes.d).section_count == 0);
  CHECK(axle::validate_declared_keys(bytes.d).empty());
  CHECK(axle::describe_module_keys(bytes.d).find("[module.proxy") == std::string::npos);
  axle::OptionTable t = proxy_table({});
  CHECK(build_error(t, bytes.d) == "p.toml:10: module.proxy.upstream: module 'proxy' has no section 'upstream' (it declares none)");
  // A long enough descriptor that still says 1.2 is read as 1.2.
  auto full = proxy_descriptor(reinterpret_cast<const axle_config_section_t *>(0x1), 7);
  full.abi_minor = 2;
  CHECK(axle::module_schema(full).section_count == 0);
}

TEST_CASE("declared sections are checked") {
  CHECK(axle::validate_declared_keys(proxy_descriptor()).empty());
  CHECK(axle::validate_declared_keys(proxy_descriptor(nullptr, 0)).empty());
  CHECK(axle::validate_declared_keys(proxy_descriptor(nullptr, 2)) == "declares 2 config sections but no section table");
  const axle_config_section_t no_name[] = {{"", "d", nullptr, 0}};
  CHECK(axle::validate_declared_keys(proxy_descriptor(no_name, 1)) == "config section #0 has no name");
  const axle_config_section_t spaced[] = {{"up stream", "d", nullptr, 0}};
  CHECK(axle::validate_declared_keys(proxy_descriptor(spaced, 1)) ==
        "config section 'up stream' is not a bare TOML key (letters, digits, '_' and '-' only)");
  const axle_config_section_t twice[] = {{"a", "d", nullptr, 0}, {"a", "d", nullptr, 0}};
  CHECK(axle::validate_declared_keys(proxy_descriptor(twice, 2)) == "config section 'a' is declared twice");
  // A handler's keys are its routes': a route key may share a section's name (upstream = "app").
  auto io = proxy_descriptor();
  io.kind = AXLE_KIND_IO;
  CHECK(axle::validate_declared_keys(io) == "config section 'upstream' has the name of a config key");
  const axle_config_key_t bad_list[] = {{"l", static_cast<axle_config_type_t>(5), "", "doc"}};
  const axle_config_section_t bad_keys[] = {{"s", "d", bad_list, 1}};
  CHECK(axle::validate_declared_keys(proxy_descriptor(bad_keys, 1)) == "config section 's': config key 'l' has unknown type 5");
  const axle_config_section_t no_keys[] = {{"s", "d", nullptr, 3}};
  CHECK(axle::validate_declared_keys(proxy_descriptor(no_keys, 1)) ==
        "config section 's': declares 3 config keys but no key table");
}

TEST_CASE("describe_module_keys prints list types and each section") {
  CHECK(axle::describe_module_keys(proxy_descriptor()) ==
        "  upstream  string   required  -- Group this route proxies to\n"
        "  headers   strings  default []  -- Extra headers\n"
        "\n  [module.proxy.upstream.<NAME>]  -- Upstream groups\n"
        "    servers  strings  required  -- host:port of each server\n"
        "    balance  string   default \"round_robin\"  -- How to pick a server\n"
        "    tags     strings  default [\"a\", \"b\"]  -- Labels\n"
        "\n  [module.proxy.health.<NAME>]  -- Health checks\n");
}

TEST_CASE("a parsed [module.<handler>] with section tables reaches the handler's instance") {
  std::string error;
  auto cfg = axle::parse_config(
      "[server]\nlisten = [\"127.0.0.1:0\"]\n"
      "[[route]]\npath = \"/app/*\"\nhandler = \"proxy\"\nupstream = \"app\"\n"
      "[module.proxy.upstream.zeta]\nservers = [\"127.0.0.1:9004\"]\n"
      "[module.proxy.upstream.app]\nservers = [\"127.0.0.1:9001\", \"127.0.0.1:9002\", \"127.0.0.1:9003\"]\n",
      "r.toml", "/srv", error);
  REQUIRE_MESSAGE(cfg.has_value(), error);
  const axle::OptionTable &options = cfg->module_options.at("proxy");
  axle_config_t out;
  REQUIRE_MESSAGE(axle::build_handler_instance_config(proxy_descriptor(), options, cfg->base_dir, out, error), error);
  const axle_host_api_t *host = axle::host_api();
  REQUIRE(host->config_section_count(&out, "upstream") == 2);
  const axle_config_t *app = nullptr;
  axle_str_t name{};
  REQUIRE(host->config_section_at(&out, "upstream", 0, &name, &app) == AXLE_OK);
  CHECK(std::string(name.ptr, name.len) == "app");
  CHECK(list_of(app, "servers") == Strings{"127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:9003"});
  CHECK(std::string(host->config_position(app, "servers")) == "r.toml:10: module.proxy.upstream.app.servers");
  axle_config_t route;
  REQUIRE(axle::build_module_config(proxy_descriptor(), cfg->routes[0].options, {}, cfg->base_dir, route, error));

  // A section's table holds keys only: a third level is refused when parsed.
  CHECK_FALSE(axle::parse_config("[server]\nlisten = [\"127.0.0.1:0\"]\n[[route]]\npath = \"/\"\nhandler = \"proxy\"\n"
                                 "[module.proxy.upstream.app.more]\nx = 1\n",
                                 "r.toml", "/srv", error));
  CHECK(error == "r.toml:6: module.proxy.upstream.app.more: expected a string, integer, boolean or array of strings, "
                 "got a table");
  // Plain keys in a handler's table stay refused when parsed.
  CHECK_FALSE(axle::parse_config("[server]\nlisten = [\"127.0.0.1:0\"]\n[[route]]\npath = \"/\"\nhandler = \"proxy\"\n"
                                 "[module.proxy]\nservers = \"x\"\n[module.proxy.upstream.app]\nservers = []\n",
                                 "r.toml", "/srv", error));
  CHECK(error == "r.toml:6: module.proxy: a handler's options go in the [[route]] tables that use it");
}

TEST_CASE("the SDK reads lists, sections and positions through this host") {
  axle_config_t out;
  std::string error;
  REQUIRE(axle::build_handler_instance_config(
      proxy_descriptor(), proxy_table({named_table("app", "", 20, {{"servers", Strings{"127.0.0.1:1", "[::1]:2"}}})}),
      "/base", out, error));
  axle::sdk::Config config(axle::host_api(), &out);
  CHECK(config.position() == "p.toml:10: module.proxy");
  auto tables = config.section("upstream");
  REQUIRE(tables.size() == 1);
  CHECK(tables[0].name == "app");
  CHECK(tables[0].config.get<std::vector<std::string>>("servers") == Strings{"127.0.0.1:1", "[::1]:2"});
  CHECK(tables[0].config.get<std::vector<std::string_view>>("tags") == std::vector<std::string_view>{"a", "b"});
  CHECK(tables[0].config.position("servers") == "p.toml:21: module.proxy.upstream.app.servers");
  CHECK(config.section("health").empty());
  CHECK_THROWS_WITH(tables[0].config.get<std::vector<std::string>>("balance"),
                    "config key \"balance\" is not a declared string list key");
  // A 1.2 host has none of the slots: lists throw, sections are empty, positions "".
  axle_host_api_t old = *axle::host_api();
  old.struct_size = offsetof(axle_host_api_t, config_get_string_list);
  axle::sdk::Config on_old(&old, tables[0].config.raw());
  CHECK_THROWS(on_old.get<std::vector<std::string>>("servers"));
  CHECK(axle::sdk::Config(&old, &out).section("upstream").empty());
  CHECK(on_old.position("servers").empty());
}

}  // TEST_SUITE
