// axle: command line entry point.
#include "command_line.h"
#include "config.h"
#include "module_config.h"
#include "module_loader.h"
#include "server.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace {

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

  axle::CommandLine cli;
  std::string error;
  if (!axle::parse_command_line(argc, argv, cli, error)) return usage_error(error);
  using Action = axle::CommandLine::Action;
  switch (cli.action) {
    case Action::Help:
      std::fputs(axle::kUsage, stdout);
      return 0;
    case Action::Version:
      std::printf("axle %s (plugin ABI %d.%d)\n", AXLE_VERSION, AXLE_ABI_MAJOR, AXLE_ABI_MINOR);
      return 0;
    case Action::HelpConfig:
      std::fputs(axle::describe_core_settings().c_str(), stdout);
      return 0;
    case Action::Check: {
      // Every error already starts with the file's name (and line).
      auto config = axle::load_config_file(cli.config_path, error);
      if (!config || !axle::Server::check(*config, error)) {
        std::fprintf(stderr, "axle: %s\n", error.c_str());
        return 1;
      }
      std::printf("%s: configuration and modules OK\n", cli.config_path.c_str());
      return 0;
    }
    default:
      break;
  }

  auto config = load(cli.config_path, error);
  if (!config) {
    std::fprintf(stderr, "axle: %s\n", error.c_str());
    return 1;
  }
  std::vector<std::string> dirs = config->module_dirs;
  for (const auto &d : axle::default_module_dirs()) dirs.push_back(d);
  if (cli.action == Action::ListModules) return list_modules(dirs);
  if (cli.action == Action::HelpModule) return help_module(cli.module_name, dirs);

  // Both the config and the command line checked the name against kLogLevels.
  spdlog::set_level(spdlog::level::from_str(cli.log_level.empty() ? config->log.level : cli.log_level));

  int status;
  // Starting fails with a message and status 1, never an abort; reloads
  // contain their own failures (Server::reload).
  try {
    axle::Server server(std::move(*config), cli.config_path, std::move(cli.listen));
    status = server.run();
  } catch (const std::exception &e) {
    spdlog::error("cannot start: {}", e.what());
    status = 1;
  }
  spdlog::shutdown();  // drains the access log's queue
  return status;
}
