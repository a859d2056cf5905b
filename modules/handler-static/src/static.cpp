// handler "static": serves files below a root directory with validators
// (ETag, Last-Modified, 304/412), single byte ranges and directory index
// files, never a byte from outside the root.
//
// Confinement does not rely on the kernel's path normalisation alone: the
// root stays open as an O_PATH descriptor and every file is opened with
// openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS), so ".." and symlinks that
// would leave the root fail in the OS (EXDEV) instead of being served.
#include "http_date.h"
#include "mime.h"
#include "validators.h"

#include <axle/handler.h>
#include <axle/module.h>

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

namespace axle::static_handler {
namespace {

constexpr axle_config_key_t kConfigKeys[] = {
    {"root", AXLE_CONFIG_STRING, nullptr, "Directory to serve (relative to the config file's directory)"},
    {"index", AXLE_CONFIG_STRING, "index.html", "File served for a directory request; \"\" = none"},
    {"fallback", AXLE_CONFIG_STRING, "",
     "\"welcome\": if root is missing, serve a built-in welcome page instead of failing; \"\" = fail"},
    {"max_age", AXLE_CONFIG_INT, "0", "Cache-Control max-age in seconds; 0 = no Cache-Control header"},
};

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

constexpr uint64_t kOpenFlags = O_RDONLY | O_CLOEXEC | O_NOCTTY |
                                // A FIFO or device in the tree must not block the worker in open();
                                // cleared again once the file is known to be regular.
                                O_NONBLOCK;

struct Instance {
  const axle_host_api_t *host;
  const axle_config_t *config;  // for log lines
};

// Closes a descriptor unless it was handed to the host.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd &) = delete;
  Fd &operator=(const Fd &) = delete;
  ~Fd() { reset(); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }
  int get() const { return fd_; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

int open_beneath(int root_fd, const char *relative) {
  open_how how{};
  how.flags = kOpenFlags;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(::syscall(SYS_openat2, root_fd, relative, &how, sizeof how));
}

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
    case 412: return "412 Precondition Failed\n";
    default: return {};
  }
}

class Route {
 public:
  Route(const axle_host_api_t *host, const axle_config_t *module_config) : host_(host), module_config_(module_config) {}
  Route(const Route &) = delete;
  Route &operator=(const Route &) = delete;
  ~Route() {
    if (root_fd_ >= 0) ::close(root_fd_);
  }

  // Reads and checks the route's keys and opens the root. False with `error` set.
  bool init(const axle_config_t *cfg, std::string &error);
  axle_status_t serve(const axle_request_t &req, axle_response_t *resp) const;

 private:
  bool read_string(const axle_config_t *cfg, const char *key, std::string &out, std::string &error) const;
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
  axle_status_t serve_file(const axle_request_t &req, axle_response_t *resp, Fd &fd, const struct stat &st,
                           std::string_view file_name) const;

  const axle_host_api_t *host_;
  const axle_config_t *module_config_;
  int root_fd_ = -1;  // O_PATH directory; -1 when serving the welcome page
  bool welcome_ = false;
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

bool Route::init(const axle_config_t *cfg, std::string &error) {
  std::string root, fallback;
  int64_t max_age = 0;
  if (!read_string(cfg, "root", root, error) || !read_string(cfg, "index", index_, error) ||
      !read_string(cfg, "fallback", fallback, error))
    return false;
  if (host_->config_get_int(cfg, "max_age", &max_age) != AXLE_OK) {
    error = "static: missing key \"max_age\"";
    return false;
  }
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
  if (max_age < 0) {
    error = "static: max_age must be >= 0, got " + std::to_string(max_age);
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
  const int probe = open_beneath(root_fd_, ".");
  if (probe < 0) {
    const int e = errno;
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

axle_status_t Route::serve(const axle_request_t &req, axle_response_t *resp) const {
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

  char name[PATH_MAX];
  if (path.size() + 1 + index_.size() >= sizeof name) return reply(resp, 404);
  size_t name_len = path.size();
  std::memcpy(name, path.data(), name_len);
  if (name_len == 0) name[name_len++] = '.';
  name[name_len] = '\0';

  Fd fd(open_beneath(root_fd_, name));
  if (fd.get() < 0) return open_failed(errno, resp);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return AXLE_ERR_IO;

  if (S_ISDIR(st.st_mode)) {
    if (!ends_with_slash(view(req.path))) return redirect_to_directory(req, resp);
    if (index_.empty()) return reply(resp, 404);  // no listings
    // The index is opened from the root, not from the directory, so a
    // symlinked index that stays inside the root still works.
    name_len = path.size();
    if (name_len > 0 && name[name_len - 1] != '/') name[name_len++] = '/';
    std::memcpy(name + name_len, index_.data(), index_.size());
    name_len += index_.size();
    name[name_len] = '\0';
    fd.reset(open_beneath(root_fd_, name));
    if (fd.get() < 0) return open_failed(errno, resp);
    if (::fstat(fd.get(), &st) != 0) return AXLE_ERR_IO;
  }
  if (!S_ISREG(st.st_mode)) return reply(resp, 404);

  // Back to blocking mode: some sendfile/io_uring paths treat O_NONBLOCK on a
  // regular file as "fail with EAGAIN instead of reading from disk". Of the
  // flags F_SETFL can change, O_NONBLOCK is the only one set, so 0 clears it.
  if (::fcntl(fd.get(), F_SETFL, 0) != 0) return AXLE_ERR_IO;
  return serve_file(req, resp, fd, st, std::string_view(name, name_len));
}

axle_status_t Route::serve_file(const axle_request_t &req, axle_response_t *resp, Fd &fd, const struct stat &st,
                                std::string_view file_name) const {
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  const int64_t mtime_sec = st.st_mtim.tv_sec;
  const uint64_t mtime_ns = static_cast<uint64_t>(st.st_mtim.tv_sec) * 1'000'000'000u +
                            static_cast<uint64_t>(st.st_mtim.tv_nsec);
  // Strong validator: size and nanosecond mtime change with any write that
  // could change the bytes.
  char etag_buf[48];
  const int etag_len = std::snprintf(etag_buf, sizeof etag_buf, "\"%" PRIx64 "-%" PRIx64 "\"", size, mtime_ns);
  const std::string_view etag(etag_buf, static_cast<size_t>(etag_len));
  char last_modified_buf[kHttpDateLen];
  const bool has_last_modified = format_http_date(mtime_sec, last_modified_buf);
  const std::string_view last_modified(last_modified_buf, has_last_modified ? kHttpDateLen : 0);

  auto header = [&req](std::string_view name) -> const axle_header_t * {
    return axle_request_find_header(&req, name.data(), name.size());
  };
  int64_t date;
  // Preconditions in the order of RFC 9110 section 13.2.2.
  if (const axle_header_t *h = header("if-match")) {
    if (!etag_list_matches(view(h->value), etag, false)) return reply(resp, 412);
  } else if (const axle_header_t *h = header("if-unmodified-since")) {
    if (parse_http_date(view(h->value), date) && mtime_sec > date) return reply(resp, 412);
  }
  bool not_modified = false;
  if (const axle_header_t *h = header("if-none-match"))
    not_modified = etag_list_matches(view(h->value), etag, true);
  else if (const axle_header_t *h = header("if-modified-since"))
    not_modified = parse_http_date(view(h->value), date) && mtime_sec <= date;
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
    if (range_header && (!if_range || if_range_matches(view(if_range->value), etag, mtime_sec)))
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
  add("Content-Type", content_type_for(file_name));
  add("ETag", etag);
  add("Last-Modified", last_modified);
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
  // HEAD hands the file over too: the host takes its length for
  // Content-Length and sends no body.
  return host_->response_body_file(resp, fd.release(), offset, length);
}

// ---- ABI entry points: no exception crosses them ----

template <size_t N>
void set_error(const axle_host_api_t *host, axle_error_t *err, const char (&msg)[N]) {
  host->error_set(err, msg, N - 1);
}

axle_status_t create(const axle_host_api_t *host, const axle_config_t *cfg, void **instance_out, axle_error_t *err) {
  auto *inst = new (std::nothrow) Instance{host, cfg};
  if (!inst) {
    set_error(host, err, "static: out of memory");
    return AXLE_ERR_NOMEM;
  }
  *instance_out = inst;
  return AXLE_OK;
}

void destroy(void *instance) { delete static_cast<Instance *>(instance); }

axle_status_t route_init(void *instance, const axle_config_t *route_cfg, axle_str_t, void **route_state_out,
                         axle_error_t *err) {
  const auto *inst = static_cast<Instance *>(instance);
  try {
    auto route = std::make_unique<Route>(inst->host, inst->config);
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

axle_status_t handle(void *route_state, void *, const axle_request_t *req, axle_response_t *resp) {
  try {
    return static_cast<const Route *>(route_state)->serve(*req, resp);
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
      .version = "1.0.0",
      .description = "Serves files below a root directory (ETag/Last-Modified, ranges, index files)",
      .config_keys = sh::kConfigKeys,
      .config_key_count = std::size(sh::kConfigKeys),
      .create = sh::create,
      .destroy = sh::destroy,
      .thread_init = nullptr,
      .thread_fini = nullptr,
      .vtable = &sh::kVtable,
  };
  return &d;
}
