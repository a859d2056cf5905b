// The command line: both value spellings, conflicting flags, unknown options,
// and the messages an operator sees (main prints them after "axle: ").
#include "command_line.h"

#include <doctest/doctest.h>

#include <initializer_list>
#include <string>
#include <vector>

namespace {

struct Parsed {
  bool ok;
  axle::CommandLine cli;
  std::string error;
};

Parsed parse(std::initializer_list<const char *> args) {
  std::vector<std::string> storage{"axle"};
  for (const char *a : args) storage.emplace_back(a);
  std::vector<char *> argv;
  for (auto &s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  Parsed p;
  p.ok = axle::parse_command_line(static_cast<int>(storage.size()), argv.data(), p.cli, p.error);
  return p;
}

}  // namespace

TEST_SUITE("command_line") {

TEST_CASE("no arguments serves the embedded default") {
  auto p = parse({});
  REQUIRE(p.ok);
  CHECK(p.cli.action == axle::CommandLine::Action::Serve);
  CHECK(p.cli.config_path.empty());
}

TEST_CASE("a value after '=' or after a space") {
  for (auto p : {parse({"--config=a.toml", "--listen=127.0.0.1:0", "--log-level=debug"}),
                 parse({"--config", "a.toml", "--listen", "127.0.0.1:0", "--log-level", "debug"})}) {
    INFO(p.error);
    REQUIRE(p.ok);
    CHECK(p.cli.action == axle::CommandLine::Action::Serve);
    CHECK(p.cli.config_path == "a.toml");
    REQUIRE(p.cli.listen.size() == 1);
    CHECK(p.cli.listen[0].text() == "127.0.0.1:0");
    CHECK(p.cli.log_level == "debug");
  }
  auto check = parse({"--check=x.toml"});
  REQUIRE(check.ok);
  CHECK(check.cli.action == axle::CommandLine::Action::Check);
  CHECK(check.cli.config_path == "x.toml");
  auto module = parse({"--help-module", "static", "--config", "c.toml"});
  REQUIRE(module.ok);
  CHECK(module.cli.action == axle::CommandLine::Action::HelpModule);
  CHECK(module.cli.module_name == "static");
}

TEST_CASE("--listen repeats") {
  auto p = parse({"--listen", "127.0.0.1:0", "--listen=[::1]:8080"});
  REQUIRE(p.ok);
  REQUIRE(p.cli.listen.size() == 2);
  CHECK(p.cli.listen[1].text() == "[::1]:8080");
}

TEST_CASE("conflicting flags are refused") {
  CHECK(parse({"--check", "a.toml", "--config", "b.toml"}).error ==
        "--check FILE validates FILE; it cannot be combined with --config");
  CHECK(parse({"--config=b.toml", "--check=a.toml"}).error ==
        "--check FILE validates FILE; it cannot be combined with --config");
  CHECK(parse({"--check=a.toml", "--list-modules"}).error == "--check and --list-modules cannot be combined");
  CHECK(parse({"--help-config", "--help-module=x"}).error == "--help-config and --help-module cannot be combined");
  CHECK(parse({"--list-modules", "--listen=127.0.0.1:0"}).error ==
        "--listen applies only when serving; it cannot be combined with --list-modules");
  CHECK(parse({"--check=a", "--check=b"}).error == "--check is given twice");
  CHECK(parse({"--config=a", "--config=b"}).error == "--config is given twice");
  CHECK(parse({"--log-level=info", "--log-level=warn"}).error == "--log-level is given twice");
}

TEST_CASE("unknown options, stray arguments and missing values are refused") {
  CHECK(parse({"--no-such-flag"}).error == "unknown option --no-such-flag");
  CHECK(parse({"-x"}).error == "unknown option -x");
  CHECK(parse({"--version=2"}).error == "option --version takes no value");
  CHECK(parse({"config.toml"}).error == "unexpected argument \"config.toml\" (a config file goes after --config)");
  CHECK(parse({"--config"}).error == "--config needs a value (--config VALUE or --config=VALUE)");
  CHECK(parse({"--config="}).error == "--config needs a FILE");
  CHECK(parse({"--help-module="}).error == "--help-module needs a module NAME");
}

TEST_CASE("--log-level lists the valid levels") {
  auto p = parse({"--log-level", "loud"});
  CHECK_FALSE(p.ok);
  CHECK(p.error == "--log-level: unknown level \"loud\" (expected one of: debug, info, warn, error)");
  for (const char *level : {"debug", "info", "warn", "error"}) CHECK(parse({"--log-level", level}).ok);
}

TEST_CASE("--listen with a name asks for a numeric address") {
  auto p = parse({"--listen", "localhost:8080"});
  CHECK_FALSE(p.ok);
  CHECK(p.error == "--listen: invalid listen address \"localhost:8080\": the host must be a numeric address, e.g. "
                   "\"127.0.0.1:8080\" or \"[::1]:8080\" (names such as localhost are not resolved)");
}

TEST_CASE("--help and --version win wherever they stand") {
  CHECK(parse({"--config=a", "--help"}).cli.action == axle::CommandLine::Action::Help);
  CHECK(parse({"-h"}).cli.action == axle::CommandLine::Action::Help);
  CHECK(parse({"--version"}).cli.action == axle::CommandLine::Action::Version);
  CHECK(parse({"--help-config"}).cli.action == axle::CommandLine::Action::HelpConfig);
}

TEST_CASE("the parser can run twice (getopt state is reset)") {
  CHECK_FALSE(parse({"--config=a", "--bogus"}).ok);
  auto p = parse({"--config", "b.toml"});
  REQUIRE(p.ok);
  CHECK(p.cli.config_path == "b.toml");
}

}  // TEST_SUITE
