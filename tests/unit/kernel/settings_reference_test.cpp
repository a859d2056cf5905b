// The core settings reference (axle --help-config) comes from the table the
// validator uses: every row is accepted by the parser, its documented default
// is the value a config without it gets, and the printed text lists every row.
#include "config.h"

#include <doctest/doctest.h>

#include <set>
#include <string>

namespace {

// A config that sets every row that has a default to that default.
std::string every_default() {
  std::string text, section;
  for (const auto &s : axle::core_settings()) {
    if (s.section == "tls") continue;  // [tls] has no default and comes only with [modules] tls
    if (s.section != section) {
      section = s.section;
      text += "[" + section + "]\n";
      if (section == "server") text += "listen = [\"127.0.0.1:0\"]\n";
    }
    if (!s.default_value.empty()) text += s.key + " = " + s.default_value + "\n";
  }
  return text;
}

// A valid [server] plus `line` in `section`; `line` is line 2 of the text.
std::string with_line(const std::string &section, const std::string &line) {
  std::string text = "[" + section + "]\n" + line + "\n";
  if (section == "server") return text + "listen = [\"127.0.0.1:0\"]\n";
  return text + "[server]\nlisten = [\"127.0.0.1:0\"]\n";
}

}  // namespace

TEST_SUITE("settings_reference") {

TEST_CASE("every row has a section, a key, a type and a doc, once") {
  std::set<std::string> seen;
  for (const auto &s : axle::core_settings()) {
    INFO(s.section << "." << s.key);
    CHECK_FALSE(s.section.empty());
    CHECK_FALSE(s.key.empty());
    CHECK_FALSE(s.type.empty());
    CHECK(s.doc.size() > 10);
    CHECK(seen.insert(s.section + "." + s.key).second);
  }
  for (const char *section : {"server", "modules", "limits", "timeouts", "sockets", "log", "admin"}) {
    bool found = false;
    for (const auto &s : axle::core_settings()) found = found || s.section == section;
    CHECK_MESSAGE(found, section);
  }
}

TEST_CASE("the documented defaults are the defaults") {
  std::string error;
  auto cfg = axle::parse_config(every_default(), "d.toml", "/base", error);
  INFO(every_default());
  INFO(error);
  REQUIRE(cfg.has_value());
  const axle::Config plain;
  CHECK(cfg->limits == plain.limits);
  CHECK(cfg->timeouts == plain.timeouts);
  CHECK(cfg->sockets == plain.sockets);
  CHECK(cfg->log == plain.log);
  CHECK(cfg->workers == plain.workers);
  CHECK(cfg->module_dirs == plain.module_dirs);
  CHECK(cfg->io == plain.io);
  CHECK(cfg->allocator == plain.allocator);
  CHECK(cfg->parser == plain.parser);
  CHECK(cfg->router == plain.router);
  CHECK(cfg->metrics == plain.metrics);
  CHECK(cfg->metrics_path == plain.metrics_path);
  CHECK(cfg->tls == plain.tls);
  CHECK(cfg->tls_listen.empty());
  CHECK(cfg->admin_listen == std::nullopt);
}

TEST_CASE("a key that is not in the table is refused, naming the table's keys") {
  for (const auto &s : axle::core_settings()) {
    if (s.section == "tls") continue;  // its other keys are the transport module's (config_tls_test.cpp)
    std::string error;
    auto cfg = axle::parse_config(with_line(s.section, "no_such_key = 1"), "u.toml", "/base", error);
    CHECK_FALSE(cfg.has_value());
    INFO(error);
    CHECK(error.find("u.toml:2: " + s.section + ".no_such_key: unknown key") == 0);
    CHECK(error.find(s.key) != std::string::npos);
  }
}

TEST_CASE("integer rows print their range and refuse a value past it") {
  for (const auto &s : axle::core_settings()) {
    if (s.type != "integer") continue;
    INFO(s.section << "." << s.key);
    REQUIRE_FALSE(s.range.empty());
    std::string error;
    auto cfg = axle::parse_config(with_line(s.section, s.key + " = -1"), "r.toml", "/base", error);
    CHECK_FALSE(cfg.has_value());
    CHECK(error.find("r.toml:2: " + s.section + "." + s.key + ": expected an integer") == 0);
  }
}

TEST_CASE("--help-config prints every row under its section") {
  std::string text = axle::describe_core_settings();
  for (const auto &s : axle::core_settings()) {
    INFO(s.section << "." << s.key);
    size_t section = text.find("\n[" + s.section + "]\n");
    REQUIRE(section != std::string::npos);
    size_t row = text.find("\n" + s.key + "  " + s.type, section);
    CHECK(row != std::string::npos);
    size_t next = text.find("\n[", section + 1);
    CHECK((next == std::string::npos || row < next));
  }
}

}  // TEST_SUITE
