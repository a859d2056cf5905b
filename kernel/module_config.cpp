// Validates a module's option table (or one route's keys) against the keys
// the module declares, so a module only ever sees well-typed, complete config;
// since 1.3 also the tables of its named sections, each against its section's keys.

#include "module_config.h"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace axle {

namespace {

const char *type_name(axle_config_type_t type) {
  switch (type) {
    case AXLE_CONFIG_STRING:
      return "string";
    case AXLE_CONFIG_INT:
      return "integer";
    case AXLE_CONFIG_BOOL:
      return "boolean";
    case AXLE_CONFIG_STRING_LIST:
      return "strings";
  }
  return "unknown type";
}

// "an integer", "a string", "a list of strings": for "expected ..." messages.
std::string with_article(axle_config_type_t type) {
  if (type == AXLE_CONFIG_STRING_LIST) return "a list of strings";
  return std::string(type == AXLE_CONFIG_INT ? "an " : "a ") + type_name(type);
}

std::string quoted_list(const std::vector<std::string> &items) {
  std::string out = "[";
  for (const std::string &item : items) out += (out.size() > 1 ? ", \"" : "\"") + item + "\"";
  return out + "]";
}

// A value as the operator wrote it, for error messages.
std::string describe(const OptionValue &value) {
  if (auto *text = std::get_if<std::string>(&value)) return "\"" + *text + "\"";
  if (auto *number = std::get_if<int64_t>(&value)) return std::to_string(*number);
  if (auto *items = std::get_if<std::vector<std::string>>(&value)) return quoted_list(*items);
  return std::get<bool>(value) ? "true" : "false";
}

bool matches(axle_config_type_t type, const OptionValue &value) {
  switch (type) {
    case AXLE_CONFIG_STRING:
      return std::holds_alternative<std::string>(value);
    case AXLE_CONFIG_INT:
      return std::holds_alternative<int64_t>(value);
    case AXLE_CONFIG_BOOL:
      return std::holds_alternative<bool>(value);
    case AXLE_CONFIG_STRING_LIST:
      return std::holds_alternative<std::vector<std::string>>(value);
  }
  return false;
}

// A default's text form ("64", "true", "public", "a,b") as a typed value.
std::optional<OptionValue> parse_default(axle_config_type_t type, std::string_view text) {
  switch (type) {
    case AXLE_CONFIG_STRING:
      return OptionValue(std::string(text));
    case AXLE_CONFIG_INT: {
      int64_t value = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
      return OptionValue(value);
    }
    case AXLE_CONFIG_BOOL:
      if (text == "true") return OptionValue(true);
      if (text == "false") return OptionValue(false);
      return std::nullopt;
    case AXLE_CONFIG_STRING_LIST: {
      // Comma-joined elements; "" is the empty list.
      std::vector<std::string> items;
      for (size_t start = 0; !text.empty() && start <= text.size();) {
        size_t comma = std::min(text.find(',', start), text.size());
        items.emplace_back(text.substr(start, comma - start));
        start = comma + 1;
      }
      return OptionValue(std::move(items));
    }
  }
  return std::nullopt;
}

std::string key_path(const OptionTable &table, const std::string &key) {
  return table.path.empty() ? key : table.path + "." + key;
}

std::string key_names(const axle_config_key_t *keys, size_t count) {
  std::string out;
  for (size_t i = 0; i < count; ++i) out += (out.empty() ? "" : ", ") + std::string(keys[i].name ? keys[i].name : "?");
  return out;
}

std::string section_names(const ConfigSchema &schema) {
  std::string out;
  for (size_t i = 0; i < schema.section_count; ++i) {
    const char *name = schema.sections[i].name;
    out += (out.empty() ? "" : ", ") + std::string(name ? name : "?");
  }
  return out;
}

const axle_config_key_t *find_key(const ConfigSchema &schema, const std::string &name) {
  for (size_t i = 0; i < schema.key_count; ++i) {
    if (schema.keys[i].name && name == schema.keys[i].name) return &schema.keys[i];
  }
  return nullptr;
}

const axle_config_section_t *find_section(const ConfigSchema &schema, const std::string &name) {
  for (size_t i = 0; i < schema.section_count; ++i) {
    if (schema.sections[i].name && name == schema.sections[i].name) return &schema.sections[i];
  }
  return nullptr;
}

// A section name is written as a bare TOML key: [module.<m>.<section>.<NAME>].
bool bare_key(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// The checks one key table gets, the module's own or a section's.
std::string check_keys(const axle_config_key_t *keys, size_t count) {
  if (count == 0) return {};
  if (!keys) return "declares " + std::to_string(count) + " config keys but no key table";
  for (size_t i = 0; i < count; ++i) {
    const axle_config_key_t &key = keys[i];
    std::string label = "config key #" + std::to_string(i);
    if (!key.name || !*key.name) return label + " has no name";
    label = "config key '" + std::string(key.name) + "'";
    // Read as an integer: a module can store any bit pattern in the enum.
    int32_t raw_type = 0;
    static_assert(sizeof raw_type == sizeof key.type);
    std::memcpy(&raw_type, &key.type, sizeof raw_type);
    if (raw_type < AXLE_CONFIG_STRING || raw_type > AXLE_CONFIG_STRING_LIST) {
      return label + " has unknown type " + std::to_string(raw_type);
    }
    if (key.default_value && !parse_default(key.type, key.default_value)) {
      return label + " has default \"" + std::string(key.default_value) + "\", which is not " + with_article(key.type);
    }
    for (size_t j = 0; j < i; ++j) {
      if (keys[j].name && std::string_view(keys[j].name) == key.name) return label + " is declared twice";
    }
  }
  return {};
}

// The views config_get_string_list hands out, made once the values are final.
void build_list_views(axle_config_t &out) {
  out.list_views.clear();
  for (const auto &[key, value] : out.values) {
    const auto *items = std::get_if<std::vector<std::string>>(&value);
    if (!items) continue;
    std::vector<axle_str_t> &views = out.list_views[key];
    for (const std::string &item : *items) views.push_back({item.data(), item.size()});
  }
}

// The tables under one declared section: [<table>.<section>.<NAME>], each
// validated against the section's keys, kept in NAME order.
bool build_section(const ConfigSchema &schema, const axle_config_section_t &section, const OptionTable &sub,
                   const std::string &base_dir, axle_config_t &out, std::string &error) {
  std::string name = section.name;
  if (!sub.values.empty()) {
    const std::string &key = sub.values.begin()->first;
    auto where = sub.positions.count(key) ? sub.positions.at(key) : sub.pos;
    error = where.str() + ": " + key_path(sub, key) + ": section '" + name + "' of module '" + schema.owner +
            "' holds named tables ([" + sub.path + ".<NAME>]), not keys";
    return false;
  }
  ConfigSchema inner{schema.owner, name, section.keys, section.key_count, nullptr, 0};
  std::vector<ConfigSectionTable> &tables = out.sections[name];
  for (const OptionTable &named : sub.tables) {
    auto config = std::make_unique<axle_config_t>();
    if (!build_config(inner, named, {}, base_dir, *config, error)) return false;
    tables.push_back({named.name, std::move(config)});
  }
  std::sort(tables.begin(), tables.end(), [](const auto &a, const auto &b) { return a.name < b.name; });
  return true;
}

void describe_keys(const axle_config_key_t *keys, size_t count, const std::string &indent, std::string &out) {
  size_t name_width = 0;
  for (size_t i = 0; i < count; ++i) {
    if (keys[i].name) name_width = std::max(name_width, std::string_view(keys[i].name).size());
  }
  for (size_t i = 0; i < count; ++i) {
    const axle_config_key_t &key = keys[i];
    std::string name = key.name ? key.name : "?";
    std::string type = type_name(key.type);
    std::string def = "required";
    if (key.default_value && key.type == AXLE_CONFIG_STRING) {
      def = "default \"" + std::string(key.default_value) + "\"";
    } else if (key.default_value && key.type == AXLE_CONFIG_STRING_LIST) {
      auto items = parse_default(key.type, key.default_value);
      def = "default " + (items ? describe(*items) : std::string(key.default_value));
    } else if (key.default_value) {
      def = "default " + std::string(key.default_value);
    }
    out += indent + name + std::string(name_width - name.size() + 2, ' ') + type +
           std::string(type.size() < 9 ? 9 - type.size() : 1, ' ') + def;
    if (key.doc && *key.doc) out += "  -- " + std::string(key.doc);
    out += "\n";
  }
}

}  // namespace

ConfigSchema module_schema(const axle_module_descriptor_t &desc) {
  ConfigSchema schema;
  schema.owner = desc.name ? desc.name : "?";
  schema.keys = desc.config_keys;
  schema.key_count = desc.config_key_count;
  // A descriptor built for 1.2 or earlier ends before config_sections.
  if (desc.abi_minor >= 3 && AXLE_STRUCT_HAS(&desc, axle_module_descriptor_t, config_section_count)) {
    schema.sections = desc.config_sections;
    schema.section_count = desc.config_section_count;
  }
  return schema;
}

bool build_config(const ConfigSchema &schema, const OptionTable &table, const std::vector<std::string> &ignored,
                  const std::string &base_dir, axle_config_t &out, std::string &error) {
  const std::string &module = schema.owner;
  if (schema.key_count && !schema.keys) {
    error = "module '" + module + "' declares " + std::to_string(schema.key_count) + " keys but no key table";
    return false;
  }
  if (schema.section_count && !schema.sections) {
    error = "module '" + module + "' declares " + std::to_string(schema.section_count) +
            " sections but no section table";
    return false;
  }
  out.owner = module;
  out.base_dir = base_dir;
  out.values.clear();
  out.positions.clear();
  out.sections.clear();
  out.table_position = table.pos.str() + ": " + table.path;
  const std::string whose =
      schema.section.empty() ? "module '" + module + "'" : "section '" + schema.section + "' of module '" + module + "'";

  for (const auto &[key, value] : table.values) {
    if (std::find(ignored.begin(), ignored.end(), key) != ignored.end()) continue;
    auto where = table.positions.count(key) ? table.positions.at(key) : table.pos;
    const axle_config_key_t *decl = find_key(schema, key);
    if (!decl) {
      std::string valid = schema.key_count ? "valid keys: " + key_names(schema.keys, schema.key_count)
                                           : "it takes no keys";
      error = where.str() + ": " + key_path(table, key) + ": unknown key for " + whose + " (" + valid + ")";
      return false;
    }
    if (!matches(decl->type, value)) {
      error = where.str() + ": " + key_path(table, key) + ": expected " + with_article(decl->type) + ", got " +
              describe(value);
      return false;
    }
    out.values[key] = value;
    out.positions[key] = where.str() + ": " + key_path(table, key);
  }

  for (size_t i = 0; i < schema.key_count; ++i) {
    const axle_config_key_t &decl = schema.keys[i];
    if (!decl.name) {
      error = whose + ": config key #" + std::to_string(i) + " has no name";
      return false;
    }
    if (out.values.count(decl.name)) continue;
    if (!decl.default_value) {
      error = table.pos.str() + ": " + key_path(table, decl.name) + ": required key missing (" + whose + ": " +
              (decl.doc ? decl.doc : "") + ")";
      return false;
    }
    auto value = parse_default(decl.type, decl.default_value);
    if (!value) {
      error = whose + ": key '" + decl.name + "' has default \"" + decl.default_value + "\", which is not " +
              with_article(decl.type);
      return false;
    }
    out.values[decl.name] = std::move(*value);
  }

  for (size_t i = 0; i < schema.section_count; ++i) {
    if (schema.sections[i].name) out.sections[schema.sections[i].name];  // declared: counted even when empty
  }
  for (const OptionTable &sub : table.tables) {
    if (std::find(ignored.begin(), ignored.end(), sub.name) != ignored.end()) continue;
    const axle_config_section_t *section = find_section(schema, sub.name);
    if (!section) {
      if (!schema.section.empty()) {
        error = sub.pos.str() + ": " + sub.path + ": a table inside " + whose + " (its tables hold keys only)";
      } else {
        std::string valid = schema.section_count ? "sections: " + section_names(schema) : "it declares none";
        error = sub.pos.str() + ": " + sub.path + ": module '" + module + "' has no section '" + sub.name + "' (" +
                valid + ")";
      }
      return false;
    }
    if (!build_section(schema, *section, sub, base_dir, out, error)) return false;
  }
  build_list_views(out);
  return true;
}

bool build_module_config(const axle_module_descriptor_t &desc, const OptionTable &table,
                         const std::vector<std::string> &ignored, const std::string &base_dir,
                         axle_config_t &out, std::string &error) {
  return build_config(module_schema(desc), table, ignored, base_dir, out, error);
}

bool build_handler_instance_config(const axle_module_descriptor_t &desc, const OptionTable &table,
                                   const std::string &base_dir, axle_config_t &out, std::string &error) {
  ConfigSchema schema = module_schema(desc);
  if (!table.values.empty()) {
    const std::string &key = table.values.begin()->first;
    auto where = table.positions.count(key) ? table.positions.at(key) : table.pos;
    error = where.str() + ": " + key_path(table, key) + ": a handler's keys go in the [[route]] tables that use it; [" +
            table.path + "] holds only the tables of its sections (" + section_names(schema) + ")";
    return false;
  }
  schema.keys = nullptr;  // the declared keys are the routes'
  schema.key_count = 0;
  return build_config(schema, table, {}, base_dir, out, error);
}

std::string validate_declared_keys(const axle_module_descriptor_t &desc) {
  std::string problem = check_keys(desc.config_keys, desc.config_key_count);
  if (!problem.empty()) return problem;
  ConfigSchema schema = module_schema(desc);
  if (schema.section_count == 0) return {};
  if (!schema.sections) return "declares " + std::to_string(schema.section_count) + " config sections but no section table";
  for (size_t i = 0; i < schema.section_count; ++i) {
    const axle_config_section_t &section = schema.sections[i];
    if (!section.name || !*section.name) return "config section #" + std::to_string(i) + " has no name";
    std::string label = "config section '" + std::string(section.name) + "'";
    if (!bare_key(section.name)) return label + " is not a bare TOML key (letters, digits, '_' and '-' only)";
    // Both would be written at [module.<m>].<name>; a handler's keys are its routes', not there.
    if (desc.kind != AXLE_KIND_HANDLER && find_key(schema, section.name)) return label + " has the name of a config key";
    for (size_t j = 0; j < i; ++j) {
      if (schema.sections[j].name && std::string_view(schema.sections[j].name) == section.name) {
        return label + " is declared twice";
      }
    }
    problem = check_keys(section.keys, section.key_count);
    if (!problem.empty()) return label + ": " + problem;
  }
  return {};
}

std::string describe_module_keys(const axle_module_descriptor_t &desc) {
  std::string out;
  if (desc.config_key_count == 0 || !desc.config_keys) {
    out = "  (no configuration keys)\n";
  } else {
    describe_keys(desc.config_keys, desc.config_key_count, "  ", out);
  }
  ConfigSchema schema = module_schema(desc);
  if (!schema.sections) return out;
  // A transport's options are the [tls] table; every other module's [module.<name>].
  std::string table = desc.kind == AXLE_KIND_TRANSPORT ? "tls" : "module." + schema.owner;
  for (size_t i = 0; i < schema.section_count; ++i) {
    const axle_config_section_t &section = schema.sections[i];
    out += "\n  [" + table + "." + (section.name ? section.name : "?") + ".<NAME>]";
    if (section.doc && *section.doc) out += "  -- " + std::string(section.doc);
    out += "\n";
    if (section.key_count && section.keys) describe_keys(section.keys, section.key_count, "    ", out);
  }
  return out;
}

}  // namespace axle
