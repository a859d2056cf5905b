// Module option validation against a module's declared keys.
#include "module_config.h"

#include <doctest/doctest.h>

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
