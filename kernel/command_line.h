// The command line: parsed with getopt_long (so "--opt=value" and "--opt value"
// both work) into one action and its inputs; conflicting flags are refused here,
// before any file or module is touched.
#pragma once

#include "config.h"

#include <string>
#include <vector>

namespace axle {

struct CommandLine {
  enum class Action { Serve, Check, ListModules, HelpModule, HelpConfig, Help, Version };
  Action action = Action::Serve;
  std::string config_path;  // --config FILE, or --check FILE; empty = the embedded default
  std::string module_name;  // --help-module NAME
  std::string log_level;    // --log-level, already checked against kLogLevels; empty = the config's
  std::vector<ListenAddress> listen;  // --listen, repeatable
};

// The text of axle --help.
extern const char *const kUsage;

// Parses argv (argv[0] is the program). On a usage error returns false and sets
// error to one line without the "axle: " prefix. Not thread-safe (getopt state).
bool parse_command_line(int argc, char **argv, CommandLine &out, std::string &error);

}  // namespace axle
