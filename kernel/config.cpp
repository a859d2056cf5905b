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

constexpr int64_t kKiB = 1024, kMiB = 1024 * kKiB, kGiB = 1024 * kMiB;
constexpr int64_t kDayMs = 24 * 60 * 60 * 1000;

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

// Reads and checks single TOML values; every failure names file, line and key.
class Reader {
 public:
  Reader(std::string file, std::string base_dir) : file_(std::move(file)), base_dir_(std::move(base_dir)) {}

  SourcePos pos(const toml::node &node) const { return SourcePos{file_, node.source().begin.line}; }

  [[noreturn]] void fail(const toml::node &node, std::string_view key, std::string_view what) const {
    throw ConfigError{pos(node).str() + ": " + std::string(key) + ": " + std::string(what)};
  }

  static std::string child(std::string_view prefix, std::string_view key) {
    return prefix.empty() ? std::string(key) : std::string(prefix) + "." + std::string(key);
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
      fail(node, key, "expected an integer " + range_text(min, max) + ", got " + describe(node));
    }
    return *node.value<int64_t>();
  }

  // "from 1 to 1024", or ">= 1" when the top is only the type's limit.
  static std::string range_text(int64_t min, int64_t max) {
    return max == kMaxU32 || max == kMaxInt || max == std::numeric_limits<int64_t>::max()
               ? ">= " + std::to_string(min)
               : "from " + std::to_string(min) + " to " + std::to_string(max);
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

 protected:
  std::string file_;
  std::string base_dir_;
};

// One core setting: what the validator accepts and what `axle --help-config`
// prints, in one row. A row stores its value with exactly one setter:
// `integer` (the value is checked against min..max first), `boolean`, `text`
// (any string), or `custom` (reads and checks the node itself; give `type`).
struct Setting {
  std::string_view section = {}, key = {};
  std::string_view unit = {};      // "bytes", "ms", "s", "us", or empty
  std::string_view fallback = {};  // the default as written in TOML; empty = none
  std::string_view doc = {};
  int64_t min = 0, max = 0;
  void (*integer)(Config &, int64_t) = nullptr;
  void (*boolean)(Config &, bool) = nullptr;
  void (*text)(Config &, std::string) = nullptr;
  void (*custom)(const Reader &, const toml::node &, const std::string &path, Config &) = nullptr;
  std::string_view type = {};  // custom rows only: what the key takes, as the reference prints it
};

// A [modules] choice: a module name, remembered with its line for load errors.
#define AXLE_MODULE_CHOICE(field)                                                        \
  [](const Reader &r, const toml::node &n, const std::string &path, Config &c) {        \
    c.field = r.module_name(n, path);                                                    \
    c.module_positions[#field] = r.pos(n);                                               \
  }

// Plain DNS names (no port, no wildcard): what a Host header may name.
std::vector<std::string> admin_hosts(const Reader &r, const toml::node &node) {
  std::vector<std::string> names = r.string_array(node, "admin.hosts");
  for (size_t i = 0; i < names.size(); ++i) {
    std::string &name = names[i];
    bool ok = !name.empty() && name.size() <= 253 && name.front() != '.' && name.front() != '-';
    for (char &c : name) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.');
    }
    if (!ok) {
      r.fail(*node.as_array()->get(i), "admin.hosts[" + std::to_string(i) + "]",
             "expected a host name (letters, digits, '-' and '.', no port), got " + describe(*node.as_array()->get(i)));
    }
  }
  return names;
}

// The bearer token: the file's one line, read now so a bad file fails the
// load (and --check) rather than the first request. Others may not read it.
std::string admin_token(const Reader &r, const toml::node &node) {
  std::string path = r.resolve(r.string(node, "admin.token_file"));
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) r.fail(node, "admin.token_file", path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) r.fail(node, "admin.token_file", path + ": not a regular file");
  if (st.st_mode & S_IROTH) {
    r.fail(node, "admin.token_file", path + ": readable by every user; chmod o-r it");
  }
  constexpr size_t kMaxToken = 1024;
  std::string token(kMaxToken + 2, '\0');
  std::FILE *f = std::fopen(path.c_str(), "rb");
  if (!f) r.fail(node, "admin.token_file", path + ": " + std::strerror(errno));
  token.resize(std::fread(token.data(), 1, token.size(), f));
  std::fclose(f);
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  if (token.size() < 16 || token.size() > kMaxToken) {
    r.fail(node, "admin.token_file", path + ": the token must be one line of 16 to 1024 characters");
  }
  // RFC 6750 b64token: what a Bearer credential may hold.
  size_t pad = token.find_last_not_of('=') + 1;  // 0 when all '=': refused below
  for (size_t i = 0; i < token.size(); ++i) {
    char c = token[i];
    bool ok = (i >= pad && pad > 0) || std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
              c == '~' || c == '+' || c == '/';
    if (!ok) r.fail(node, "admin.token_file", path + ": the token may hold only letters, digits and -._~+/ (then =)");
  }
  return token;
}

// A non-empty array of "HOST:PORT" without duplicates (port 0 may repeat).
std::vector<ListenAddress> listen_addresses(const Reader &r, const toml::node &node, const std::string &path) {
  const toml::array *arr = node.as_array();
  if (!arr) r.fail(node, path, "expected an array of \"HOST:PORT\" strings, got " + describe(node));
  if (arr->empty()) r.fail(node, path, "at least one listen address is required");
  std::vector<ListenAddress> out;
  for (size_t i = 0; i < arr->size(); ++i) {
    std::string item = path + "[" + std::to_string(i) + "]";
    ListenAddress addr = r.address((*arr)[i], item);
    for (const auto &seen : out) {
      if (seen.host == addr.host && seen.port == addr.port && addr.port != 0) {
        r.fail((*arr)[i], item, "duplicate listen address " + addr.text());
      }
    }
    out.push_back(addr);
  }
  return out;
}

const Setting kSettings[] = {
    // [server]
    {.section = "server", .key = "listen", .doc = "Addresses to listen on: numeric IPv4 (\"127.0.0.1:8080\") or bracketed IPv6 (\"[::1]:8080\"); port 0 picks a free port. Required unless [tls] listen is set (then [] or absent serves HTTPS only); --listen overrides it; a reload cannot change it.",
     .custom = [](const Reader &r, const toml::node &node, const std::string &path, Config &c) {
       // [] is allowed here; parse() requires some address, cleartext or TLS.
       const toml::array *arr = node.as_array();
       c.listen = arr && arr->empty() ? std::vector<ListenAddress>{} : listen_addresses(r, node, path);
     },
     .type = "array of \"HOST:PORT\""},
    {.section = "server", .key = "workers", .fallback = "\"auto\"", .doc = "Worker threads, each with its own event loop and module contexts; \"auto\" is one per core.",
     .min = 1, .max = kMaxWorkers,
     .custom = [](const Reader &r, const toml::node &node, const std::string &path, Config &c) {
       if (node.is_string() && *node.value<std::string>() == "auto") {
         c.workers = 0;
       } else if (node.is_integer() && *node.value<int64_t>() >= 1 && *node.value<int64_t>() <= kMaxWorkers) {
         c.workers = static_cast<uint32_t>(*node.value<int64_t>());
       } else {
         r.fail(node, path, "expected an integer from 1 to " + std::to_string(kMaxWorkers) + " or \"auto\", got " + describe(node));
       }
     },
     .type = "integer or \"auto\""},
    {.section = "server", .key = "module_dirs", .fallback = "[]", .doc = "Directories searched for modules before $AXLE_MODULE_PATH and <prefix>/lib/axle/modules; relative to the config file.",
     .custom = [](const Reader &r, const toml::node &node, const std::string &path, Config &c) {
       auto dirs = r.string_array(node, path);
       for (size_t i = 0; i < dirs.size(); ++i) {
         if (dirs[i].empty()) r.fail(*node.as_array()->get(i), path + "[" + std::to_string(i) + "]", "empty directory");
         c.module_dirs.push_back(r.resolve(dirs[i]));
       }
     },
     .type = "array of strings"},
    {.section = "server", .key = "user", .doc = "Started as root: the user to become after binding the listeners, before loading modules; unset stays who started axle.",
     .custom = [](const Reader &r, const toml::node &node, const std::string &path, Config &c) {
       c.run_as.user = r.string(node, path);
       if (c.run_as.user.empty()) r.fail(node, path, "expected a user or group name, got \"\"");
     },
     .type = "user name"},
    {.section = "server", .key = "group", .doc = "With user: the group to become (default: the user's own group).",
     .custom = [](const Reader &r, const toml::node &node, const std::string &path, Config &c) {
       c.run_as.group = r.string(node, path);
       if (c.run_as.group.empty()) r.fail(node, path, "expected a user or group name, got \"\"");
     },
     .type = "group name"},

    // [modules]
    {.section = "modules", .key = "io", .fallback = "\"epoll\"", .doc = "io module: event loop, accept, send, sendfile (epoll, uring).",
     .custom = AXLE_MODULE_CHOICE(io), .type = "module name"},
    {.section = "modules", .key = "allocator", .fallback = "\"malloc\"", .doc = "alloc module: per-worker memory for connections and buffers (malloc, pool, hugepages).",
     .custom = AXLE_MODULE_CHOICE(allocator), .type = "module name"},
    {.section = "modules", .key = "parser", .fallback = "\"scalar\"", .doc = "parser module: request heads and chunked bodies (scalar, simd).",
     .custom = AXLE_MODULE_CHOICE(parser), .type = "module name"},
    {.section = "modules", .key = "router", .fallback = "\"linear\"", .doc = "router module: (method, path) to route (linear, radix).",
     .custom = AXLE_MODULE_CHOICE(router), .type = "module name"},
    {.section = "modules", .key = "metrics", .fallback = "\"none\"", .doc = "metrics module (prometheus), or \"none\" for no metrics at all.",
     .custom = [](const Reader &r, const toml::node &node, const std::string &path, Config &c) {
       std::string name = r.string(node, path);
       c.metrics = name == "none" || name.empty() ? std::string() : r.module_name(node, path);
       if (!c.metrics.empty()) c.module_positions["metrics"] = r.pos(node);
     },
     .type = "module name or \"none\""},
    {.section = "modules", .key = "metrics_path", .fallback = "\"/metrics\"", .doc = "Path on which the metrics module's exposition is served.",
     .custom = [](const Reader &r, const toml::node &node, const std::string &path, Config &c) {
       c.metrics_path = r.string(node, path);
       if (c.metrics_path.empty() || c.metrics_path[0] != '/') r.fail(node, path, "must start with '/', got " + describe(node));
     },
     .type = "path"},
    {.section = "modules", .key = "tls", .doc = "transport module wrapping the connections of [tls] listen (openssl); unset serves cleartext only. Needs a [tls] table, whose other keys are the module's (axle --help-module NAME).",
     .custom = AXLE_MODULE_CHOICE(tls), .type = "module name"},

    // [limits]: the upper bounds keep every size the kernel derives from a value
    // (per-worker scratch, timer arithmetic, the connection table) small enough
    // to allocate and far from overflow; they are well above any real deployment.
    {.section = "limits", .key = "max_head_bytes", .unit = "bytes", .fallback = "16384", .doc = "Largest request head (request line and header fields); a larger one is answered 431.",
     .min = 1, .max = 4 * kMiB, .integer = [](Config &c, int64_t v) { c.limits.max_head_bytes = static_cast<uint32_t>(v); }},
    {.section = "limits", .key = "max_target_bytes", .unit = "bytes", .fallback = "8192", .doc = "Longest request-target; a longer one is answered 414. At most max_head_bytes.",
     .min = 1, .max = 1 * kMiB, .integer = [](Config &c, int64_t v) { c.limits.max_target_bytes = static_cast<uint32_t>(v); }},
    {.section = "limits", .key = "max_headers", .fallback = "100", .doc = "Most header fields in one request; more are answered 431.",
     .min = 1, .max = 4096, .integer = [](Config &c, int64_t v) { c.limits.max_headers = static_cast<uint32_t>(v); }},
    {.section = "limits", .key = "max_body_bytes", .unit = "bytes", .fallback = "1048576", .doc = "Largest request body; a larger one is answered 413.",
     .min = 1, .max = 64 * kGiB, .integer = [](Config &c, int64_t v) { c.limits.max_body_bytes = static_cast<uint64_t>(v); }},
    {.section = "limits", .key = "max_connections", .fallback = "10000", .doc = "Open client connections in the whole process.",
     .min = 1, .max = 1 << 20, .integer = [](Config &c, int64_t v) { c.limits.max_connections = static_cast<uint32_t>(v); }},
    {.section = "limits", .key = "reserve_connections", .fallback = "8", .doc = "Connections past max_connections served only for the metrics route (others get 503 + Retry-After); the next 64 get the 503, any more are closed.",
     .min = 0, .max = 1024, .integer = [](Config &c, int64_t v) { c.limits.reserve_connections = static_cast<uint32_t>(v); }},
    {.section = "limits", .key = "max_pipelined", .fallback = "64", .doc = "Responses queued on one connection before it stops reading further pipelined requests.",
     .min = 1, .max = 1024, .integer = [](Config &c, int64_t v) { c.limits.max_pipelined = static_cast<uint32_t>(v); }},
    {.section = "limits", .key = "max_conn_output_bytes", .unit = "bytes", .fallback = "1048576", .doc = "Memory one connection's queued output may hold before it stops parsing and reading.",
     .min = 4096, .max = 4 * kGiB, .integer = [](Config &c, int64_t v) { c.limits.max_conn_output_bytes = static_cast<uint64_t>(v); }},
    {.section = "limits", .key = "max_conn_output_files", .fallback = "8", .doc = "Open files one connection's queued output may hold before it stops parsing and reading.",
     .min = 1, .max = 1024, .integer = [](Config &c, int64_t v) { c.limits.max_conn_output_files = static_cast<uint32_t>(v); }},
    {.section = "limits", .key = "max_buffered_bytes", .unit = "bytes", .fallback = "268435456", .doc = "Memory the whole process holds for clients (buffered bodies, queued output); past it new requests are answered 503.",
     .min = kMiB, .max = 1024 * kGiB, .integer = [](Config &c, int64_t v) { c.limits.max_buffered_bytes = static_cast<uint64_t>(v); }},

    // [timeouts]
    {.section = "timeouts", .key = "header_ms", .unit = "ms", .fallback = "10000", .doc = "From the first byte of a request to the end of its head.",
     .min = 1, .max = kDayMs, .integer = [](Config &c, int64_t v) { c.timeouts.header_ms = static_cast<uint32_t>(v); }},
    {.section = "timeouts", .key = "body_ms", .unit = "ms", .fallback = "30000", .doc = "From the end of a request head to the end of its body.",
     .min = 1, .max = kDayMs, .integer = [](Config &c, int64_t v) { c.timeouts.body_ms = static_cast<uint32_t>(v); }},
    {.section = "timeouts", .key = "idle_ms", .unit = "ms", .fallback = "60000", .doc = "A keep-alive connection's wait for its next request.",
     .min = 1, .max = kDayMs, .integer = [](Config &c, int64_t v) { c.timeouts.idle_ms = static_cast<uint32_t>(v); }},
    {.section = "timeouts", .key = "write_ms", .unit = "ms", .fallback = "30000", .doc = "How long a client may take no bytes of a response before the connection is closed (a no-progress timeout, not a deadline for the whole response).",
     .min = 1, .max = kDayMs, .integer = [](Config &c, int64_t v) { c.timeouts.write_ms = static_cast<uint32_t>(v); }},
    {.section = "timeouts", .key = "response_ms", .unit = "ms", .fallback = "60000", .doc = "A pending (kept) response must begin or finish within this.",
     .min = 1, .max = kDayMs, .integer = [](Config &c, int64_t v) { c.timeouts.response_ms = static_cast<uint32_t>(v); }},
    {.section = "timeouts", .key = "drain_ms", .unit = "ms", .fallback = "10000", .doc = "Grace period for in-flight requests at shutdown, and for an old generation after a reload.",
     .min = 1, .max = kDayMs, .integer = [](Config &c, int64_t v) { c.timeouts.drain_ms = static_cast<uint32_t>(v); }},

    // [sockets]: a key left out leaves the OS's own value.
    {.section = "sockets", .key = "backlog", .fallback = "4096", .doc = "listen() backlog of each listening socket.",
     .min = 1, .max = kMaxInt, .integer = [](Config &c, int64_t v) { c.sockets.backlog = static_cast<uint32_t>(v); }},
    {.section = "sockets", .key = "reuse_port", .fallback = "false", .doc = "SO_REUSEPORT: one listening socket per worker, balanced by the kernel.",
     .boolean = [](Config &c, bool v) { c.sockets.reuse_port = v; }},
    {.section = "sockets", .key = "tcp_nodelay", .fallback = "true", .doc = "TCP_NODELAY on client connections.",
     .boolean = [](Config &c, bool v) { c.sockets.tcp_nodelay = v; }},
    {.section = "sockets", .key = "tcp_quickack", .doc = "TCP_QUICKACK on client connections; unset leaves the OS default.",
     .boolean = [](Config &c, bool v) { c.sockets.tcp_quickack = v; }},
    {.section = "sockets", .key = "busy_poll_us", .unit = "us", .doc = "SO_BUSY_POLL on the listening sockets; unset leaves the OS default.",
     .min = 0, .max = kMaxInt, .integer = [](Config &c, int64_t v) { c.sockets.busy_poll_us = static_cast<int>(v); }},
    {.section = "sockets", .key = "defer_accept_s", .unit = "s", .doc = "TCP_DEFER_ACCEPT: wake for a connection only once it has data; unset leaves the OS default.",
     .min = 0, .max = kMaxInt, .integer = [](Config &c, int64_t v) { c.sockets.defer_accept_s = static_cast<int>(v); }},
    {.section = "sockets", .key = "recv_buffer", .unit = "bytes", .doc = "SO_RCVBUF; unset leaves the OS default.",
     .min = 1, .max = kMaxInt, .integer = [](Config &c, int64_t v) { c.sockets.recv_buffer = static_cast<int>(v); }},
    {.section = "sockets", .key = "send_buffer", .unit = "bytes", .doc = "SO_SNDBUF; unset leaves the OS default.",
     .min = 1, .max = kMaxInt, .integer = [](Config &c, int64_t v) { c.sockets.send_buffer = static_cast<int>(v); }},

    // [log]
    {.section = "log", .key = "level", .fallback = "\"info\"", .doc = "Error log level: debug, info, warn or error; --log-level overrides it.",
     .custom = [](const Reader &r, const toml::node &node, const std::string &path, Config &c) {
       c.log.level = r.string(node, path);
       if (std::find(std::begin(kLogLevels), std::end(kLogLevels), c.log.level) == std::end(kLogLevels)) {
         r.fail(node, path, "expected one of " + log_level_list() + ", got " + describe(node));
       }
     },
     .type = "level name"},
    {.section = "log", .key = "access_log", .fallback = "\"\"", .doc = "Access log file (combined format; bytes really written, seconds to the last byte), relative to the config file; \"\" is off. SIGUSR1 reopens it.",
     .custom = [](const Reader &r, const toml::node &node, const std::string &path, Config &c) {
       std::string file = r.string(node, path);
       c.log.access_log = file.empty() ? file : r.resolve(file);
     },
     .type = "path"},

    // [admin]
    {.section = "admin", .key = "listen", .doc = "Loopback address of the admin endpoint (GET /generations, POST /reload); unset is no admin endpoint.",
     .custom = [](const Reader &r, const toml::node &node, const std::string &path, Config &c) {
       ListenAddress addr = r.address(node, path);
       if (!is_loopback(addr.host)) {
         r.fail(node, path, "must be a loopback address (127.0.0.0/8 or [::1]), got " + describe(node));
       }
       c.admin_listen = addr;
     },
     .type = "\"HOST:PORT\""},
    {.section = "admin", .key = "hosts", .fallback = "[]", .doc = "Host names the admin endpoint accepts besides 127.x.x.x, [::1] and localhost (DNS rebinding guard).",
     .custom = [](const Reader &r, const toml::node &node, const std::string &, Config &c) { c.admin_hosts = admin_hosts(r, node); },
     .type = "array of host names"},
    {.section = "admin", .key = "token_file", .doc = "File holding the bearer token every admin request must carry (not world-readable), relative to the config file; unset is no token.",
     .custom = [](const Reader &r, const toml::node &node, const std::string &, Config &c) { c.admin_token = admin_token(r, node); },
     .type = "path"},

    // [tls]: only the kernel's key; the others belong to the [modules] tls module.
    {.section = "tls", .key = "listen", .doc = "Addresses whose connections the [modules] tls transport wraps, as server.listen (port 0 picks a free port; logged as https://HOST:PORT). Required with [modules] tls; --listen does not override it; a reload cannot change it.",
     .custom = [](const Reader &r, const toml::node &node, const std::string &path, Config &c) {
       c.tls_listen = listen_addresses(r, node, path);
     },
     .type = "array of \"HOST:PORT\""},
};

#undef AXLE_MODULE_CHOICE

std::string_view setting_type(const Setting &s) {
  if (s.integer) return "integer";
  if (s.boolean) return "boolean";
  if (s.text) return "string";
  return s.type;
}

// The sections of kSettings, in table order.
std::vector<std::string_view> setting_sections() {
  std::vector<std::string_view> out;
  for (const Setting &s : kSettings) {
    if (std::find(out.begin(), out.end(), s.section) == out.end()) out.push_back(s.section);
  }
  return out;
}

class ConfigParser : public Reader {
 public:
  using Reader::Reader;

  Config parse(const toml::table &root) {
    Config cfg;
    cfg.source = file_;
    cfg.base_dir = base_dir_;
    std::vector<std::string_view> known = setting_sections();
    known.insert(std::find(known.begin(), known.end(), "modules") + 1, "module");
    known.push_back("route");
    for_each_key(root, "", known, [&](std::string_view key, const toml::node &node) {
      if (key == "module") {
        parse_module_options(table(node, "module"), cfg);
      } else if (key == "route") {
        parse_routes(node, cfg);
      } else if (key == "tls") {
        parse_tls(table(node, "tls"), cfg);
      } else {
        parse_section(table(node, key), key, cfg);
      }
    });
    if (cfg.listen.empty() && cfg.tls_listen.empty()) {
      const toml::node *written = root.at_path("server.listen").node();
      fail(written ? *written : root, "server.listen", "at least one listen address is required (here or in [tls] listen)");
    }
    check_limits(root, cfg.limits);
    check_run_as(root, cfg.run_as);
    check_tls(root, cfg);
    check_module_options(cfg);
    return cfg;
  }

 private:
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

  // Every key of a core section goes through its kSettings row: one place
  // says what is accepted, so --check, a reload and --help-config agree.
  void parse_section(const toml::table &tbl, std::string_view section, Config &cfg) const {
    std::vector<std::string_view> names;
    for (const Setting &s : kSettings) {
      if (s.section == section) names.push_back(s.key);
    }
    for_each_key(tbl, section, names, [&](std::string_view key, const toml::node &node) {
      std::string path = child(section, key);
      for (const Setting &s : kSettings) {
        if (s.section != section || s.key != key) continue;
        if (s.integer) s.integer(cfg, integer(node, path, s.min, s.max));
        else if (s.boolean) s.boolean(cfg, boolean(node, path));
        else if (s.text) s.text(cfg, string(node, path));
        else s.custom(*this, node, path, cfg);
      }
    });
  }

  // [tls]: "listen" through its kSettings row, every other key (and, with
  // ABI 1.3 sections, sub-table) kept for the transport module to validate.
  void parse_tls(const toml::table &tbl, Config &cfg) const {
    for (const Setting &s : kSettings) {
      if (s.section == "tls" && tbl.contains(s.key)) s.custom(*this, *tbl.get(s.key), child("tls", s.key), cfg);
    }
    cfg.tls_options = options(tbl, "tls", {"listen"}, 2);
  }

  // [tls] and [modules] tls come together, and no address is both cleartext and TLS.
  void check_tls(const toml::table &root, const Config &cfg) const {
    const toml::node *section = root.get("tls");
    const toml::node *choice = root.at_path("modules.tls").node();
    if (section && cfg.tls.empty())
      fail(*section, "tls", "[tls] needs [modules] tls = \"NAME\", the transport module that serves it");
    if (cfg.tls.empty()) return;
    if (!section) fail(*choice, "modules.tls", "needs a [tls] table with listen = [\"HOST:PORT\", ...]");
    if (cfg.tls_listen.empty()) fail(*section, "tls.listen", "required key missing (the addresses to serve with TLS)");
    const toml::array &arr = *root.at_path("tls.listen").as_array();
    for (size_t i = 0; i < cfg.tls_listen.size(); ++i) {
      const ListenAddress &addr = cfg.tls_listen[i];
      for (const ListenAddress &plain : cfg.listen) {
        if (addr.port != 0 && plain.host == addr.host && plain.port == addr.port)
          fail(arr[i], "tls.listen[" + std::to_string(i) + "]", addr.text() + " is also in server.listen");
      }
    }
  }

  // Looked up now, so --check refuses an account this machine lacks.
  void check_run_as(const toml::table &root, RunAs &run_as) const {
    std::string why;
    if (resolve_run_as(run_as, why)) return;
    std::string key = why.starts_with("no such group") ? "server.group" : "server.user";
    const toml::node *at = root.at_path(key).node();
    fail(at ? *at : root, key, why);
  }

  // The target sits inside the head, so a larger target limit could never apply.
  void check_limits(const toml::table &root, const Limits &limits) const {
    if (limits.max_target_bytes <= limits.max_head_bytes) return;
    // At the key's line, or at [limits] when the default is what no longer fits.
    const toml::node *at = root.at_path("limits.max_target_bytes").node();
    if (!at) at = root.at_path("limits").node();
    fail(at ? *at : root, "limits.max_target_bytes",
         "must not exceed limits.max_head_bytes (" + std::to_string(limits.max_head_bytes) + ")");
  }

  // Options kept raw for the module's declared keys to validate later:
  // scalars, arrays of strings, and sub-tables down to `table_depth` levels
  // (a module's sections: [module.<m>.<section>.<NAME>] is two).
  OptionTable options(const toml::table &tbl, const std::string &prefix, const std::vector<std::string_view> &skip,
                      int table_depth = 0) const {
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
      } else if (node.is_array() && !node.as_array()->is_array_of_tables()) {
        out.values[name] = string_array(node, path);
      } else if (node.is_table() && table_depth > 0) {
        out.tables.push_back(options(*node.as_table(), path, {}, table_depth - 1));
        out.tables.back().name = name;
        continue;
      } else {
        fail(node, path, "expected a string, integer, boolean or array of strings, got " + describe(node));
      }
      out.positions[name] = pos(node);
    }
    return out;
  }

  void parse_module_options(const toml::table &tbl, Config &cfg) const {
    for (auto &&[key, node] : tbl) {
      std::string path = child("module", key.str());
      if (!valid_module_name(key.str())) fail(node, path, "invalid module name (letters, digits, '_' and '-' only)");
      cfg.module_options[std::string(key.str())] = options(table(node, path), path, {}, 2);
    }
  }

  // Options for a module that is not selected would never be read: almost
  // always a misspelt name, so it is an error rather than silence.
  static void check_module_options(const Config &cfg) {
    std::vector<std::string_view> selected = {cfg.io, cfg.allocator, cfg.parser, cfg.router};
    if (!cfg.metrics.empty()) selected.push_back(cfg.metrics);
    for (const auto &[name, options] : cfg.module_options) {
      if (std::find(selected.begin(), selected.end(), name) != selected.end()) continue;
      if (name == cfg.tls) throw ConfigError{options.pos.str() + ": " + options.path + ": a transport's options go in [tls]"};
      bool is_handler = std::any_of(cfg.routes.begin(), cfg.routes.end(),
                                    [&](const RouteConfig &route) { return route.handler == name; });
      // Only sub-tables: a handler's sections (1.3), checked against its descriptor when it loads.
      if (is_handler && options.values.empty() && !options.tables.empty()) continue;
      std::string why = is_handler ? "a handler's options go in the [[route]] tables that use it"
                                   : "module '" + name + "' is not selected in [modules] (selected: " +
                                         join(selected) + ")";
      throw ConfigError{options.pos.str() + ": " + options.path + ": " + why};
    }
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

};

}  // namespace

std::string log_level_list() {
  std::vector<std::string_view> names(std::begin(kLogLevels), std::end(kLogLevels));
  return join(names);
}

std::vector<SettingReference> core_settings() {
  std::vector<SettingReference> out;
  for (const Setting &s : kSettings) {
    SettingReference ref{std::string(s.section), std::string(s.key), std::string(setting_type(s)),
                         std::string(s.unit), std::string(s.fallback), "", std::string(s.doc)};
    if (s.max > 0) {
      bool open_top = s.max == kMaxU32 || s.max == kMaxInt;
      ref.range = open_top ? ">= " + std::to_string(s.min) : std::to_string(s.min) + " to " + std::to_string(s.max);
    }
    out.push_back(std::move(ref));
  }
  return out;
}

std::string describe_core_settings() {
  std::string out =
      "Core settings of the axle config file (TOML), by section. Modules declare\n"
      "their own keys ([module.NAME] tables, [[route]] keys of a handler, [tls]\n"
      "keys of the transport): see axle --help-module NAME.\n";
  std::string section;
  for (const SettingReference &s : core_settings()) {
    if (s.section != section) {
      section = s.section;
      out += "\n[" + section + "]\n";
    }
    out += s.key + "  " + s.type;
    if (!s.unit.empty()) out += ", " + s.unit;
    if (!s.range.empty()) out += ", " + s.range;
    out += "; default " + (s.default_value.empty() ? std::string("none") : s.default_value) + "\n";
    // The doc, indented and wrapped at 80 columns.
    size_t column = 0;
    for (std::string_view rest = s.doc; !rest.empty();) {
      size_t space = rest.find(' ');
      std::string_view word = rest.substr(0, space);
      rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
      if (column > 4 && column + 1 + word.size() > 80) {
        out += "\n";
        column = 0;
      }
      out += column == 0 ? "    " : " ";
      out += word;
      column += (column == 0 ? 4 : 1) + word.size();
    }
    out += "\n";
  }
  return out;
}

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
      // Names are not resolved: one name may stand for several addresses, and
      // what a listener binds must not change with DNS or /etc/hosts.
      return bad("the host must be a numeric address, e.g. \"127.0.0.1:" + std::string(port) +
                 "\" or \"[::1]:" + std::string(port) + "\" (names such as localhost are not resolved)");
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

bool RouteConfig::streams_body(uint16_t handler_abi_minor, uint32_t handler_flags) const {
  if (fallback != RouteFallback::None) return false;
  if (stream_body) return *stream_body;
  // The flag means nothing before 1.3: an older module may have set the bit.
  return handler_abi_minor >= 3 && (handler_flags & AXLE_MODULE_FLAG_STREAM_BODY) != 0;
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
