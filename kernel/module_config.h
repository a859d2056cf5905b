// The host side of axle_config_t: a module's options (or one route's keys)
// validated against the keys the module declares, with defaults filled in,
// and (1.3) its named sections' tables validated the same way.
#pragma once

#include "config.h"

#include <axle/module.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace axle {

// One table of a declared section ([module.<m>.<section>.<NAME>]).
struct ConfigSectionTable {
  std::string name;                       // NAME
  std::unique_ptr<axle_config_t> config;  // its validated keys; owned by the parent config
};

}  // namespace axle

struct axle_config_t {
  std::string owner;      // module name (for logs)
  std::string base_dir;   // for config_base_dir
  std::map<std::string, axle::OptionValue> values;
  // Since 1.3. Built once by build_config and never changed after, so the
  // host can hand out pointers into them for as long as the config lives.
  std::map<std::string, std::vector<axle_str_t>> list_views;  // views of the list values, per key
  std::map<std::string, std::string> positions;  // "FILE:LINE: path.key" of each key written
  std::string table_position;                    // "FILE:LINE: path" of the table itself
  // Declared section name -> its tables in NAME order (a declared section
  // with no table maps to an empty list).
  std::map<std::string, std::vector<axle::ConfigSectionTable>> sections;
};

namespace axle {

// What a table is validated against: its keys, and the sections whose
// tables may sit under it. A module's options, one route, a section's table
// and the transport's [tls] table all go through this one shape.
struct ConfigSchema {
  std::string owner;    // module name, for messages
  std::string section;  // set for a section's table: the section's name
  const axle_config_key_t *keys = nullptr;
  size_t key_count = 0;
  const axle_config_section_t *sections = nullptr;
  size_t section_count = 0;
};

// The descriptor's keys and, from a 1.3 descriptor (AXLE_STRUCT_HAS and
// minor >= 3), its sections.
ConfigSchema module_schema(const axle_module_descriptor_t &desc);

// Checks every key of `table` is declared with the right type, applies
// defaults, and reports missing required keys; then validates each
// sub-table [<table>.<section>.<NAME>] against its section's keys (a
// sub-table of an undeclared section, or a plain key where a section's tables
// belong, is an error). Keys in `ignored` (e.g. a route's own "path",
// "handler", "methods"; [tls] "listen") are skipped. Error form:
// "<file>:<line>: <key>: <what>".
bool build_config(const ConfigSchema &schema, const OptionTable &table, const std::vector<std::string> &ignored,
                  const std::string &base_dir, axle_config_t &out, std::string &error);

// build_config with module_schema(desc).
bool build_module_config(const axle_module_descriptor_t &desc, const OptionTable &table,
                         const std::vector<std::string> &ignored, const std::string &base_dir,
                         axle_config_t &out, std::string &error);

// A handler's [module.<handler>] table (1.3): only sub-tables of its
// declared sections; its plain keys are route keys and belong in [[route]].
bool build_handler_instance_config(const axle_module_descriptor_t &desc, const OptionTable &table,
                                   const std::string &base_dir, axle_config_t &out, std::string &error);

// Checks the key table and the section table a module declares (names
// present and unique, known types, defaults that parse as their type; section
// names that are TOML bare keys, unique, and apart from a handler's, distinct
// from the plain keys).
// Empty string when valid; the loader refuses a module otherwise.
std::string validate_declared_keys(const axle_module_descriptor_t &desc);

// Text for `axle --help-module`: one line per key with type, default and
// doc, then each section's table with its keys.
std::string describe_module_keys(const axle_module_descriptor_t &desc);

}  // namespace axle
