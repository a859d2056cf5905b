// The host side of axle_config_t: a module's options (or one route's keys)
// validated against the keys the module declares, with defaults filled in.
#pragma once

#include "config.h"

#include <axle/module.h>

#include <string>
#include <vector>

struct axle_config_t {
  std::string owner;      // module name (for logs)
  std::string base_dir;   // for config_base_dir
  std::map<std::string, axle::OptionValue> values;
};

namespace axle {

// Checks every key of `table` is declared with the right type, applies
// defaults, and reports missing required keys. Keys in `ignored` (e.g. a
// route's own "path", "handler", "methods") are skipped. Error form:
// "<file>:<line>: <key>: <what>".
bool build_module_config(const axle_module_descriptor_t &desc, const OptionTable &table,
                         const std::vector<std::string> &ignored, const std::string &base_dir,
                         axle_config_t &out, std::string &error);

// Checks the key table a module declares (names present and unique, known
// types, defaults that parse as their type). Empty string when valid; the
// loader refuses a module otherwise.
std::string validate_declared_keys(const axle_module_descriptor_t &desc);

// Text for `axle --help-module`: one line per key with type, default and doc.
std::string describe_module_keys(const axle_module_descriptor_t &desc);

}  // namespace axle
