// axle C++ SDK: config key declarations, typed config lookups and the host's
// logging, over the host services table (axle/module.h).
#pragma once

#include <axle/module.h>
#include <axle/sdk/error.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace axle::sdk {

// ---- config key table entries (a module's `static constexpr axle_config_key_t config_keys[]`) ----

// Pass as default_value to make a key required.
inline constexpr const char *required = nullptr;

// default_value is the text form ("64", "true"); all arguments must be static strings.
constexpr axle_config_key_t string_key(const char *name, const char *default_value, const char *doc) {
  return {.name = name, .type = AXLE_CONFIG_STRING, .default_value = default_value, .doc = doc};
}
constexpr axle_config_key_t int_key(const char *name, const char *default_value, const char *doc) {
  return {.name = name, .type = AXLE_CONFIG_INT, .default_value = default_value, .doc = doc};
}
constexpr axle_config_key_t bool_key(const char *name, const char *default_value, const char *doc) {
  return {.name = name, .type = AXLE_CONFIG_BOOL, .default_value = default_value, .doc = doc};
}
// Since 1.3: an array of strings; default_value joins the elements with commas ("" = empty).
constexpr axle_config_key_t string_list_key(const char *name, const char *default_value, const char *doc) {
  return {.name = name, .type = AXLE_CONFIG_STRING_LIST, .default_value = default_value, .doc = doc};
}
// Since 1.3: a family of named tables ([module.<m>.<name>.<NAME>]), each with `keys`.
template <size_t N>
constexpr axle_config_section_t config_section(const char *name, const char *doc, const axle_config_key_t (&keys)[N]) {
  return {.name = name, .doc = doc, .keys = keys, .key_count = N};
}

class Config;
struct ConfigSection;

enum class LogLevel { debug = AXLE_LOG_DEBUG, info = AXLE_LOG_INFO, warn = AXLE_LOG_WARN, error = AXLE_LOG_ERROR };

// The host services a module instance was created with. Cheap to copy; valid
// from create() until destroy(), so route objects may keep one.
class Host {
 public:
  Host(const axle_host_api_t *api, const axle_config_t *module_config) : api_(api), module_config_(module_config) {}

  // Logs one line under the module's name.
  void log(LogLevel level, std::string_view message) const {
    api_->log(module_config_, static_cast<axle_log_level_t>(level), message.data(), message.size());
  }
  // Monotonic clock in nanoseconds.
  uint64_t now_ns() const { return api_->now_ns(); }
  // The instance's own options ([module.<name>]; for a handler, since 1.3,
  // the tables of its sections). Defined below Config.
  Config config() const;

  // The C table. Call a slot appended after 1.0 only after
  // AXLE_STRUCT_HAS(api(), axle_host_api_t, slot): an older host lacks it.
  const axle_host_api_t *api() const { return api_; }

 private:
  const axle_host_api_t *api_;
  const axle_config_t *module_config_;
};

// A validated config table: the module's options, or one [[route]].
// A declared key always resolves (to its value or its default).
class Config {
 public:
  Config(const axle_host_api_t *api, const axle_config_t *cfg) : api_(api), cfg_(cfg) {}

  // T is std::string (a copy), std::string_view (host memory that lives as
  // long as this config: for a route, until its route object is destroyed),
  // int64_t, bool, or (1.3, a string list key) std::vector of std::string or
  // std::string_view. Throws Error if the key is not declared with that type,
  // or for a list on a host older than 1.3.
  template <class T>
  T get(const char *key) const {
    if constexpr (std::is_same_v<T, std::vector<std::string>> || std::is_same_v<T, std::vector<std::string_view>>) {
      const axle_str_t *items = nullptr;
      size_t count = 0;
      lookup(AXLE_STRUCT_HAS(api_, axle_host_api_t, config_get_string_list)
                 ? api_->config_get_string_list(cfg_, key, &items, &count)
                 : AXLE_ERR_UNSUPPORTED,
             key, "string list");
      T out;
      for (size_t i = 0; i < count; ++i) out.emplace_back(items[i].ptr, items[i].len);
      return out;
    } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::string_view>) {
      axle_str_t out{};
      lookup(api_->config_get_string(cfg_, key, &out), key, "string");
      return out.len ? T(out.ptr, out.len) : T();
    } else if constexpr (std::is_same_v<T, int64_t>) {
      int64_t out = 0;
      lookup(api_->config_get_int(cfg_, key, &out), key, "integer");
      return out;
    } else if constexpr (std::is_same_v<T, bool>) {
      int out = 0;
      lookup(api_->config_get_bool(cfg_, key, &out), key, "boolean");
      return out != 0;
    } else {
      static_assert(!sizeof(T),
                    "Config::get<T>: T must be std::string, std::string_view, int64_t, bool or a std::vector of strings");
    }
  }

  // Directory of the config file, to resolve relative paths against.
  std::string_view base_dir() const { return api_->config_base_dir(cfg_); }

  // Since 1.3: the tables of a declared section, in name order; each name
  // and config lives as long as this config. Empty on an older host (which
  // accepts no section tables).
  std::vector<ConfigSection> section(const char *name) const;

  // Since 1.3: "FILE:LINE: path.to.key" where key (nullptr: this table) was
  // written, for the module's own error messages; "" on an older host.
  std::string_view position(const char *key = nullptr) const {
    if (!AXLE_STRUCT_HAS(api_, axle_host_api_t, config_position)) return {};
    return api_->config_position(cfg_, key);
  }

  const axle_config_t *raw() const { return cfg_; }

 private:
  static void lookup(axle_status_t status, const char *key, const char *type) {
    if (status != AXLE_OK)
      throw Error(status, std::string("config key \"") + key + "\" is not a declared " + type + " key");
  }

  const axle_host_api_t *api_;
  const axle_config_t *cfg_;
};

inline Config Host::config() const { return Config(api_, module_config_); }

// One table of a section: [module.<m>.<section>.<name>].
struct ConfigSection {
  std::string_view name;
  Config config;
};

inline std::vector<ConfigSection> Config::section(const char *name) const {
  std::vector<ConfigSection> out;
  if (!AXLE_STRUCT_HAS(api_, axle_host_api_t, config_section_at)) return out;
  size_t count = api_->config_section_count(cfg_, name);
  for (size_t i = 0; i < count; ++i) {
    axle_str_t table_name{};
    const axle_config_t *table = nullptr;
    if (api_->config_section_at(cfg_, name, i, &table_name, &table) != AXLE_OK) break;
    out.push_back({std::string_view(table_name.ptr, table_name.len), Config(api_, table)});
  }
  return out;
}

// What route_init receives: the [[route]] table, its path pattern and the host.
class RouteConfig : public Config {
 public:
  RouteConfig(Host host, const axle_config_t *cfg, std::string_view pattern)
      : Config(host.api(), cfg), host_(host), pattern_(pattern) {}

  // The route's path pattern; borrowed for route_init only, copy it to keep it.
  std::string_view pattern() const { return pattern_; }
  const Host &host() const { return host_; }

 private:
  Host host_;
  std::string_view pattern_;
};

}  // namespace axle::sdk
