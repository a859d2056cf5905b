// Parses and validates the TOML configuration (see config.h). Everything is
// checked here, before any module or socket is touched, and every error names
// file, line and key so an operator can fix it without guessing.

#include "config.h"

#include "http/char_class.h"

#include <axle/router.h>

#include <arpa/inet.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <sstream>
#include <toml++/toml.h>

extern "C" {
extern const char axle_default_config_begin[];
extern const char axle_default_config_end[];
}

namespace axle {

namespace {

namespace fs = std::filesystem;

// Thrown inside this file only, to unwind out of nested validation; turned
// into the error string at the parse_config boundary.
struct ConfigError {
  std::string message;
};

constexpr int64_t kMaxU32 = std::numeric_limits<uint32_t>::max();
constexpr int64_t kMaxInt = std::numeric_limits<int>::max();
constexpr int64_t kMaxWorkers = 1024;

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// One bounded integer key of a section: its accepted range and where it goes.
// The upper bounds keep every size the kernel derives from a value (per-worker
// scratch, timer arithmetic, the connection table) small enough to allocate
// and far from overflow; they are well above any real deployment.
template <class Section>
struct BoundedKey {
  std::string_view name;
  int64_t min, max;
  void (*set)(Section &, int64_t);
};

constexpr int64_t kKiB = 1024, kMiB = 1024 * kKiB, kGiB = 1024 * kMiB;
constexpr int64_t kDayMs = 24 * 60 * 60 * 1000;

constexpr BoundedKey<Limits> kLimitKeys[] = {
    {"max_head_bytes", 1, 4 * kMiB, [](Limits &l, int64_t v) { l.max_head_bytes = static_cast<uint32_t>(v); }},
    {"max_target_bytes", 1, 1 * kMiB, [](Limits &l, int64_t v) { l.max_target_bytes = static_cast<uint32_t>(v); }},
    {"max_headers", 1, 4096, [](Limits &l, int64_t v) { l.max_headers = static_cast<uint32_t>(v); }},
    {"max_body_bytes", 1, 64 * kGiB, [](Limits &l, int64_t v) { l.max_body_bytes = static_cast<uint64_t>(v); }},
    {"max_connections", 1, 1 << 20, [](Limits &l, int64_t v) { l.max_connections = static_cast<uint32_t>(v); }},
    {"reserve_connections", 0, 1024, [](Limits &l, int64_t v) { l.reserve_connections = static_cast<uint32_t>(v); }},
    {"max_pipelined", 1, 1024, [](Limits &l, int64_t v) { l.max_pipelined = static_cast<uint32_t>(v); }},
    {"max_conn_output_bytes", 4096, 4 * kGiB,
     [](Limits &l, int64_t v) { l.max_conn_output_bytes = static_cast<uint64_t>(v); }},
    {"max_conn_output_files", 1, 1024, [](Limits &l, int64_t v) { l.max_conn_output_files = static_cast<uint32_t>(v); }},
    {"max_buffered_bytes", kMiB, 1024 * kGiB, [](Limits &l, int64_t v) { l.max_buffered_bytes = static_cast<uint64_t>(v); }},
};

constexpr BoundedKey<Timeouts> kTimeoutKeys[] = {
    {"header_ms", 1, kDayMs, [](Timeouts &t, int64_t v) { t.header_ms = static_cast<uint32_t>(v); }},
    {"body_ms", 1, kDayMs, [](Timeouts &t, int64_t v) { t.body_ms = static_cast<uint32_t>(v); }},
    {"idle_ms", 1, kDayMs, [](Timeouts &t, int64_t v) { t.idle_ms = static_cast<uint32_t>(v); }},
    {"write_ms", 1, kDayMs, [](Timeouts &t, int64_t v) { t.write_ms = static_cast<uint32_t>(v); }},
    {"drain_ms", 1, kDayMs, [](Timeouts &t, int64_t v) { t.drain_ms = static_cast<uint32_t>(v); }},
    {"response_ms", 1, kDayMs, [](Timeouts &t, int64_t v) { t.response_ms = static_cast<uint32_t>(v); }},
};

struct MethodName {
  std::string_view name;
  uint32_t bit;
};
constexpr MethodName kMethods[] = {
    {"GET", AXLE_METHOD_GET},       {"HEAD", AXLE_METHOD_HEAD},   {"POST", AXLE_METHOD_POST},
    {"PUT", AXLE_METHOD_PUT},       {"DELETE", AXLE_METHOD_DELETE}, {"PATCH", AXLE_METHOD_PATCH},
    {"OPTIONS", AXLE_METHOD_OPTIONS},
};

// How a value looks in an error message: strings quoted, containers named.
std::string describe(const toml::node &node) {
  switch (node.type()) {
    case toml::node_type::string: {
      std::string text = *node.value<std::string>();
      if (text.size() > 64) text = text.substr(0, 61) + "...";
      return "\"" + text + "\"";
    }
    case toml::node_type::integer:
      return std::to_string(*node.value<int64_t>());
    case toml::node_type::floating_point: {
      std::ostringstream text;
      text << *node.value<double>();
      return "a float (" + text.str() + ")";
    }
    case toml::node_type::boolean:
      return *node.value<bool>() ? "true" : "false";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    default:
      return "a date/time";
  }
}

std::string join(const std::vector<std::string_view> &items) {
  std::string out;
  for (auto item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

// Module names become file names (axle-<kind>-<name>.so): no path characters.
bool valid_module_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool is_loopback(const std::string &host) {
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

class ConfigParser {
 public:
  ConfigParser(std::string file, std::string base_dir) : file_(std::move(file)), base_dir_(std::move(base_dir)) {}

  Config parse(const toml::table &root) {
    Config cfg;
    cfg.source = file_;
    cfg.base_dir = base_dir_;
    bool saw_server = false;
    for_each_key(root, "", {"server", "modules", "module", "limits", "timeouts", "sockets", "log", "admin", "route"},
                 [&](std::string_view key, const toml::node &node) {
                   if (key == "server") {
                     saw_server = true;
                     parse_server(table(node, "server"), cfg);
                   } else if (key == "modules") {
                     parse_modules(table(node, "modules"), cfg);
                   } else if (key == "module") {
                     parse_module_options(table(node, "module"), cfg);
                   } else if (key == "limits") {
                     parse_limits(table(node, "limits"), cfg.limits);
                   } else if (key == "timeouts") {
                     parse_timeouts(table(node, "timeouts"), cfg.timeouts);
                   } else if (key == "sockets") {
                     parse_sockets(table(node, "sockets"), cfg.sockets);
                   } else if (key == "log") {
                     parse_log(table(node, "log"), cfg.log);
                   } else if (key == "admin") {
                     parse_admin(table(node, "admin"), cfg);
                   } else {
                     parse_routes(node, cfg);
                   }
                 });
    if (!saw_server || cfg.listen.empty()) fail(root, "server.listen", "at least one listen address is required");
    check_module_options(cfg);
    return cfg;
  }

 private:
  SourcePos pos(const toml::node &node) const { return SourcePos{file_, node.source().begin.line}; }

  [[noreturn]] void fail(const toml::node &node, std::string_view key, std::string_view what) const {
    throw ConfigError{pos(node).str() + ": " + std::string(key) + ": " + std::string(what)};
  }

  static std::string child(std::string_view prefix, std::string_view key) {
    return prefix.empty() ? std::string(key) : std::string(prefix) + "." + std::string(key);
  }

  // Calls fn(key, node) for each entry; a key outside `known` is an error,
  // so a typo never passes silently.
  template <class Fn>
  void for_each_key(const toml::table &tbl, std::string_view prefix, std::vector<std::string_view> known,
                    Fn &&fn) const {
    for (auto &&[key, node] : tbl) {
      bool listed = false;
      for (auto k : known) listed = listed || k == key.str();
      if (!listed) {
        fail(node, child(prefix, key.str()), "unknown key (expected one of: " + join(known) + ")");
      }
      fn(key.str(), node);
    }
  }

  const toml::table &table(const toml::node &node, std::string_view key) const {
    if (!node.is_table()) fail(node, key, "expected a table, got " + describe(node));
    return *node.as_table();
  }

  std::string string(const toml::node &node, std::string_view key) const {
    if (!node.is_string()) fail(node, key, "expected a string, got " + describe(node));
    return *node.value<std::string>();
  }

  bool boolean(const toml::node &node, std::string_view key) const {
    if (!node.is_boolean()) fail(node, key, "expected true or false, got " + describe(node));
    return *node.value<bool>();
  }

  int64_t integer(const toml::node &node, std::string_view key, int64_t min, int64_t max) const {
    if (!node.is_integer() || *node.value<int64_t>() < min || *node.value<int64_t>() > max) {
      std::string expected = "expected an integer ";
      expected += max == kMaxU32 || max == kMaxInt || max == std::numeric_limits<int64_t>::max()
                      ? ">= " + std::to_string(min)
                      : "from " + std::to_string(min) + " to " + std::to_string(max);
      fail(node, key, expected + ", got " + describe(node));
    }
    return *node.value<int64_t>();
  }

  std::vector<std::string> string_array(const toml::node &node, std::string_view key) const {
    const toml::array *arr = node.as_array();
    if (!arr) fail(node, key, "expected an array of strings, got " + describe(node));
    std::vector<std::string> out;
    for (size_t i = 0; i < arr->size(); ++i) {
      out.push_back(string((*arr)[i], std::string(key) + "[" + std::to_string(i) + "]"));
    }
    return out;
  }

  std::string module_name(const toml::node &node, std::string_view key) const {
    std::string name = string(node, key);
    if (!valid_module_name(name)) {
      fail(node, key, "invalid module name " + describe(node) + " (letters, digits, '_' and '-' only)");
    }
    return name;
  }

  std::string resolve(const std::string &path) const {
    fs::path p(path);
    return (p.is_absolute() ? p : fs::path(base_dir_) / p).lexically_normal().string();
  }

  ListenAddress address(const toml::node &node, std::string_view key) const {
    ListenAddress addr;
    std::string error;
    if (!parse_listen_address(string(node, key), addr, error)) fail(node, key, error);
    return addr;
  }

  void parse_server(const toml::table &tbl, Config &cfg) const {
    for_each_key(tbl, "server", {"listen", "workers", "module_dirs", "user", "group"}, [&](std::string_view key, const toml::node &node) {
      std::string path = child("server", key);
      if (key == "listen") {
        const toml::array *arr = node.as_array();
        if (!arr) fail(node, path, "expected an array of \"HOST:PORT\" strings, got " + describe(node));
        if (arr->empty()) fail(node, path, "at least one listen address is required");
        for (size_t i = 0; i < arr->size(); ++i) {
          std::string item = path + "[" + std::to_string(i) + "]";
          ListenAddress addr = address((*arr)[i], item);
          for (const auto &seen : cfg.listen) {
            if (seen.host == addr.host && seen.port == addr.port && addr.port != 0) {
              fail((*arr)[i], item, "duplicate listen address " + addr.text());
            }
          }
          cfg.listen.push_back(addr);
        }
      } else if (key == "workers") {
        if (node.is_string() && *node.value<std::string>() == "auto") {
          cfg.workers = 0;
        } else if (node.is_integer() && *node.value<int64_t>() >= 1 && *node.value<int64_t>() <= kMaxWorkers) {
          cfg.workers = static_cast<uint32_t>(*node.value<int64_t>());
        } else {
          fail(node, path, "expected an integer from 1 to " + std::to_string(kMaxWorkers) + " or \"auto\", got " + describe(node));
        }
      } else if (key == "user" || key == "group") {
        std::string name = string(node, path);
        if (name.empty()) fail(node, path, "expected a user or group name, got \"\"");
        (key == "user" ? cfg.run_as.user : cfg.run_as.group) = name;
      } else {
        auto dirs = string_array(node, path);
        for (size_t i = 0; i < dirs.size(); ++i) {
          if (dirs[i].empty()) fail(*node.as_array()->get(i), path + "[" + std::to_string(i) + "]", "empty directory");
          cfg.module_dirs.push_back(resolve(dirs[i]));
        }
      }
    });
    // Looked up now, so --check refuses an account this machine lacks.
    std::string why;
    if (!resolve_run_as(cfg.run_as, why)) {
      std::string_view key = why.starts_with("no such group") ? "group" : "user";
      fail(*tbl.get(key), child("server", key), why);
    }
  }

  void parse_modules(const toml::table &tbl, Config &cfg) const {
    for_each_key(tbl, "modules", {"io", "allocator", "parser", "router", "metrics", "metrics_path"},
                 [&](std::string_view key, const toml::node &node) {
                   std::string path = child("modules", key);
                   if (key == "io") {
                     cfg.io = module_name(node, path);
                   } else if (key == "allocator") {
                     cfg.allocator = module_name(node, path);
                   } else if (key == "parser") {
                     cfg.parser = module_name(node, path);
                   } else if (key == "router") {
                     cfg.router = module_name(node, path);
                   } else if (key == "metrics") {
                     // "none" (or "") is the plain choice: no metrics module at all.
                     std::string name = string(node, path);
                     cfg.metrics = name == "none" || name.empty() ? std::string() : module_name(node, path);
                   } else {
                     cfg.metrics_path = string(node, path);
                     if (cfg.metrics_path.empty() || cfg.metrics_path[0] != '/') {
                       fail(node, path, "must start with '/', got " + describe(node));
                     }
                   }
                 });
  }

  // Scalar options kept raw for the module's declared keys to validate later.
  OptionTable options(const toml::table &tbl, const std::string &prefix,
                      const std::vector<std::string_view> &skip) const {
    OptionTable out;
    out.pos = pos(tbl);
    out.path = prefix;
    for (auto &&[key, node] : tbl) {
      std::string name(key.str());
      bool skipped = false;
      for (auto s : skip) skipped = skipped || s == name;
      if (skipped) continue;
      std::string path = child(prefix, name);
      if (node.is_string()) {
        out.values[name] = *node.value<std::string>();
      } else if (node.is_integer()) {
        out.values[name] = *node.value<int64_t>();
      } else if (node.is_boolean()) {
        out.values[name] = *node.value<bool>();
      } else {
        fail(node, path, "expected a string, integer or boolean, got " + describe(node));
      }
      out.positions[name] = pos(node);
    }
    return out;
  }

  void parse_module_options(const toml::table &tbl, Config &cfg) const {
    for (auto &&[key, node] : tbl) {
      std::string path = child("module", key.str());
      if (!valid_module_name(key.str())) fail(node, path, "invalid module name (letters, digits, '_' and '-' only)");
      cfg.module_options[std::string(key.str())] = options(table(node, path), path, {});
    }
  }

  // Options for a module that is not selected would never be read: almost
  // always a misspelt name, so it is an error rather than silence.
  static void check_module_options(const Config &cfg) {
    std::vector<std::string_view> selected = {cfg.io, cfg.allocator, cfg.parser, cfg.router};
    if (!cfg.metrics.empty()) selected.push_back(cfg.metrics);
    for (const auto &[name, options] : cfg.module_options) {
      if (std::find(selected.begin(), selected.end(), name) != selected.end()) continue;
      bool is_handler = std::any_of(cfg.routes.begin(), cfg.routes.end(),
                                    [&](const RouteConfig &route) { return route.handler == name; });
      std::string why = is_handler ? "a handler's options go in the [[route]] tables that use it"
                                   : "module '" + name + "' is not selected in [modules] (selected: " +
                                         join(selected) + ")";
      throw ConfigError{options.pos.str() + ": " + options.path + ": " + why};
    }
  }

  // Every [limits]/[timeouts] key goes through its table entry: one place
  // says what is accepted, so --check and a reload refuse the same values.
  template <class Section, size_t N>
  void parse_bounded(const toml::table &tbl, std::string_view section, const BoundedKey<Section> (&keys)[N],
                     Section &out) const {
    std::vector<std::string_view> names;
    for (const auto &k : keys) names.push_back(k.name);
    for_each_key(tbl, section, names, [&](std::string_view key, const toml::node &node) {
      for (const auto &k : keys) {
        if (k.name == key) k.set(out, integer(node, child(section, key), k.min, k.max));
      }
    });
  }

  void parse_limits(const toml::table &tbl, Limits &limits) const {
    parse_bounded(tbl, "limits", kLimitKeys, limits);
    // The target sits inside the head, so a larger target limit could never apply.
    if (limits.max_target_bytes > limits.max_head_bytes) {
      fail(tbl, "limits.max_target_bytes", "must not exceed limits.max_head_bytes (" +
                                               std::to_string(limits.max_head_bytes) + ")");
    }
  }

  void parse_timeouts(const toml::table &tbl, Timeouts &timeouts) const {
    parse_bounded(tbl, "timeouts", kTimeoutKeys, timeouts);
  }

  void parse_sockets(const toml::table &tbl, SocketOptions &s) const {
    for_each_key(tbl, "sockets",
                 {"backlog", "reuse_port", "tcp_nodelay", "tcp_quickack", "busy_poll_us", "defer_accept_s",
                  "recv_buffer", "send_buffer"},
                 [&](std::string_view key, const toml::node &node) {
                   std::string path = child("sockets", key);
                   if (key == "backlog") s.backlog = static_cast<uint32_t>(integer(node, path, 1, kMaxInt));
                   else if (key == "reuse_port") s.reuse_port = boolean(node, path);
                   else if (key == "tcp_nodelay") s.tcp_nodelay = boolean(node, path);
                   else if (key == "tcp_quickack") s.tcp_quickack = boolean(node, path);
                   else if (key == "busy_poll_us") s.busy_poll_us = static_cast<int>(integer(node, path, 0, kMaxInt));
                   else if (key == "defer_accept_s") s.defer_accept_s = static_cast<int>(integer(node, path, 0, kMaxInt));
                   else if (key == "recv_buffer") s.recv_buffer = static_cast<int>(integer(node, path, 1, kMaxInt));
                   else s.send_buffer = static_cast<int>(integer(node, path, 1, kMaxInt));
                 });
  }

  void parse_log(const toml::table &tbl, LogConfig &log) const {
    for_each_key(tbl, "log", {"level", "access_log"}, [&](std::string_view key, const toml::node &node) {
      std::string path = child("log", key);
      if (key == "level") {
        log.level = string(node, path);
        if (log.level != "debug" && log.level != "info" && log.level != "warn" && log.level != "error") {
          fail(node, path, "expected one of \"debug\", \"info\", \"warn\", \"error\", got " + describe(node));
        }
      } else {
        std::string file = string(node, path);
        log.access_log = file.empty() ? file : resolve(file);
      }
    });
  }

  void parse_admin(const toml::table &tbl, Config &cfg) const {
    for_each_key(tbl, "admin", {"listen", "hosts", "token_file"}, [&](std::string_view key, const toml::node &node) {
      if (key == "listen") {
        ListenAddress addr = address(node, "admin.listen");
        if (!is_loopback(addr.host)) {
          fail(node, "admin.listen", "must be a loopback address (127.0.0.0/8 or [::1]), got " + describe(node));
        }
        cfg.admin_listen = addr;
      } else if (key == "hosts") {
        cfg.admin_hosts = admin_hosts(node);
      } else {
        cfg.admin_token = admin_token(node);
      }
    });
  }

  // Plain DNS names (no port, no wildcard): what a Host header may name.
  std::vector<std::string> admin_hosts(const toml::node &node) const {
    std::vector<std::string> names = string_array(node, "admin.hosts");
    for (size_t i = 0; i < names.size(); ++i) {
      std::string &name = names[i];
      bool ok = !name.empty() && name.size() <= 253 && name.front() != '.' && name.front() != '-';
      for (char &c : name) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.');
      }
      if (!ok) {
        fail(*node.as_array()->get(i), "admin.hosts[" + std::to_string(i) + "]",
             "expected a host name (letters, digits, '-' and '.', no port), got " + describe(*node.as_array()->get(i)));
      }
    }
    return names;
  }

  // The bearer token: the file's one line, read now so a bad file fails the
  // load (and --check) rather than the first request. Others may not read it.
  std::string admin_token(const toml::node &node) const {
    std::string path = resolve(string(node, "admin.token_file"));
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0) fail(node, "admin.token_file", path + ": " + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) fail(node, "admin.token_file", path + ": not a regular file");
    if (st.st_mode & S_IROTH) {
      fail(node, "admin.token_file", path + ": readable by every user; chmod o-r it");
    }
    constexpr size_t kMaxToken = 1024;
    std::string token(kMaxToken + 2, '\0');
    std::FILE *f = std::fopen(path.c_str(), "rb");
    if (!f) fail(node, "admin.token_file", path + ": " + std::strerror(errno));
    token.resize(std::fread(token.data(), 1, token.size(), f));
    std::fclose(f);
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
    if (token.size() < 16 || token.size() > kMaxToken) {
      fail(node, "admin.token_file", path + ": the token must be one line of 16 to 1024 characters");
    }
    // RFC 6750 b64token: what a Bearer credential may hold.
    size_t pad = token.find_last_not_of('=') + 1;  // 0 when all '=': refused below
    for (size_t i = 0; i < token.size(); ++i) {
      char c = token[i];
      bool ok = (i >= pad && pad > 0) || std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
                c == '~' || c == '+' || c == '/';
      if (!ok) fail(node, "admin.token_file", path + ": the token may hold only letters, digits and -._~+/ (then =)");
    }
    return token;
  }

  // The standard names become AXLE_METHOD_* bits; any other token (RFC 9110
  // 9.1: case-sensitive, e.g. "PROPFIND") becomes AXLE_METHOD_OTHER plus its
  // name in `extensions`, so the server implements it instead of answering 501.
  uint32_t methods(const toml::node &node, const std::string &path, std::vector<std::string> &extensions) const {
    const toml::array *arr = node.as_array();
    if (!arr || arr->empty()) fail(node, path, "expected a non-empty array of method names, got " + describe(node));
    uint32_t mask = 0;
    for (size_t i = 0; i < arr->size(); ++i) {
      std::string item_path = path + "[" + std::to_string(i) + "]";
      std::string name = string((*arr)[i], item_path);
      uint32_t bit = 0;
      for (const auto &m : kMethods) {
        if (m.name == name) bit = m.bit;
        else if (equal_ignoring_case(m.name, name))
          fail((*arr)[i], item_path,
               "method names are case-sensitive: " + describe((*arr)[i]) + " is not " + std::string(m.name));
      }
      if (!bit) {
        bool token = !name.empty() && name.size() <= kMaxExtensionMethodBytes;
        for (char c : name) token = token && http::kTokenChar[static_cast<unsigned char>(c)];
        if (!token) {
          fail((*arr)[i], item_path,
               "a method is a token of at most " + std::to_string(kMaxExtensionMethodBytes) +
                   " letters, digits or !#$%&'*+-.^_`|~ (GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS or an "
                   "extension such as PROPFIND), got " + describe((*arr)[i]));
        }
        if (std::find(extensions.begin(), extensions.end(), name) != extensions.end())
          fail((*arr)[i], item_path, "\"" + name + "\" is listed twice");
        if (extensions.size() == kMaxExtensionMethods)
          fail((*arr)[i], item_path, "at most " + std::to_string(kMaxExtensionMethods) + " extension methods per route");
        extensions.push_back(std::move(name));
        bit = AXLE_METHOD_OTHER;
      }
      mask |= bit;
    }
    return mask;
  }

  // One "host" pattern, lowercased: a DNS name ("example.com", "127.0.0.1")
  // or "*." and one ("*.example.com": every name below it). Ports, IPv6
  // literals and a '*' elsewhere are refused: routing looks at the name only.
  std::string host_pattern(const toml::node &node, const std::string &path) const {
    std::string name = string(node, path);
    for (char &c : name) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    auto bad = [&](std::string_view why) { fail(node, path, std::string(why) + ", got " + describe(node)); };
    if (name.empty()) bad("empty host name");
    std::string_view rest = name;
    if (rest.starts_with("*.")) rest.remove_prefix(2);
    if (rest.find(':') != std::string_view::npos) bad("no port or IPv6 literal: routes match the host name, whatever the port");
    if (rest.find('*') != std::string_view::npos) bad("'*' is allowed only as a leading \"*.\" (e.g. \"*.example.com\")");
    if (rest.size() > 253) bad("a host name has at most 253 characters");
    size_t label = 0;
    for (size_t i = 0; i <= rest.size(); ++i) {
      if (i == rest.size() || rest[i] == '.') {
        if (label == 0) bad("empty label (leading, trailing or doubled '.')");
        if (label > 63) bad("a label has at most 63 characters");
        label = 0;
        continue;
      }
      char c = rest[i];
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
        bad("a host name has letters, digits, '-', '_' and '.' only");
      ++label;
    }
    return name;
  }

  std::vector<std::string> hosts(const toml::node &node, const std::string &path) const {
    std::vector<std::string> out;
    if (node.is_string()) {
      out.push_back(host_pattern(node, path));
      return out;
    }
    const toml::array *arr = node.as_array();
    if (!arr || arr->empty()) fail(node, path, "expected a host name or a non-empty array of them, got " + describe(node));
    for (size_t i = 0; i < arr->size(); ++i) {
      std::string item = path + "[" + std::to_string(i) + "]";
      std::string name = host_pattern((*arr)[i], item);
      if (std::find(out.begin(), out.end(), name) != out.end()) fail((*arr)[i], item, "\"" + name + "\" is listed twice");
      out.push_back(std::move(name));
    }
    return out;
  }

  void parse_routes(const toml::node &node, Config &cfg) const {
    const toml::array *arr = node.as_array();
    if (!arr || !arr->is_array_of_tables()) {
      fail(node, "route", "expected [[route]] tables, got " + describe(node));
    }
    // (fallback kind, host scope) -> the route that answers it: one each.
    std::map<std::pair<RouteFallback, std::string>, SourcePos> fallbacks;
    for (size_t i = 0; i < arr->size(); ++i) {
      const toml::table &tbl = *(*arr)[i].as_table();
      std::string prefix = "route[" + std::to_string(i) + "]";
      RouteConfig route;
      route.pos = pos(tbl);
      route.method_mask = AXLE_METHOD_ANY;
      bool has_path = false, has_handler = false;
      const toml::node *path_node = nullptr, *fallback_node = nullptr, *methods_node = nullptr,
                       *stream_node = nullptr;
      for (auto &&[key, value] : tbl) {
        std::string path = child(prefix, key.str());
        if (key == "path") {
          path_node = &value;
          route.path = string(value, path);
          if (route.path.empty() || route.path[0] != '/') {
            fail(value, path, "must start with '/', got " + describe(value));
          }
          // Patterns match decoded paths: a query, fragment or raw control
          // byte could never match and is surely a mistake.
          for (char c : route.path) {
            if (c == '?' || c == '#' || c == ' ' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
              fail(value, path, "must not contain spaces, control bytes, '?' or '#', got " + describe(value));
            }
          }
          has_path = true;
        } else if (key == "handler") {
          route.handler = module_name(value, path);
          has_handler = true;
        } else if (key == "methods") {
          methods_node = &value;
          route.method_mask = methods(value, path, route.extension_methods);
        } else if (key == "stream_body") {
          stream_node = &value;
          const toml::value<bool> *flag = value.as_boolean();
          if (!flag) fail(value, path, "expected true or false, got " + describe(value));
          route.stream_body = flag->get();
        } else if (key == "host") {
          route.hosts = hosts(value, path);
        } else if (key == "answers") {
          std::optional<std::string> kind = value.value<std::string>();
          if (kind == "not_found") route.fallback = RouteFallback::NotFound;
          else if (kind == "method_not_allowed") route.fallback = RouteFallback::MethodNotAllowed;
          else fail(value, path, "expected \"not_found\" or \"method_not_allowed\", got " + describe(value));
          fallback_node = &value;
        }
      }
      if (fallback_node) {
        std::string key = prefix + ".answers";
        if (path_node) fail(*path_node, prefix + ".path", "a fallback route has no path (it answers what no path matched)");
        if (methods_node) fail(*methods_node, prefix + ".methods", "a fallback route answers every method; remove methods");
        if (stream_node) fail(*stream_node, prefix + ".stream_body", "a fallback route cannot stream the request body");
        std::vector<std::string> scopes = route.hosts.empty() ? std::vector<std::string>{""} : route.hosts;
        for (const std::string &scope : scopes) {
          auto [it, fresh] = fallbacks.emplace(std::make_pair(route.fallback, scope), route.pos);
          if (!fresh) {
            fail(*fallback_node, key,
                 "a " + describe(*fallback_node) + " fallback for " +
                     (scope.empty() ? std::string("routes without host") : "host \"" + scope + "\"") +
                     " is already configured at " + it->second.str());
          }
        }
      } else if (!has_path) {
        fail(tbl, prefix + ".path", "required key missing (or answers = \"not_found\" / \"method_not_allowed\")");
      }
      if (!has_handler) fail(tbl, prefix + ".handler", "required key missing");
      std::vector<std::string_view> kernel_keys = {"path", "handler", "methods", "stream_body", "host", "answers"};
      route.options = options(tbl, prefix, kernel_keys);
      cfg.routes.push_back(std::move(route));
    }
  }

  std::string file_;
  std::string base_dir_;
};

}  // namespace

std::string ListenAddress::text() const {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

bool parse_listen_address(std::string_view text, ListenAddress &out, std::string &error) {
  auto bad = [&](std::string_view why) {
    error = "invalid listen address \"" + std::string(text) + "\": " + std::string(why);
    return false;
  };
  std::string_view host, port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return bad("missing ']' after the IPv6 address");
    if (close + 1 >= text.size() || text[close + 1] != ':') return bad("expected \":PORT\" after ']'");
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    in6_addr v6{};
    if (inet_pton(AF_INET6, std::string(host).c_str(), &v6) != 1) return bad("not a numeric IPv6 address");
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad("expected HOST:PORT");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return bad("an IPv6 address needs brackets, e.g. \"[::1]:8080\"");
    in_addr v4{};
    if (inet_pton(AF_INET, std::string(host).c_str(), &v4) != 1) {
      return bad("host must be a numeric IPv4 address or a bracketed IPv6 address");
    }
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535) {
    return bad("port must be a number from 0 to 65535");
  }
  out.host = std::string(host);
  out.port = static_cast<uint16_t>(value);
  return true;
}

std::optional<Config> parse_config(std::string_view toml_text, const std::string &source_name,
                                   const std::string &base_dir, std::string &error) {
  try {
    toml::table root = toml::parse(toml_text, source_name);
    return ConfigParser(source_name, base_dir).parse(root);
  } catch (const toml::parse_error &e) {
    error = SourcePos{source_name, e.source().begin.line}.str() + ": invalid TOML: " + std::string(e.description());
  } catch (const ConfigError &e) {
    error = e.message;
  } catch (const std::exception &e) {
    error = source_name + ": " + e.what();
  }
  return std::nullopt;
}

std::optional<Config> load_config_file(const std::string &path, std::string &error) {
  std::FILE *file = std::fopen(path.c_str(), "rb");
  if (!file) {
    error = "cannot read " + path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  // Bounded, so a path like /dev/zero is an error rather than a hang.
  constexpr size_t kMaxConfigBytes = 16 << 20;
  std::string text;
  char chunk[16384];
  size_t n;
  while (text.size() <= kMaxConfigBytes && (n = std::fread(chunk, 1, sizeof chunk, file)) > 0) text.append(chunk, n);
  int read_errno = std::ferror(file) ? errno : 0;
  std::fclose(file);
  if (read_errno) {
    error = "cannot read " + path + ": " + std::strerror(read_errno);
    return std::nullopt;
  }
  if (text.size() > kMaxConfigBytes) {
    error = "cannot read " + path + ": larger than " + std::to_string(kMaxConfigBytes >> 20) + " MiB";
    return std::nullopt;
  }
  std::error_code ec;
  fs::path absolute = fs::absolute(path, ec);
  std::string base_dir = (ec ? fs::path(path) : absolute).parent_path().lexically_normal().string();
  return parse_config(text, path, base_dir, error);
}

std::optional<Config> load_default_config(std::string &error) {
  std::error_code ec;
  std::string cwd = fs::current_path(ec).string();
  if (ec) {
    error = "cannot determine the current directory: " + ec.message();
    return std::nullopt;
  }
  return parse_config(default_config_text(), "<embedded default>", cwd, error);
}

std::string_view default_config_text() {
  return std::string_view(axle_default_config_begin,
                          static_cast<size_t>(axle_default_config_end - axle_default_config_begin));
}

}  // namespace axle
