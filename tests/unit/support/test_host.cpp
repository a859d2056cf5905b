#include "test_host.h"

#include <dlfcn.h>
#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstddef>
#include <cstring>

axle_response_t::~axle_response_t() {
  for (auto &[fn, arg] : releases)
    if (fn) fn(arg);
  if (file_fd >= 0) ::close(file_fd);
}

std::string axle_response_t::header(const std::string &name) const {
  for (const auto &[k, v] : headers)
    if (strcasecmp(k.c_str(), name.c_str()) == 0) return v;
  return "";
}

std::string axle_response_t::file_contents() const {
  std::string out(file_length, '\0');
  ssize_t n = ::pread(file_fd, out.data(), out.size(), static_cast<off_t>(file_offset));
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

namespace {

void host_log(const axle_config_t *, axle_log_level_t level, const char *msg, size_t len) {
  std::fprintf(stderr, "[module log %d] %.*s\n", static_cast<int>(level), static_cast<int>(len), msg);
}
void host_error_set(axle_error_t *err, const char *msg, size_t len) { err->message.assign(msg, len); }

axle_status_t get_string(const axle_config_t *cfg, const char *key, axle_str_t *out) {
  auto it = cfg->strings.find(key);
  if (it == cfg->strings.end()) return AXLE_ERR_NOT_FOUND;
  *out = {it->second.data(), it->second.size()};
  return AXLE_OK;
}
axle_status_t get_int(const axle_config_t *cfg, const char *key, int64_t *out) {
  auto it = cfg->ints.find(key);
  if (it == cfg->ints.end()) return AXLE_ERR_NOT_FOUND;
  *out = it->second;
  return AXLE_OK;
}
axle_status_t get_bool(const axle_config_t *cfg, const char *key, int *out) {
  auto it = cfg->bools.find(key);
  if (it == cfg->bools.end()) return AXLE_ERR_NOT_FOUND;
  *out = it->second ? 1 : 0;
  return AXLE_OK;
}
const char *base_dir(const axle_config_t *cfg) { return cfg->base_dir.c_str(); }
uint64_t now_ns() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}
axle_str_t http_date(const axle_worker_t *w) { return {w->date.data(), w->date.size()}; }
uint32_t worker_index(const axle_worker_t *w) { return w->index; }

void set_status(axle_response_t *r, uint16_t s) { r->status = s; }
axle_status_t add_header(axle_response_t *r, axle_str_t n, axle_str_t v) {
  r->headers.emplace_back(std::string(n.ptr, n.len), std::string(v.ptr, v.len));
  return AXLE_OK;
}
axle_status_t body_copy(axle_response_t *r, const void *d, size_t n) {
  r->body.assign(static_cast<const char *>(d), n);
  return AXLE_OK;
}
axle_status_t body_lend(axle_response_t *r, const void *d, size_t n, axle_release_fn fn, void *arg) {
  r->body.assign(static_cast<const char *>(d), n);
  r->releases.emplace_back(fn, arg);
  return AXLE_OK;
}
axle_status_t body_file(axle_response_t *r, int fd, uint64_t off, uint64_t len) {
  if (r->file_fd >= 0) ::close(r->file_fd);
  r->file_fd = fd;
  r->file_offset = off;
  r->file_length = len;
  return AXLE_OK;
}
std::function<void(const void *, size_t)> &prebuilt_observer() {
  static std::function<void(const void *, size_t)> observer;
  return observer;
}

axle_status_t prebuilt(axle_response_t *r, const void *wire, size_t len, size_t head_len, uint16_t status,
                       axle_release_fn fn, void *arg) {
  if (prebuilt_observer()) prebuilt_observer()(wire, len);
  r->prebuilt.assign(static_cast<const char *>(wire), len);
  r->prebuilt_head_len = head_len;
  r->status = status;
  r->releases.emplace_back(fn, arg);
  return AXLE_OK;
}

// A 1.1 host: it says so (size and minor), so a module that checks
// AXLE_STRUCT_HAS before a 1.2 or 1.3 slot sees it absent, as on a real 1.1
// host, rather than calling a NULL slot. The slots past the size stay zero.
axle_host_api_t make_host() {
  axle_host_api_t host{};
  host.struct_size = offsetof(axle_host_api_t, response_keep);
  host.abi_major = AXLE_ABI_MAJOR;
  host.abi_minor = 1;
  host.log = host_log;
  host.error_set = host_error_set;
  host.config_get_string = get_string;
  host.config_get_int = get_int;
  host.config_get_bool = get_bool;
  host.config_base_dir = base_dir;
  host.now_ns = now_ns;
  host.http_date = http_date;
  host.worker_index = worker_index;
  host.response_set_status = set_status;
  host.response_add_header = add_header;
  host.response_body_copy = body_copy;
  host.response_body_lend = body_lend;
  host.response_body_file = body_file;
  host.response_prebuilt = prebuilt;
  return host;
}

const axle_host_api_t kHost = make_host();

}  // namespace

namespace axle::test {

const axle_host_api_t *host_api() { return &kHost; }

LoadedModule::LoadedModule(const std::string &path) {
  handle_ = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  REQUIRE_MESSAGE(handle_ != nullptr, "dlopen " << path << ": " << ::dlerror());
  auto entry = reinterpret_cast<axle_module_entry_fn>(::dlsym(handle_, AXLE_ENTRY_SYMBOL));
  REQUIRE_MESSAGE(reinterpret_cast<void *>(entry) != nullptr, "no entry symbol in " << path);
  desc_ = entry();
  REQUIRE(desc_ != nullptr);
  REQUIRE(desc_->abi_major == AXLE_ABI_MAJOR);
}

LoadedModule::~LoadedModule() {
  if (handle_) ::dlclose(handle_);
}

Instance::Instance(const LoadedModule &module, const axle_config_t &cfg) : module_(module), cfg_(cfg) {
  axle_error_t err;
  REQUIRE_MESSAGE(module.desc().create(host_api(), &cfg_, &instance_, &err) == AXLE_OK, err.message);
  if (module.desc().thread_init)
    REQUIRE_MESSAGE(module.desc().thread_init(instance_, &worker_, &thread_ctx_, &err) == AXLE_OK, err.message);
}

Instance::~Instance() {
  if (module_.desc().thread_fini) module_.desc().thread_fini(instance_, thread_ctx_);
  module_.desc().destroy(instance_);
}

void set_prebuilt_observer(std::function<void(const void *wire, size_t len)> observer) {
  prebuilt_observer() = std::move(observer);
}

std::string module_path(const std::string &kind, const std::string &name) {
  return std::string(AXLE_TEST_MODULE_DIR) + "/axle-" + kind + "-" + name + ".so";
}

}  // namespace axle::test
