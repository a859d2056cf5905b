// Validates a module's option table (or one route's keys) against the keys
// the module declares, so a module only ever sees well-typed, complete config.

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
  }
  return "unknown type";
}

// "an integer", "a string": for "expected ..." messages.
std::string with_article(axle_config_type_t type) {
  return std::string(type == AXLE_CONFIG_INT ? "an " : "a ") + type_name(type);
}

// A value as the operator wrote it, for error messages.
std::string describe(const OptionValue &value) {
  if (auto *text = std::get_if<std::string>(&value)) return "\"" + *text + "\"";
  if (auto *number = std::get_if<int64_t>(&value)) return std::to_string(*number);
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
  }
  return false;
}

// A default's text form ("64", "true", "public") as a typed value.
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
  }
  return std::nullopt;
}

std::string key_path(const OptionTable &table, const std::string &key) {
  return table.path.empty() ? key : table.path + "." + key;
}

std::string declared_keys(const axle_module_descriptor_t &desc) {
  std::string out;
  for (size_t i = 0; i < desc.config_key_count; ++i) {
    if (!out.empty()) out += ", ";
    out += desc.config_keys[i].name;
  }
  return out;
}

const axle_config_key_t *find_key(const axle_module_descriptor_t &desc, const std::string &name) {
  for (size_t i = 0; i < desc.config_key_count; ++i) {
    if (desc.config_keys[i].name && name == desc.config_keys[i].name) return &desc.config_keys[i];
  }
  return nullptr;
}

}  // namespace

bool build_module_config(const axle_module_descriptor_t &desc, const OptionTable &table,
                         const std::vector<std::string> &ignored, const std::string &base_dir,
                         axle_config_t &out, std::string &error) {
  const std::string module = desc.name ? desc.name : "?";
  if (desc.config_key_count && !desc.config_keys) {
    error = "module '" + module + "' declares " + std::to_string(desc.config_key_count) + " keys but no key table";
    return false;
  }
  out.owner = module;
  out.base_dir = base_dir;
  out.values.clear();

  for (const auto &[key, value] : table.values) {
    if (std::find(ignored.begin(), ignored.end(), key) != ignored.end()) continue;
    auto where = table.positions.count(key) ? table.positions.at(key) : table.pos;
    const axle_config_key_t *decl = find_key(desc, key);
    if (!decl) {
      std::string valid = desc.config_key_count ? "valid keys: " + declared_keys(desc) : "it takes no keys";
      error = where.str() + ": " + key_path(table, key) + ": unknown key for module '" + module + "' (" + valid + ")";
      return false;
    }
    if (!matches(decl->type, value)) {
      error = where.str() + ": " + key_path(table, key) + ": expected " + with_article(decl->type) + ", got " +
              describe(value);
      return false;
    }
    out.values[key] = value;
  }

  for (size_t i = 0; i < desc.config_key_count; ++i) {
    const axle_config_key_t &decl = desc.config_keys[i];
    if (!decl.name) {
      error = "module '" + module + "': config key #" + std::to_string(i) + " has no name";
      return false;
    }
    if (out.values.count(decl.name)) continue;
    if (!decl.default_value) {
      error = table.pos.str() + ": " + key_path(table, decl.name) + ": required key missing (module '" + module +
              "': " + (decl.doc ? decl.doc : "") + ")";
      return false;
    }
    auto value = parse_default(decl.type, decl.default_value);
    if (!value) {
      error = "module '" + module + "': key '" + decl.name + "' has default \"" + decl.default_value +
              "\", which is not " + with_article(decl.type);
      return false;
    }
    out.values[decl.name] = std::move(*value);
  }
  return true;
}

std::string validate_declared_keys(const axle_module_descriptor_t &desc) {
  if (desc.config_key_count == 0) return {};
  if (!desc.config_keys) return "declares " + std::to_string(desc.config_key_count) + " config keys but no key table";
  for (size_t i = 0; i < desc.config_key_count; ++i) {
    const axle_config_key_t &key = desc.config_keys[i];
    std::string label = "config key #" + std::to_string(i);
    if (!key.name || !*key.name) return label + " has no name";
    label = "config key '" + std::string(key.name) + "'";
    // Read as an integer: a module can store any bit pattern in the enum.
    int32_t raw_type = 0;
    static_assert(sizeof raw_type == sizeof key.type);
    std::memcpy(&raw_type, &key.type, sizeof raw_type);
    if (raw_type < AXLE_CONFIG_STRING || raw_type > AXLE_CONFIG_BOOL) {
      return label + " has unknown type " + std::to_string(raw_type);
    }
    if (key.default_value && !parse_default(key.type, key.default_value)) {
      return label + " has default \"" + std::string(key.default_value) + "\", which is not " + with_article(key.type);
    }
    for (size_t j = 0; j < i; ++j) {
      if (desc.config_keys[j].name && std::string_view(desc.config_keys[j].name) == key.name) {
        return label + " is declared twice";
      }
    }
  }
  return {};
}

std::string describe_module_keys(const axle_module_descriptor_t &desc) {
  if (desc.config_key_count == 0 || !desc.config_keys) return "  (no configuration keys)\n";
  size_t name_width = 0;
  for (size_t i = 0; i < desc.config_key_count; ++i) {
    if (desc.config_keys[i].name) name_width = std::max(name_width, std::string_view(desc.config_keys[i].name).size());
  }
  std::string out;
  for (size_t i = 0; i < desc.config_key_count; ++i) {
    const axle_config_key_t &key = desc.config_keys[i];
    std::string name = key.name ? key.name : "?";
    std::string type = type_name(key.type);
    std::string def = key.default_value ? "default " + (key.type == AXLE_CONFIG_STRING
                                                             ? "\"" + std::string(key.default_value) + "\""
                                                             : std::string(key.default_value))
                                        : "required";
    out += "  " + name + std::string(name_width - name.size() + 2, ' ') + type +
           std::string(type.size() < 9 ? 9 - type.size() : 1, ' ') + def;
    if (key.doc && *key.doc) out += "  -- " + std::string(key.doc);
    out += "\n";
  }
  return out;
}

}  // namespace axle
