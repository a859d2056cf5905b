// handler "static": serves files below a root directory with validators
// (ETag, Last-Modified, 304/412), single byte ranges and directory index
// files, never a byte from outside the root.
//
// Confinement does not rely on the kernel's path normalisation alone: the
// root stays open as an O_PATH descriptor and every file is opened with
// openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS), so ".." and symlinks that
// would leave the root fail in the OS (EXDEV) instead of being served.
//
// This file is the request flow; the open-file cache (file_cache.h), the
// confined open (open_file.h), content-coding negotiation
// (accept_encoding.h), validators and MIME types live beside it.
#include "accept_encoding.h"
#include "file_cache.h"
#include "http_date.h"
#include "mime.h"
#include "open_file.h"
#include "validators.h"

#include <axle/handler.h>
#include <axle/module.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <climits>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace axle::static_handler {
namespace {

constexpr axle_config_key_t kConfigKeys[] = {
    {"root", AXLE_CONFIG_STRING, nullptr, "Directory to serve (relative to the config file's directory)"},
    {"index", AXLE_CONFIG_STRING, "index.html", "File served for a directory request; \"\" = none"},
    {"fallback", AXLE_CONFIG_STRING, "",
     "\"welcome\": if root is missing, serve a built-in welcome page instead of failing; \"\" = fail"},
    {"max_age", AXLE_CONFIG_INT, "0", "Cache-Control max-age in seconds; 0 = no Cache-Control header"},
    {"cache_entries", AXLE_CONFIG_INT, "1024",
     "Open-file cache entries per route per worker (each holds at most one descriptor); 0 = no cache"},
    {"cache_valid_ms", AXLE_CONFIG_INT, "1000",
     "Milliseconds a cached file is trusted before it is re-opened and compared"},
    {"memory_max_bytes", AXLE_CONFIG_INT, "16384", "Files up to this size are cached as bytes, not descriptors"},
    {"memory_cache_bytes", AXLE_CONFIG_INT, "8388608", "File bytes one route caches per worker at most"},
    {"precompressed", AXLE_CONFIG_BOOL, "false",
     "Serve file.br / file.zst / file.gz beside file when Accept-Encoding allows it"},
};

// Upper bounds on the cache keys, so a typo (an extra zero or three) is
// refused rather than allowed to hold descriptors or memory by the million.
constexpr int64_t kMaxCacheEntries = 1 << 16;
constexpr int64_t kMaxMemoryCacheBytes = int64_t{1} << 30;
constexpr const char *kMimeTypesPath = "/etc/mime.types";

constexpr std::string_view kWelcomePage =
    "<!doctype html>\n"
    "<html lang=\"en\">\n"
    "<head><meta charset=\"utf-8\"><title>axle</title></head>\n"
    "<body>\n"
    "<h1>axle is running</h1>\n"
    "<p>This is the built-in welcome page: the static route's root directory does not exist.\n"
    "Create it, or point <code>root</code> in the <code>[[route]]</code> at your site, then reload.</p>\n"
    "</body>\n"
    "</html>\n";

struct Instance {
  const axle_host_api_t *host;
  const axle_config_t *config;  // for log lines
  MimeTypes mime;
  CacheMetrics metrics;
};

constexpr axle_str_t str(std::string_view s) { return {s.data(), s.size()}; }
std::string_view view(axle_str_t s) { return {s.ptr, s.len}; }

bool ends_with_slash(std::string_view s) { return !s.empty() && s.back() == '/'; }

// Rejects what must never reach openat2 even though the kernel normalises
// paths: NUL would truncate the name, backslashes are path separators to some
// clients' minds, and ".." is refused outright rather than resolved.
bool is_safe_relative(std::string_view path) {
  if (path.find('\0') != std::string_view::npos || path.find('\\') != std::string_view::npos) return false;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (path.substr(start, end - start) == "..") return false;
    start = end + 1;
  }
  return true;
}

// Percent-encodes a decoded path for a Location header: everything but
// unreserved characters, sub-delims, ':', '@' and '/'. This also keeps
// decoded CR/LF from ever reaching a header.
std::string encode_path(std::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  static constexpr std::string_view kKeep = "-._~!$&'()*+,;=:@/";
  std::string out;
  out.reserve(path.size() + 1);
  for (unsigned char c : path) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
        kKeep.find(static_cast<char>(c)) != std::string_view::npos) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

bool is_visible_ascii(std::string_view s) {
  for (unsigned char c : s)
    if (c <= 0x20 || c >= 0x7f) return false;
  return true;
}

std::string_view status_text_body(uint16_t status) {
  switch (status) {
    case 403: return "403 Forbidden\n";
    case 404: return "404 Not Found\n";
    case 405: return "405 Method Not Allowed\n";
    case 406: return "406 Not Acceptable\n";
    case 412: return "412 Precondition Failed\n";
    default: return {};
  }
}

class Route;

// A worker's open-file caches, one per static route it served (so at most
// the generation's static routes). Only that worker's thread touches it.
struct WorkerCaches {
  const CacheMetrics *metrics;
  std::vector<std::pair<const Route *, std::unique_ptr<FileCache>>> by_route;
  FileCache &for_route(const Route *route, const CacheLimits &limits) {
    for (auto &[r, cache] : by_route)
      if (r == route) return *cache;
    by_route.emplace_back(route, std::make_unique<FileCache>(limits, *metrics));
    return *by_route.back().second;
  }
};

// What a response serves: the file, its coding and how it negotiated.
struct Selected {
  const OpenFile *file;
  std::string_view content_type;  // the original file's, also for a variant
  int variant = kIdentity;        // index into kVariants, or kIdentity
  bool vary = false;              // the file has variants: Vary: Accept-Encoding
};

class Route final : public FileSource {
 public:
  Route(const axle_host_api_t *host, const axle_config_t *module_config, const MimeTypes *mime)
      : host_(host), module_config_(module_config), mime_(mime) {}
  Route(const Route &) = delete;
  Route &operator=(const Route &) = delete;
  ~Route() {
    if (root_fd_ >= 0) ::close(root_fd_);
  }

  // Reads and checks the route's keys and opens the root. False with `error` set.
  bool init(const axle_config_t *cfg, std::string &error);
  axle_status_t serve(const axle_request_t &req, axle_response_t *resp, WorkerCaches *caches) const;

  // FileSource: the confined open, for the cache and the uncached path alike.
  int load(const char *name, size_t name_len, uint64_t memory_max, OpenFile &out) const override;
  int check(const char *name, const FileIdentity &id, uint8_t variants) const override;

 private:
  bool read_string(const axle_config_t *cfg, const char *key, std::string &out, std::string &error) const;
  bool read_int(const axle_config_t *cfg, const char *key, int64_t max, int64_t &out, std::string &error) const;
  void log(axle_log_level_t level, const std::string &msg) const {
    host_->log(module_config_, level, msg.data(), msg.size());
  }
  axle_status_t reply(axle_response_t *resp, uint16_t status) const;
  axle_status_t add_header(axle_response_t *resp, std::string_view name, std::string_view value) const {
    return host_->response_add_header(resp, str(name), str(value));
  }
  axle_status_t open_failed(int error, axle_response_t *resp) const;
  axle_status_t redirect_to_directory(const axle_request_t &req, axle_response_t *resp) const;
  axle_status_t serve_welcome(std::string_view path, axle_response_t *resp) const;
  uint8_t probe_variants(const char *name, size_t name_len) const;
  int lookup(FileCache *cache, const char *name, size_t len, OpenFile &scratch, const OpenFile **out) const;
  axle_status_t serve_file(const axle_request_t &req, axle_response_t *resp, const Selected &sel,
                           OpenFile &scratch) const;

  const axle_host_api_t *host_;
  const axle_config_t *module_config_;
  const MimeTypes *mime_;  // the instance's, which outlives its routes
  int root_fd_ = -1;       // O_PATH directory; -1 when serving the welcome page
  bool welcome_ = false;
  bool precompressed_ = false;
  CacheLimits limits_;
  std::string root_;           // resolved path, for messages
  std::string index_;          // "" = no index file
  std::string cache_control_;  // "" = no Cache-Control header
};

bool Route::read_string(const axle_config_t *cfg, const char *key, std::string &out, std::string &error) const {
  axle_str_t value{};
  if (host_->config_get_string(cfg, key, &value) != AXLE_OK) {
    error = std::string("static: missing key \"") + key + "\"";
    return false;
  }
  out.assign(value.ptr, value.len);
  return true;
}

bool Route::read_int(const axle_config_t *cfg, const char *key, int64_t max, int64_t &out,
                     std::string &error) const {
  if (host_->config_get_int(cfg, key, &out) != AXLE_OK) {
    error = std::string("static: missing key \"") + key + "\"";
    return false;
  }
  if (out < 0 || out > max) {
    error = std::string("static: ") + key + " must be in [0, " + std::to_string(max) + "], got " +
            std::to_string(out);
    return false;
  }
  return true;
}

bool Route::init(const axle_config_t *cfg, std::string &error) {
  std::string root, fallback;
  int64_t max_age = 0;
  if (!read_string(cfg, "root", root, error) || !read_string(cfg, "index", index_, error) ||
      !read_string(cfg, "fallback", fallback, error))
    return false;
  int64_t entries = 0, valid_ms = 0, memory_max = 0, memory_cache = 0;
  if (!read_int(cfg, "max_age", INT64_MAX, max_age, error) ||
      !read_int(cfg, "cache_entries", kMaxCacheEntries, entries, error) ||
      !read_int(cfg, "cache_valid_ms", INT64_MAX / 1'000'000, valid_ms, error) ||
      !read_int(cfg, "memory_max_bytes", kMaxMemoryCacheBytes, memory_max, error) ||
      !read_int(cfg, "memory_cache_bytes", kMaxMemoryCacheBytes, memory_cache, error))
    return false;
  int precompressed = 0;
  if (host_->config_get_bool(cfg, "precompressed", &precompressed) != AXLE_OK) {
    error = "static: missing key \"precompressed\"";
    return false;
  }
  precompressed_ = precompressed != 0;
  limits_ = {static_cast<uint32_t>(entries), static_cast<uint64_t>(valid_ms) * 1'000'000u,
             static_cast<uint64_t>(memory_max), static_cast<uint64_t>(memory_cache)};
  if (root.empty() || root.find('\0') != std::string::npos) {
    error = "static: root must be a non-empty path";
    return false;
  }
  if (!index_.empty() &&
      (index_ == "." || index_ == ".." || index_.find_first_of(std::string_view("/\\\0", 3)) != std::string::npos)) {
    error = "static: index must be a plain file name (no '/', '\\' or NUL, not \".\" or \"..\"), got \"" +
            index_ + "\"";
    return false;
  }
  if (fallback != "" && fallback != "welcome") {
    error = "static: fallback must be \"\" or \"welcome\", got \"" + fallback + "\"";
    return false;
  }
  if (max_age > 0) cache_control_ = "max-age=" + std::to_string(max_age);

  root_ = root.front() == '/' ? root : std::string(host_->config_base_dir(cfg)) + "/" + root;
  root_fd_ = ::open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd_ < 0) {
    const int e = errno;
    if (e == ENOENT && fallback == "welcome") {
      welcome_ = true;
      log(AXLE_LOG_WARN, "root \"" + root_ + "\" does not exist; serving the built-in welcome page");
      return true;
    }
    if (e == ENOENT)
      error = "static: root \"" + root_ + "\" does not exist (fallback = \"welcome\" serves a placeholder instead)";
    else if (e == ENOTDIR)
      error = "static: root \"" + root_ + "\" is not a directory";
    else
      error = "static: cannot open root \"" + root_ + "\": " + std::strerror(e);
    return false;
  }
  // Refuse to start rather than serve without confinement on kernels before
  // 5.6 or under a seccomp filter that blocks openat2.
  int probe = -1;
  struct stat st;
  if (const int e = open_beneath_stat(root_fd_, ".", probe, st); e != 0) {
    error = "static: openat2(RESOLVE_BENEATH) failed on root \"" + root_ + "\": " + std::strerror(e) +
            (e == ENOSYS || e == EPERM ? " (Linux >= 5.6 without a seccomp filter on openat2 is required)" : "");
    return false;
  }
  ::close(probe);
  return true;
}

axle_status_t Route::reply(axle_response_t *resp, uint16_t status) const {
  host_->response_set_status(resp, status);
  const std::string_view body = status_text_body(status);
  if (body.empty()) return AXLE_OK;
  if (axle_status_t st = add_header(resp, "Content-Type", "text/plain; charset=utf-8"); st != AXLE_OK) return st;
  return host_->response_body_lend(resp, body.data(), body.size(), nullptr, nullptr);
}

axle_status_t Route::open_failed(int error, axle_response_t *resp) const {
  switch (error) {
    case ENOENT:
    case ENOTDIR:
    case ENAMETOOLONG:
    case EXDEV:  // the name resolves outside the root (a ".." or an escaping symlink)
    case ELOOP:  // a magic link, or a symlink loop
      return reply(resp, 404);
    case EACCES:
    case EPERM:
      return reply(resp, 403);
    default:
      log(AXLE_LOG_ERROR, std::string("open below \"") + root_ + "\" failed: " + strerrordesc_np(error));
      return AXLE_ERR_IO;
  }
}

axle_status_t Route::redirect_to_directory(const axle_request_t &req, axle_response_t *resp) const {
  std::string location = encode_path(view(req.path));
  location.push_back('/');
  // The query is kept when it is plain visible ASCII, as the parser guarantees;
  // anything else is dropped rather than copied into a header.
  if (req.query.len > 0 && is_visible_ascii(view(req.query))) {
    location.push_back('?');
    location.append(req.query.ptr, req.query.len);
  }
  host_->response_set_status(resp, 301);
  return add_header(resp, "Location", location);
}

axle_status_t Route::serve_welcome(std::string_view path, axle_response_t *resp) const {
  if (!path.empty() && path != index_) return reply(resp, 404);
  host_->response_set_status(resp, 200);
  if (axle_status_t st = add_header(resp, "Content-Type", "text/html; charset=utf-8"); st != AXLE_OK) return st;
  return host_->response_body_lend(resp, kWelcomePage.data(), kWelcomePage.size(), nullptr, nullptr);
}

bool is_variant_name(std::string_view name) {
  for (const Variant &v : kVariants)
    if (name.ends_with(v.suffix)) return true;
  return false;
}

uint8_t Route::probe_variants(const char *name, size_t name_len) const {
  char variant_name[PATH_MAX];
  uint8_t found = 0;
  for (const Variant &v : kVariants) {
    if (name_len + v.suffix.size() >= sizeof variant_name) continue;
    std::memcpy(variant_name, name, name_len);
    std::memcpy(variant_name + name_len, v.suffix.data(), v.suffix.size());
    variant_name[name_len + v.suffix.size()] = '\0';
    int fd;
    struct stat st;
    if (open_beneath_stat(root_fd_, variant_name, fd, st) != 0) continue;
    ::close(fd);
    if (S_ISREG(st.st_mode)) found |= v.bit;
  }
  return found;
}

int Route::load(const char *name, size_t name_len, uint64_t memory_max, OpenFile &out) const {
  int fd;
  struct stat st;
  if (const int e = open_beneath_stat(root_fd_, name, fd, st); e != 0) return e;
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return S_ISDIR(st.st_mode) ? EISDIR : kNotRegular;
  }
  const std::string_view file_name(name, name_len);
  const bool in_memory = static_cast<uint64_t>(st.st_size) <= memory_max;
  if (const int e = make_open_file(fd, st, mime_->lookup(file_name), in_memory, out); e != 0) return e;
  // A variant of a variant (a.js.gz.br) is never served: not probed.
  if (precompressed_ && !is_variant_name(file_name)) out.variants = probe_variants(name, name_len);
  return 0;
}

int Route::check(const char *name, const FileIdentity &id, uint8_t variants) const {
  int fd;
  struct stat st;
  if (const int e = open_beneath_stat(root_fd_, name, fd, st); e != 0) return e;
  ::close(fd);
  if (!S_ISREG(st.st_mode)) return S_ISDIR(st.st_mode) ? EISDIR : kNotRegular;
  if (!(FileIdentity::of(st) == id)) return ESTALE;
  const size_t len = std::strlen(name);
  if (precompressed_ && !is_variant_name({name, len}) && probe_variants(name, len) != variants) return ESTALE;
  return 0;
}

int Route::lookup(FileCache *cache, const char *name, size_t len, OpenFile &scratch, const OpenFile **out) const {
  if (cache) return cache->get(name, len, host_->now_ns(), *this, scratch, out);
  *out = &scratch;
  return load(name, len, 0, scratch);
}

axle_status_t Route::serve(const axle_request_t &req, axle_response_t *resp, WorkerCaches *caches) const {
  if (!(req.method_bit & (AXLE_METHOD_GET | AXLE_METHOD_HEAD))) {
    if (axle_status_t st = add_header(resp, "Allow", "GET, HEAD"); st != AXLE_OK) return st;
    return reply(resp, 405);
  }

  std::string_view path = view(req.path);
  for (uint32_t i = 0; i < req.param_count; ++i)
    if (view(req.params[i].name) == "*") path = view(req.params[i].value);
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  // 404 rather than 400: a refused name is reported like a missing one, so
  // probing reveals nothing about what exists.
  if (!is_safe_relative(path)) return reply(resp, 404);
  if (welcome_) return serve_welcome(path, resp);

  // The longest name: the path, a '/', the index and a variant's suffix.
  char name[PATH_MAX];
  if (path.size() + 1 + index_.size() + 4 >= sizeof name) return reply(resp, 404);
  size_t name_len = path.size();
  std::memcpy(name, path.data(), name_len);
  const bool directory = ends_with_slash(view(req.path));
  if (directory) {
    if (index_.empty()) return reply(resp, 404);  // no listings
    // The index is opened from the root, not from the directory, so a
    // symlinked index that stays inside the root still works; a name that
    // is not a directory fails with ENOTDIR (404).
    if (name_len > 0 && name[name_len - 1] != '/') name[name_len++] = '/';
    std::memcpy(name + name_len, index_.data(), index_.size());
    name_len += index_.size();
  } else if (name_len == 0) {
    name[name_len++] = '.';
  }
  name[name_len] = '\0';

  FileCache *cache = caches ? &caches->for_route(this, limits_) : nullptr;
  OpenFile scratch;  // a file served without being cached
  Selected sel{};
  int e = lookup(cache, name, name_len, scratch, &sel.file);
  if (e == EISDIR) return directory ? reply(resp, 404) : redirect_to_directory(req, resp);
  if (e == kNotRegular) return reply(resp, 404);
  if (e != 0) return open_failed(e, resp);
  sel.content_type = sel.file->content_type;
  sel.vary = sel.file->variants != 0;
  if (!sel.vary) return serve_file(req, resp, sel, scratch);

  const axle_header_t *accept = axle_request_find_header(&req, "accept-encoding", 15);
  const std::string_view accept_value = accept ? view(accept->value) : std::string_view();
  const int choice = choose_encoding(accept ? &accept_value : nullptr, sel.file->variants);
  if (choice == kNoneAcceptable) {
    if (axle_status_t st = add_header(resp, "Vary", "Accept-Encoding"); st != AXLE_OK) return st;
    return reply(resp, 406);
  }
  if (choice != kIdentity) {
    const std::string_view suffix = kVariants[choice].suffix;
    std::memcpy(name + name_len, suffix.data(), suffix.size());
    name[name_len + suffix.size()] = '\0';
    // This lookup may evict the original's entry: sel.file is not used again
    // unless it is looked up anew below.
    OpenFile variant_scratch;
    const OpenFile *variant = nullptr;
    if (lookup(cache, name, name_len + suffix.size(), variant_scratch, &variant) == 0) {
      sel.file = variant;
      sel.variant = choice;
      return serve_file(req, resp, sel, variant_scratch);
    }
    // The variant went away since the original was checked: the original
    // serves, if the client takes it, until its next revalidation.
    name[name_len] = '\0';
    if (choose_encoding(accept ? &accept_value : nullptr, 0) == kNoneAcceptable) {
      if (axle_status_t st = add_header(resp, "Vary", "Accept-Encoding"); st != AXLE_OK) return st;
      return reply(resp, 406);
    }
    e = lookup(cache, name, name_len, scratch, &sel.file);
    if (e == EISDIR || e == kNotRegular) return reply(resp, 404);
    if (e != 0) return open_failed(e, resp);
  }
  return serve_file(req, resp, sel, scratch);
}

axle_status_t Route::serve_file(const axle_request_t &req, axle_response_t *resp, const Selected &sel,
                                OpenFile &scratch) const {
  const OpenFile &f = *sel.file;
  const uint64_t size = f.size;
  // A variant's ETag is its own file's plus the coding, so no two
  // representations of one URL ever share a tag.
  char etag_buf[64];
  std::string_view etag = f.etag_view();
  if (sel.variant != kIdentity) {
    const std::string_view coding = kVariants[sel.variant].coding;
    const size_t core = etag.size() - 1;  // without the closing quote
    std::memcpy(etag_buf, etag.data(), core);
    etag_buf[core] = '-';
    std::memcpy(etag_buf + core + 1, coding.data(), coding.size());
    etag_buf[core + 1 + coding.size()] = '"';
    etag = std::string_view(etag_buf, core + coding.size() + 2);
  }

  auto header = [&req](std::string_view name) -> const axle_header_t * {
    return axle_request_find_header(&req, name.data(), name.size());
  };
  if (sel.vary)
    if (axle_status_t st = add_header(resp, "Vary", "Accept-Encoding"); st != AXLE_OK) return st;
  int64_t date;
  // Preconditions in the order of RFC 9110 section 13.2.2.
  if (const axle_header_t *h = header("if-match")) {
    if (!etag_list_matches(view(h->value), etag, false)) return reply(resp, 412);
  } else if (const axle_header_t *h = header("if-unmodified-since")) {
    if (parse_http_date(view(h->value), date) && f.mtime_sec > date) return reply(resp, 412);
  }
  bool not_modified = false;
  if (const axle_header_t *h = header("if-none-match"))
    not_modified = etag_list_matches(view(h->value), etag, true);
  else if (const axle_header_t *h = header("if-modified-since"))
    not_modified = parse_http_date(view(h->value), date) && f.mtime_sec <= date;
  if (not_modified) {
    host_->response_set_status(resp, 304);
    axle_status_t s = add_header(resp, "ETag", etag);
    if (s == AXLE_OK && !cache_control_.empty()) s = add_header(resp, "Cache-Control", cache_control_);
    return s;
  }

  // Range applies to GET only (RFC 9110 section 14.2); HEAD gets the 200 head.
  ByteRange range;
  if (req.method_bit == AXLE_METHOD_GET) {
    const axle_header_t *range_header = header("range");
    const axle_header_t *if_range = header("if-range");
    if (range_header && (!if_range || if_range_matches(view(if_range->value), etag, f.mtime_sec)))
      range = parse_range(view(range_header->value), size);
  }
  char content_range[80];
  if (range.kind == ByteRange::kUnsatisfiable) {
    host_->response_set_status(resp, 416);
    std::snprintf(content_range, sizeof content_range, "bytes */%" PRIu64, size);
    return add_header(resp, "Content-Range", content_range);
  }

  axle_status_t s = AXLE_OK;
  auto add = [&](std::string_view name, std::string_view value) {
    if (s == AXLE_OK && !value.empty()) s = add_header(resp, name, value);
  };
  add("Content-Type", sel.content_type);
  if (sel.variant != kIdentity) add("Content-Encoding", kVariants[sel.variant].coding);
  add("ETag", etag);
  add("Last-Modified", f.last_modified_view());
  add("Accept-Ranges", "bytes");
  add("Cache-Control", cache_control_);
  uint64_t offset = 0, length = size;
  if (range.kind == ByteRange::kSatisfiable) {
    host_->response_set_status(resp, 206);
    std::snprintf(content_range, sizeof content_range, "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, range.first,
                  range.last, size);
    add("Content-Range", content_range);
    offset = range.first;
    length = range.last - range.first + 1;
  } else {
    host_->response_set_status(resp, 200);
  }
  if (s != AXLE_OK || length == 0) return s;
  // HEAD hands the body over too: the host takes its length for
  // Content-Length and sends no body.
  if (f.blob) {
    // The response holds its own reference: the bytes outlive an eviction.
    f.blob->ref();
    return host_->response_body_lend(resp, f.blob->data() + offset, length, Blob::unref, f.blob);
  }
  int fd;
  if (&f == &scratch) {
    fd = scratch.fd;
    scratch.fd = -1;
  } else {
    // The host closes what it is given, so a cached descriptor goes out as a
    // duplicate (one fcntl instead of openat2 + fstat + close).
    fd = ::fcntl(f.fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) {
      log(AXLE_LOG_ERROR, std::string("dup of a cached descriptor failed: ") + strerrordesc_np(errno));
      return AXLE_ERR_IO;
    }
  }
  return host_->response_body_file(resp, fd, offset, length);
}

// ---- ABI entry points: no exception crosses them ----

template <size_t N>
void set_error(const axle_host_api_t *host, axle_error_t *err, const char (&msg)[N]) {
  host->error_set(err, msg, N - 1);
}

// The cache metrics, when the host offers module metrics (1.2); a refused
// registration leaves that metric out.
void register_metrics(Instance &inst) {
  const axle_host_api_t *host = inst.host;
  inst.metrics.host = host;
  if (!AXLE_STRUCT_HAS(host, axle_host_api_t, metric_register) || !host->metric_register || !host->metric_add)
    return;
  auto reg = [&](axle_metric_kind_t kind, const char *name, const char *help) {
    return host->metric_register(inst.config, kind, name, help, nullptr, 0, nullptr);
  };
  inst.metrics.hits = reg(AXLE_METRIC_COUNTER, "axle_static_cache_hits_total",
                          "Static files served from the open-file cache (fresh or revalidated unchanged)");
  inst.metrics.misses = reg(AXLE_METRIC_COUNTER, "axle_static_cache_misses_total",
                            "Static file lookups the open-file cache could not answer (opened anew)");
  inst.metrics.open_fds =
      reg(AXLE_METRIC_GAUGE, "axle_static_cache_open_fds", "Descriptors held by the open-file caches");
  inst.metrics.memory_bytes =
      reg(AXLE_METRIC_GAUGE, "axle_static_cache_memory_bytes", "File bytes held by the open-file caches");
}

axle_status_t create(const axle_host_api_t *host, const axle_config_t *cfg, void **instance_out, axle_error_t *err) {
  try {
    auto inst = std::make_unique<Instance>(Instance{host, cfg, {}, {}});
    if (!inst->mime.load(kMimeTypesPath)) {
      const std::string msg = std::string(kMimeTypesPath) + " not readable; using the built-in media types";
      host->log(cfg, AXLE_LOG_INFO, msg.data(), msg.size());
    }
    register_metrics(*inst);
    *instance_out = inst.release();
    return AXLE_OK;
  } catch (const std::bad_alloc &) {
    set_error(host, err, "static: out of memory");
    return AXLE_ERR_NOMEM;
  }
}

void destroy(void *instance) { delete static_cast<Instance *>(instance); }

axle_status_t thread_init(void *instance, axle_worker_t *, void **thread_ctx_out, axle_error_t *err) {
  const auto *inst = static_cast<Instance *>(instance);
  auto *caches = new (std::nothrow) WorkerCaches{&inst->metrics, {}};
  if (!caches) {
    set_error(inst->host, err, "static: out of memory");
    return AXLE_ERR_NOMEM;
  }
  *thread_ctx_out = caches;
  return AXLE_OK;
}

// Closes the worker's cached descriptors; bytes still lent to a response
// stay alive until the host releases them.
void thread_fini(void *, void *thread_ctx) { delete static_cast<WorkerCaches *>(thread_ctx); }

axle_status_t route_init(void *instance, const axle_config_t *route_cfg, axle_str_t, void **route_state_out,
                         axle_error_t *err) {
  const auto *inst = static_cast<Instance *>(instance);
  try {
    auto route = std::make_unique<Route>(inst->host, inst->config, &inst->mime);
    std::string error;
    if (!route->init(route_cfg, error)) {
      inst->host->error_set(err, error.data(), error.size());
      return AXLE_ERR_INVALID;
    }
    *route_state_out = route.release();
    return AXLE_OK;
  } catch (const std::bad_alloc &) {
    set_error(inst->host, err, "static: out of memory");
    return AXLE_ERR_NOMEM;
  } catch (...) {
    set_error(inst->host, err, "static: unexpected exception in route_init");
    return AXLE_ERR_INTERNAL;
  }
}

void route_fini(void *, void *route_state) { delete static_cast<Route *>(route_state); }

axle_status_t handle(void *route_state, void *thread_ctx, const axle_request_t *req, axle_response_t *resp) {
  try {
    return static_cast<const Route *>(route_state)->serve(*req, resp, static_cast<WorkerCaches *>(thread_ctx));
  } catch (const std::bad_alloc &) {
    return AXLE_ERR_NOMEM;
  } catch (...) {
    return AXLE_ERR_INTERNAL;
  }
}

const axle_handler_vtable_t kVtable = {
    .struct_size = sizeof(axle_handler_vtable_t),
    .route_init = route_init,
    .route_fini = route_fini,
    .handle = handle,
};

}  // namespace
}  // namespace axle::static_handler

AXLE_MODULE_ENTRY {
  namespace sh = axle::static_handler;
  static const axle_module_descriptor_t d = {
      .struct_size = sizeof(axle_module_descriptor_t),
      .abi_major = AXLE_ABI_MAJOR,
      .abi_minor = AXLE_ABI_MINOR,
      .kind = AXLE_KIND_HANDLER,
      .flags = 0,
      .name = "static",
      .version = "1.1.0",
      .description = "Serves files below a root directory (open-file cache, ranges, validators, precompressed variants)",
      .config_keys = sh::kConfigKeys,
      .config_key_count = std::size(sh::kConfigKeys),
      .create = sh::create,
      .destroy = sh::destroy,
      .thread_init = sh::thread_init,
      .thread_fini = sh::thread_fini,
      .vtable = &sh::kVtable,
      .config_sections = nullptr,
      .config_section_count = 0,
  };
  return &d;
}
