// The server configuration, parsed from TOML and validated before any module
// or socket is touched. Every error names file, line and key.
#pragma once

#include "privileges.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace axle {

// One option value as a module sees it (see axle_config_t in module_config.h);
// the list is a TOML array of strings (1.3, AXLE_CONFIG_STRING_LIST).
using OptionValue = std::variant<std::string, int64_t, bool, std::vector<std::string>>;

// Where a config item came from, for error messages: "file:line".
struct SourcePos {
  std::string file;
  uint32_t line = 0;
  std::string str() const { return line ? file + ":" + std::to_string(line) : file; }
};

// Raw key/value options of a module table or a route, before the module's
// declared keys validate them. Values are strings, integers, booleans and
// arrays of strings; sub-tables only where a table may hold sections
// ([module.<m>.<section>.<NAME>], two levels deep), refused elsewhere at parse time.
struct OptionTable {
  SourcePos pos;
  std::string name;  // its key in the parent table ("app"); empty for a top table
  std::string path;  // key path of the table, e.g. "module.epoll" or "route[2]"
  std::map<std::string, OptionValue> values;
  std::map<std::string, SourcePos> positions;  // per key
  std::vector<OptionTable> tables;             // sub-tables, in key order
};

struct ListenAddress {
  std::string host;  // numeric IPv4 or IPv6 (no brackets)
  uint16_t port = 0;
  std::string text() const;
};

// What a [[route]] without a path answers (key "fallback"): the requests its
// host scope has no route for (404) or no route for with this method (405).
enum class RouteFallback : uint8_t { None, NotFound, MethodNotAllowed };

// Bounds on a route's extension methods (they all go into a 405's Allow).
constexpr size_t kMaxExtensionMethods = 16;
constexpr size_t kMaxExtensionMethodBytes = 32;

struct RouteConfig {
  SourcePos pos;
  std::string path;        // pattern, e.g. "/echo/{msg}"; empty for a fallback
  std::string handler;     // handler module name, e.g. "static"
  uint32_t method_mask;    // AXLE_METHOD_* bits; "methods" key, default ANY
  // Names in "methods" outside the AXLE_METHOD_* set (case-sensitive tokens,
  // e.g. "PROPFIND"); when there are any, AXLE_METHOD_OTHER means only these.
  std::vector<std::string> extension_methods;
  // "stream_body": the handler receives the body as it arrives. Unset: the
  // handler's default (streams_body below).
  std::optional<bool> stream_body;
  // "host": lowercase exact names ("example.com") and wildcards ("*.example.com",
  // any name below example.com); empty = every host (the unscoped routes).
  std::vector<std::string> hosts;
  RouteFallback fallback = RouteFallback::None;  // set: no path, answers 404 or 405 for its scopes
  OptionTable options;     // every other key of the [[route]] table

  // Whether the route streams its request body: stream_body, or when unset
  // its handler's default (AXLE_MODULE_FLAG_STREAM_BODY in the descriptor's
  // flags, from ABI 1.3 on). A fallback route never streams.
  bool streams_body(uint16_t handler_abi_minor, uint32_t handler_flags) const;
};

struct Limits {
  uint32_t max_head_bytes = 16 * 1024;
  uint32_t max_target_bytes = 8 * 1024;
  uint32_t max_headers = 100;
  uint64_t max_body_bytes = 1024 * 1024;
  uint32_t max_connections = 10000;  // per process
  // Above max_connections: this many more are served for the metrics route
  // only (others get 503), so an operator can still look in; past them a
  // client gets a prebuilt 503 and a close.
  uint32_t reserve_connections = 8;
  uint32_t max_pipelined = 64;       // responses queued per connection before reading pauses
  // Flow control: while a connection's queued output holds this much memory
  // or this many open files, its engine parses no further request and stops reading.
  uint64_t max_conn_output_bytes = 1024 * 1024;
  uint32_t max_conn_output_files = 8;
  // Process-wide memory held for clients (buffered bodies and queued
  // output); past it new requests are answered 503.
  uint64_t max_buffered_bytes = 256ull * 1024 * 1024;
  bool operator==(const Limits &) const = default;
};

struct Timeouts {
  uint32_t header_ms = 10'000;  // first byte of a request to end of its head
  uint32_t body_ms = 30'000;    // head to end of body
  uint32_t idle_ms = 60'000;    // keep-alive wait for the next request
  uint32_t write_ms = 30'000;   // one write (a run of queued output) may take this long
  uint32_t response_ms = 60'000;  // a kept (pending) response must begin or finish within this
  uint32_t drain_ms = 10'000;   // shutdown / old generation grace period
  bool operator==(const Timeouts &) const = default;
};

// Optional socket tuning; unset fields are left to the OS.
struct SocketOptions {
  uint32_t backlog = 4096;
  bool reuse_port = false;
  std::optional<bool> tcp_nodelay = true;
  std::optional<bool> tcp_quickack;
  std::optional<int> busy_poll_us;
  std::optional<int> defer_accept_s;
  std::optional<int> recv_buffer;
  std::optional<int> send_buffer;
  bool operator==(const SocketOptions &) const = default;
};

// The levels [log] level and --log-level accept.
inline constexpr std::string_view kLogLevels[] = {"debug", "info", "warn", "error"};
std::string log_level_list();  // "debug, info, warn, error"

struct LogConfig {
  std::string level = "info";   // one of kLogLevels
  std::string access_log;       // path, resolved against base_dir; empty = off
  bool operator==(const LogConfig &) const = default;
};

struct Config {
  std::string source;     // file path, or "<embedded default>"
  std::string base_dir;   // relative paths in the config resolve against this
  std::vector<ListenAddress> listen;
  uint32_t workers = 0;   // 0 = "auto" (one per core)
  std::vector<std::string> module_dirs;  // searched before the built-in dirs; resolved against base_dir
  RunAs run_as;           // [server] user, group: taken on after binding; empty = stay as started

  // [modules]: chosen module name per kind. metrics may be empty (none).
  std::string io = "epoll";
  std::string allocator = "malloc";
  std::string parser = "scalar";
  std::string router = "linear";
  std::string metrics;
  std::string metrics_path = "/metrics";
  // [modules] tls: the transport module (kind transport) that wraps every
  // connection accepted on tls_listen; empty = cleartext only. Its options are
  // the [tls] table without the kernel's own key "listen".
  std::string tls;
  std::vector<ListenAddress> tls_listen;  // [tls] listen; --listen never overrides it
  OptionTable tls_options;
  // Where each [modules] choice was written ("" when left to its default), so a
  // module that cannot be found is reported at its line: kind -> position.
  std::map<std::string, SourcePos> module_positions;

  std::map<std::string, OptionTable> module_options;  // [module.<name>]
  std::vector<RouteConfig> routes;
  Limits limits;
  Timeouts timeouts;
  SocketOptions sockets;
  LogConfig log;
  std::optional<ListenAddress> admin_listen;  // [admin] listen (loopback only)
  std::vector<std::string> admin_hosts;  // [admin] hosts: Host names accepted beside loopback, lowercase
  std::string admin_token;  // read from [admin] token_file at load; empty = no token required
};

// Parse and validate. On failure returns std::nullopt and sets error to
// "<file>:<line>: <key>: <what is wrong>".
std::optional<Config> parse_config(std::string_view toml_text, const std::string &source_name,
                                   const std::string &base_dir, std::string &error);
std::optional<Config> load_config_file(const std::string &path, std::string &error);

// The embedded default (configs/default.toml compiled in).
std::string_view default_config_text();
// parse_config of the embedded default, with the current directory as base_dir.
std::optional<Config> load_default_config(std::string &error);

// One row of the core settings reference: every key of [server], [modules],
// [limits], [timeouts], [sockets], [log] and [admin], from the table the
// validator uses.
struct SettingReference {
  std::string section, key;
  std::string type;           // "integer", "boolean", "string", or what a custom key takes
  std::string unit;           // "bytes", "ms", "s", "us"; empty when none
  std::string default_value;  // as written in TOML; empty = none (required, or left to the OS)
  std::string range;          // "1 to 4194304" for integers; else empty
  std::string doc;
};
std::vector<SettingReference> core_settings();
// The text of axle --help-config (and of the README's settings reference).
std::string describe_core_settings();

// Parses "HOST:PORT", "[v6]:PORT"; false with error on bad input.
bool parse_listen_address(std::string_view text, ListenAddress &out, std::string &error);

}  // namespace axle
