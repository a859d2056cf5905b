// handler "precompiled": a fixed response compiled once, at route_init, into
// a complete wire image (status line, headers, body). handle() does one
// vector lookup and lends the image to the host: no formatting, no copy.
//
// The only part that changes is the Date header. Each worker keeps its own
// copy of each route's image and refreshes the 29 date bytes when the
// worker's cached date moves on (once per second). Bytes lent to the host
// must not change until it releases them, so an image with lends
// outstanding is never patched: a fresh copy replaces it, and the old one is
// freed by its last release. Lends and releases happen on the worker's own
// thread, so the counts need no atomics.
#include <axle/handler.h>
#include <axle/module.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iterator>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <vector>

namespace axle::precompiled {
namespace {

constexpr axle_config_key_t kConfigKeys[] = {
    {"status", AXLE_CONFIG_INT, "200", "Response status (200-599, not 304; 204 must have no body)"},
    {"content_type", AXLE_CONFIG_STRING, "text/plain", "Content-Type header; \"\" = none"},
    {"body", AXLE_CONFIG_STRING, "", "Response body (exclusive with file)"},
    {"file", AXLE_CONFIG_STRING, "", "Read the body from this file at startup (exclusive with body)"},
};

constexpr size_t kDateLen = 29;  // IMF-fixdate
// Stands in until a worker's first request, and if a host ever hands out a
// date of the wrong length.
constexpr std::string_view kPlaceholderDate = "Thu, 01 Jan 1970 00:00:00 GMT";
// Every worker holds its own copy of the image, so bodies are kept modest.
constexpr uint64_t kMaxFileBytes = 64u << 20;

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 410: return "Gone";
    case 418: return "I'm a teapot";
    case 429: return "Too Many Requests";
    case 451: return "Unavailable For Legal Reasons";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";  // the reason phrase may be empty (RFC 9112 section 4)
  }
}

// The compiled response of one route, shared read-only by every worker.
struct Route {
  const axle_host_api_t *host;
  uint32_t number;  // index into each worker's image table
  uint16_t status;
  std::string wire;  // with kPlaceholderDate
  size_t head_len;
  size_t date_offset;
};

// One worker's lendable copy of a route's wire image. The bytes follow the
// struct in the same allocation.
struct Image {
  uint32_t lends = 0;    // handed to the host and not yet released
  bool current = true;   // still the worker's image for its route
  uint16_t status;
  size_t len;
  size_t head_len;
  size_t date_offset;

  char *bytes() { return reinterpret_cast<char *>(this + 1); }
  char *date() { return bytes() + date_offset; }

  static Image *make(uint16_t status, const char *wire, size_t len, size_t head_len, size_t date_offset) {
    void *mem = ::operator new(sizeof(Image) + len, std::nothrow);
    if (!mem) return nullptr;
    auto *img = new (mem) Image{};
    img->status = status;
    img->len = len;
    img->head_len = head_len;
    img->date_offset = date_offset;
    std::memcpy(img->bytes(), wire, len);
    return img;
  }
  static void destroy(Image *img) {
    img->~Image();
    ::operator delete(img);
  }
};

// A worker's images, indexed by Route::number; created on first use.
struct WorkerImages {
  std::vector<Image *> by_route;
};

void release_image(void *arg) {
  auto *img = static_cast<Image *>(arg);
  if (--img->lends == 0 && !img->current) Image::destroy(img);
}

struct Instance {
  const axle_host_api_t *host;
  const axle_config_t *config;
  uint32_t next_route_number = 0;  // route_init runs on the control thread only
};

// The image the worker should lend now, its Date equal to `date`.
// nullptr when out of memory.
Image *current_image(const Route &route, WorkerImages &worker, axle_str_t date) {
  if (route.number >= worker.by_route.size()) worker.by_route.resize(route.number + 1, nullptr);
  Image *&slot = worker.by_route[route.number];
  const bool date_valid = date.len == kDateLen;
  if (!slot) {
    slot = Image::make(route.status, route.wire.data(), route.wire.size(), route.head_len, route.date_offset);
    if (slot && date_valid) std::memcpy(slot->date(), date.ptr, kDateLen);
    return slot;
  }
  if (!date_valid || std::memcmp(slot->date(), date.ptr, kDateLen) == 0) return slot;
  if (slot->lends == 0) {
    std::memcpy(slot->date(), date.ptr, kDateLen);
    return slot;
  }
  Image *fresh = Image::make(slot->status, slot->bytes(), slot->len, slot->head_len, slot->date_offset);
  if (!fresh) return nullptr;
  std::memcpy(fresh->date(), date.ptr, kDateLen);
  slot->current = false;  // its last release frees it
  slot = fresh;
  return slot;
}

bool has_control_chars(std::string_view s) {
  for (unsigned char c : s)
    if ((c < 0x20 && c != '\t') || c == 0x7f) return true;
  return false;
}

bool read_whole_file(const std::string &path, std::string &out, std::string &error) {
  // O_NONBLOCK: a FIFO named by mistake must fail the check below, not hang startup.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    error = "precompiled: cannot open file \"" + path + "\": " + std::strerror(errno);
    return false;
  }
  struct stat st;
  bool ok = ::fstat(fd, &st) == 0;
  if (!ok) {
    error = "precompiled: cannot stat file \"" + path + "\": " + std::strerror(errno);
  } else if (!S_ISREG(st.st_mode)) {
    error = "precompiled: file \"" + path + "\" is not a regular file";
    ok = false;
  } else if (static_cast<uint64_t>(st.st_size) > kMaxFileBytes) {
    error = "precompiled: file \"" + path + "\" is larger than 64 MiB (each worker keeps a copy)";
    ok = false;
  }
  if (ok) {
    out.resize(static_cast<size_t>(st.st_size));
    size_t done = 0;
    while (done < out.size()) {
      const ssize_t n = ::read(fd, out.data() + done, out.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        error = "precompiled: cannot read file \"" + path + "\": " + std::strerror(errno);
        ok = false;
        break;
      }
      if (n == 0) break;  // the file shrank while being read: serve what is there
      done += static_cast<size_t>(n);
    }
    out.resize(done);
  }
  ::close(fd);
  return ok;
}

bool build_route(const Instance &inst, const axle_config_t *cfg, Route &route, std::string &error) {
  const axle_host_api_t *host = inst.host;
  int64_t status = 0;
  axle_str_t content_type{}, body_value{}, file_value{};
  if (host->config_get_int(cfg, "status", &status) != AXLE_OK ||
      host->config_get_string(cfg, "content_type", &content_type) != AXLE_OK ||
      host->config_get_string(cfg, "body", &body_value) != AXLE_OK ||
      host->config_get_string(cfg, "file", &file_value) != AXLE_OK) {
    error = "precompiled: the host did not supply every declared key (status, content_type, body, file)";
    return false;
  }
  if (status < 200 || status > 599 || status == 304) {
    error = "precompiled: status must be 200-599 and not 304, got " + std::to_string(status);
    return false;
  }
  const std::string_view type(content_type.ptr, content_type.len);
  if (has_control_chars(type)) {
    error = "precompiled: content_type contains control characters";
    return false;
  }
  if (body_value.len > 0 && file_value.len > 0) {
    error = "precompiled: body and file are exclusive; set only one";
    return false;
  }
  std::string body(body_value.ptr, body_value.len);
  if (file_value.len > 0) {
    std::string path(file_value.ptr, file_value.len);
    if (path.front() != '/') path = std::string(host->config_base_dir(cfg)) + "/" + path;
    if (!read_whole_file(path, body, error)) return false;
  }
  // 204 carries neither content nor Content-Length (RFC 9110 section 8.6).
  const bool no_content = status == 204;
  if (no_content && !body.empty()) {
    error = "precompiled: status 204 cannot have a body";
    return false;
  }

  std::string &w = route.wire;
  w.reserve(128 + type.size() + body.size());
  w += "HTTP/1.1 " + std::to_string(status) + " ";
  w += reason_phrase(static_cast<int>(status));
  w += "\r\nServer: axle\r\n";
  if (!type.empty()) {
    w += "Content-Type: ";
    w += type;
    w += "\r\n";
  }
  if (!no_content) w += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  w += "Date: ";
  route.date_offset = w.size();
  w += kPlaceholderDate;
  w += "\r\n\r\n";
  route.head_len = w.size();
  w += body;
  route.status = static_cast<uint16_t>(status);
  return true;
}

// ---- ABI entry points: no exception crosses them ----

template <size_t N>
void set_error(const axle_host_api_t *host, axle_error_t *err, const char (&msg)[N]) {
  host->error_set(err, msg, N - 1);
}

axle_status_t create(const axle_host_api_t *host, const axle_config_t *cfg, void **instance_out, axle_error_t *err) {
  auto *inst = new (std::nothrow) Instance{host, cfg};
  if (!inst) {
    set_error(host, err, "precompiled: out of memory");
    return AXLE_ERR_NOMEM;
  }
  *instance_out = inst;
  return AXLE_OK;
}

void destroy(void *instance) { delete static_cast<Instance *>(instance); }

axle_status_t thread_init(void *instance, axle_worker_t *, void **thread_ctx_out, axle_error_t *err) {
  auto *worker = new (std::nothrow) WorkerImages;
  if (!worker) {
    set_error(static_cast<Instance *>(instance)->host, err, "precompiled: out of memory");
    return AXLE_ERR_NOMEM;
  }
  *thread_ctx_out = worker;
  return AXLE_OK;
}

// The host must have released every lend by now (it sends nothing after
// thread_fini). Should one still be out, that image is left to its release
// instead of being freed under the host.
void thread_fini(void *, void *thread_ctx) {
  auto *worker = static_cast<WorkerImages *>(thread_ctx);
  if (!worker) return;
  for (Image *img : worker->by_route) {
    if (!img) continue;
    if (img->lends == 0)
      Image::destroy(img);
    else
      img->current = false;
  }
  delete worker;
}

axle_status_t route_init(void *instance, const axle_config_t *route_cfg, axle_str_t, void **route_state_out,
                         axle_error_t *err) {
  auto *inst = static_cast<Instance *>(instance);
  try {
    auto route = std::make_unique<Route>();
    std::string error;
    if (!build_route(*inst, route_cfg, *route, error)) {
      inst->host->error_set(err, error.data(), error.size());
      return AXLE_ERR_INVALID;
    }
    route->host = inst->host;
    route->number = inst->next_route_number++;
    *route_state_out = route.release();
    return AXLE_OK;
  } catch (const std::bad_alloc &) {
    set_error(inst->host, err, "precompiled: out of memory");
    return AXLE_ERR_NOMEM;
  } catch (...) {
    set_error(inst->host, err, "precompiled: unexpected exception in route_init");
    return AXLE_ERR_INTERNAL;
  }
}

// Workers' copies of this route are self-contained and die with the
// worker's context (thread_fini); only the template goes here.
void route_fini(void *, void *route_state) { delete static_cast<Route *>(route_state); }

axle_status_t handle(void *route_state, void *thread_ctx, const axle_request_t *req, axle_response_t *resp) {
  if (!thread_ctx) return AXLE_ERR_INTERNAL;  // the host skipped thread_init
  const auto &route = *static_cast<const Route *>(route_state);
  const axle_host_api_t *host = route.host;
  try {
    Image *img = current_image(route, *static_cast<WorkerImages *>(thread_ctx), host->http_date(req->worker));
    if (!img) return AXLE_ERR_NOMEM;
    ++img->lends;
    // Even when it fails, the host releases the lend (as the kernel does);
    // module.h does not say so, but a host that did not would only keep this
    // image from being patched in place and leak it, never free it twice.
    return host->response_prebuilt(resp, img->bytes(), img->len, img->head_len, img->status, release_image, img);
  } catch (...) {  // only the image table's growth can throw (bad_alloc)
    return AXLE_ERR_NOMEM;
  }
}

const axle_handler_vtable_t kVtable = {
    .struct_size = sizeof(axle_handler_vtable_t),
    .route_init = route_init,
    .route_fini = route_fini,
    .handle = handle,
};

}  // namespace
}  // namespace axle::precompiled

AXLE_MODULE_ENTRY {
  namespace pc = axle::precompiled;
  static const axle_module_descriptor_t d = {
      .struct_size = sizeof(axle_module_descriptor_t),
      .abi_major = AXLE_ABI_MAJOR,
      .abi_minor = AXLE_ABI_MINOR,
      .kind = AXLE_KIND_HANDLER,
      .flags = 0,
      .name = "precompiled",
      .version = "1.0.0",
      .description = "A fixed response compiled at startup into one wire image (Date refreshed per second)",
      .config_keys = pc::kConfigKeys,
      .config_key_count = std::size(pc::kConfigKeys),
      .create = pc::create,
      .destroy = pc::destroy,
      .thread_init = pc::thread_init,
      .thread_fini = pc::thread_fini,
      .vtable = &pc::kVtable,
      .config_sections = nullptr,
      .config_section_count = 0,
  };
  return &d;
}
