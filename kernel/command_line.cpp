// Command-line parsing with getopt_long; see command_line.h.
#include "command_line.h"

#include <getopt.h>

#include <algorithm>

namespace axle {

const char *const kUsage = R"(usage: axle [options]

Runs the axle HTTP/1.1 server. With no --config it serves its embedded
default config (configs/default.toml) on 127.0.0.1:8080.

options (a value goes after a space or an '=': --config=FILE):
  --config FILE         serve FILE (TOML); SIGHUP re-reads it
  --check FILE          validate FILE and the modules it names, then exit
                        (alone: not with --config, --listen or another action)
  --listen HOST:PORT    listen here instead of the config's [server] listen
                        (numeric address; repeatable; port 0 picks a free port,
                        logged at start)
  --list-modules        list the modules found in the module directories
  --help-module NAME    describe module NAME and its config keys
  --help-config         list every core setting with its unit and default
  --log-level LEVEL     debug | info | warn | error (overrides [log] level)
  --version             print the version
  --help                print this help

Module directories: [server] module_dirs, $AXLE_MODULE_PATH, then
<prefix>/lib/axle/modules next to the binary.
)";

namespace {

// Long options only (but -h): values above any character.
enum Option : int {
  kConfig = 256,
  kCheck,
  kListen,
  kListModules,
  kHelpModule,
  kHelpConfig,
  kLogLevel,
  kVersion,
};

constexpr option kOptions[] = {
    {"config", required_argument, nullptr, kConfig},
    {"check", required_argument, nullptr, kCheck},
    {"listen", required_argument, nullptr, kListen},
    {"list-modules", no_argument, nullptr, kListModules},
    {"help-module", required_argument, nullptr, kHelpModule},
    {"help-config", no_argument, nullptr, kHelpConfig},
    {"log-level", required_argument, nullptr, kLogLevel},
    {"version", no_argument, nullptr, kVersion},
    {"help", no_argument, nullptr, 'h'},
    {nullptr, 0, nullptr, 0},
};

std::string flag_name(int value) {
  if (value == 'h') return "--help";
  for (const option &o : kOptions) {
    if (o.name && o.val == value) return std::string("--") + o.name;
  }
  return "?";
}

}  // namespace

bool parse_command_line(int argc, char **argv, CommandLine &out, std::string &error) {
  out = CommandLine{};
  int action_flag = 0;  // the flag that chose a non-serving action, for conflict messages
  bool saw_config = false, saw_log_level = false;
  auto set_action = [&](CommandLine::Action action, int flag) {
    if (action_flag && action_flag != flag) {
      error = flag_name(action_flag) + " and " + flag_name(flag) + " cannot be combined";
      return false;
    }
    if (action_flag == flag) {
      error = flag_name(flag) + " is given twice";
      return false;
    }
    action_flag = flag;
    out.action = action;
    return true;
  };
  auto needs_value = [&](int flag, const char *what) {
    if (optarg && *optarg) return true;
    error = flag_name(flag) + " needs " + what;
    return false;
  };

  optind = 0;  // 0, not 1: glibc then resets all of its state (parse_command_line may run twice)
  opterr = 0;  // our own messages, with the help hint
  int c;
  // ':' first: a missing value returns ':' rather than '?'.
  while ((c = getopt_long(argc, argv, ":h", kOptions, nullptr)) != -1) {
    switch (c) {
      case 'h':
        out.action = CommandLine::Action::Help;
        return true;
      case kVersion:
        out.action = CommandLine::Action::Version;
        return true;
      case kConfig:
        if (!needs_value(c, "a FILE")) return false;
        if (saw_config) {
          error = "--config is given twice";
          return false;
        }
        saw_config = true;
        out.config_path = optarg;
        break;
      case kCheck:
        if (!needs_value(c, "a FILE") || !set_action(CommandLine::Action::Check, c)) return false;
        out.config_path = optarg;
        break;
      case kListen: {
        if (!needs_value(c, "HOST:PORT")) return false;
        ListenAddress addr;
        std::string why;
        if (!parse_listen_address(optarg, addr, why)) {
          error = "--listen: " + why;
          return false;
        }
        out.listen.push_back(addr);
        break;
      }
      case kListModules:
        if (!set_action(CommandLine::Action::ListModules, c)) return false;
        break;
      case kHelpModule:
        if (!needs_value(c, "a module NAME") || !set_action(CommandLine::Action::HelpModule, c)) return false;
        out.module_name = optarg;
        break;
      case kHelpConfig:
        if (!set_action(CommandLine::Action::HelpConfig, c)) return false;
        break;
      case kLogLevel: {
        if (!needs_value(c, "a LEVEL (debug, info, warn or error)")) return false;
        if (saw_log_level) {
          error = "--log-level is given twice";
          return false;
        }
        saw_log_level = true;
        out.log_level = optarg;
        if (std::find(std::begin(kLogLevels), std::end(kLogLevels), out.log_level) == std::end(kLogLevels)) {
          error = "--log-level: unknown level \"" + out.log_level + "\" (expected one of: " + log_level_list() + ")";
          return false;
        }
        break;
      }
      case ':':
        error = flag_name(optopt) + " needs a value (" + flag_name(optopt) + " VALUE or " + flag_name(optopt) + "=VALUE)";
        return false;
      default:  // '?': an unknown option, or a value given to a flag that takes none
        if (optopt >= kConfig) error = "option " + flag_name(optopt) + " takes no value";
        else error = std::string("unknown option ") + argv[optind - 1];
        return false;
    }
  }
  if (optind < argc) {
    error = std::string("unexpected argument \"") + argv[optind] + "\" (a config file goes after --config)";
    return false;
  }
  // --check names the file it validates, and validating serves nothing.
  if (out.action == CommandLine::Action::Check && saw_config) {
    error = "--check FILE validates FILE; it cannot be combined with --config";
    return false;
  }
  if (out.action != CommandLine::Action::Serve && !out.listen.empty()) {
    error = "--listen applies only when serving; it cannot be combined with " + flag_name(action_flag);
    return false;
  }
  return true;
}

}  // namespace axle
