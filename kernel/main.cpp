// axle: command line entry point.
#include "config.h"
#include "module_config.h"
#include "module_loader.h"
#include "server.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace {

constexpr const char *kUsage = R"(usage: axle [options]

Runs the axle HTTP/1.1 server. With no --config it serves its embedded
default config (configs/default.toml) on 127.0.0.1:8080.

options:
  --config FILE         serve FILE (TOML); SIGHUP re-reads it
  --check FILE          validate FILE and the modules it names, then exit
  --listen HOST:PORT    listen here instead of the config's [server] listen
                        (repeatable; port 0 picks a free port, logged at start)
  --list-modules        list the modules found in the module directories
  --help-module NAME    describe module NAME and its config keys
  --log-level LEVEL     debug | info | warn | error (overrides [log] level)
  --version             print the version
  --help                print this help

Module directories: [server] module_dirs, $AXLE_MODULE_PATH, then
<prefix>/lib/axle/modules next to the binary.
)";

int usage_error(const std::string &message) {
  std::fprintf(stderr, "axle: %s\n(try axle --help)\n", message.c_str());
  return 2;
}

std::optional<axle::Config> load(const std::string &path, std::string &error) {
  if (path.empty()) {
    std::error_code ec;
    std::string cwd = std::filesystem::current_path(ec).string();
    return axle::parse_config(axle::default_config_text(), "<embedded default>", cwd, error);
  }
  return axle::load_config_file(path, error);
}

int list_modules(const std::vector<std::string> &dirs) {
  auto listing = axle::list_modules(dirs);
  if (listing.empty()) {
    std::printf("no modules found in:");
    for (const auto &d : dirs) std::printf(" %s", d.c_str());
    std::printf("\n");
    return 1;
  }
  std::printf("%-8s %-12s %-8s %-5s %s\n", "KIND", "NAME", "VERSION", "ABI", "FILE");
  for (const auto &m : listing) {
    if (!m.library) {
      std::printf("%-8s %-12s %-8s %-5s %s  (refused: %s)\n", "?", "?", "?", "?", m.path.c_str(), m.error.c_str());
      continue;
    }
    const auto &d = m.library->descriptor();
    std::string abi = std::to_string(d.abi_major) + "." + std::to_string(d.abi_minor);
    std::printf("%-8s %-12s %-8s %-5s %s\n", m.library->kind_name().c_str(), d.name, d.version, abi.c_str(),
                m.path.c_str());
  }
  return 0;
}

int help_module(const std::string &name, const std::vector<std::string> &dirs) {
  for (const auto &m : axle::list_modules(dirs)) {
    if (!m.library || name != m.library->descriptor().name) continue;
    const auto &d = m.library->descriptor();
    std::printf("%s module '%s' %s (%s)\n%s\n\n%s", m.library->kind_name().c_str(), d.name, d.version,
                m.path.c_str(), d.description ? d.description : "", axle::describe_module_keys(d).c_str());
    return 0;
  }
  std::fprintf(stderr, "axle: no module named '%s' (see axle --list-modules)\n", name.c_str());
  return 1;
}

}  // namespace

int main(int argc, char **argv) {
  spdlog::set_default_logger(spdlog::stderr_color_mt("axle"));
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");

  std::string config_path, check_path, help_module_name, log_level;
  std::vector<axle::ListenAddress> listen;
  bool want_list = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](std::string &out) {
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (arg == "--version") {
      std::printf("axle %s (plugin ABI %d.%d)\n", AXLE_VERSION, AXLE_ABI_MAJOR, AXLE_ABI_MINOR);
      return 0;
    } else if (arg == "--config") {
      if (!value(config_path)) return usage_error("--config needs a FILE");
    } else if (arg == "--check") {
      if (!value(check_path)) return usage_error("--check needs a FILE");
    } else if (arg == "--listen") {
      std::string text, error;
      if (!value(text)) return usage_error("--listen needs HOST:PORT");
      axle::ListenAddress addr;
      if (!axle::parse_listen_address(text, addr, error)) return usage_error("--listen " + text + ": " + error);
      listen.push_back(addr);
    } else if (arg == "--list-modules") {
      want_list = true;
    } else if (arg == "--help-module") {
      if (!value(help_module_name)) return usage_error("--help-module needs a NAME");
    } else if (arg == "--log-level") {
      if (!value(log_level)) return usage_error("--log-level needs a LEVEL");
    } else {
      return usage_error("unknown option " + arg);
    }
  }

  std::string error;
  if (!check_path.empty()) {
    auto config = axle::load_config_file(check_path, error);
    if (!config || !axle::Server::check(*config, error)) {
      std::fprintf(stderr, "axle: %s: %s\n", check_path.c_str(), error.c_str());
      return 1;
    }
    std::printf("%s: configuration and modules OK\n", check_path.c_str());
    return 0;
  }

  auto config = load(config_path, error);
  if (!config) {
    std::fprintf(stderr, "axle: %s\n", error.c_str());
    return 1;
  }
  std::vector<std::string> dirs = config->module_dirs;
  for (const auto &d : axle::default_module_dirs()) dirs.push_back(d);
  if (want_list) return list_modules(dirs);
  if (!help_module_name.empty()) return help_module(help_module_name, dirs);

  std::string level = log_level.empty() ? config->log.level : log_level;
  auto parsed = spdlog::level::from_str(level);
  if (parsed == spdlog::level::off && level != "off") return usage_error("unknown log level " + level);
  spdlog::set_level(parsed);

  int status;
  // Starting fails with a message and status 1, never an abort; reloads
  // contain their own failures (Server::reload).
  try {
    axle::Server server(std::move(*config), config_path, std::move(listen));
    status = server.run();
  } catch (const std::exception &e) {
    spdlog::error("cannot start: {}", e.what());
    status = 1;
  }
  spdlog::shutdown();  // drains the access log's queue
  return status;
}
