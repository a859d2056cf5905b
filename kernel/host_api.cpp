#include "host_api.h"

#include "exchange.h"

#include "http/char_class.h"
#include "http/tokens.h"
#include "module_config.h"
#include "http/response.h"
#include "worker.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstring>
#include <ctime>

namespace axle {
namespace {

const Worker &as_worker(const axle_worker_t *w) { return *static_cast<const Worker *>(w); }

void host_log(const axle_config_t *cfg, axle_log_level_t level, const char *msg, size_t len) {
  std::string_view text(msg, len);
  const std::string &who = cfg ? cfg->owner : std::string();
  switch (level) {
    case AXLE_LOG_DEBUG: spdlog::debug("[{}] {}", who, text); break;
    case AXLE_LOG_INFO: spdlog::info("[{}] {}", who, text); break;
    case AXLE_LOG_WARN: spdlog::warn("[{}] {}", who, text); break;
    default: spdlog::error("[{}] {}", who, text); break;
  }
}

void host_error_set(axle_error_t *err, const char *msg, size_t len) {
  if (err) err->message.assign(msg, len);
}

const OptionValue *find_value(const axle_config_t *cfg, const char *key) {
  if (!cfg || !key) return nullptr;
  auto it = cfg->values.find(key);
  return it == cfg->values.end() ? nullptr : &it->second;
}

axle_status_t config_get_string(const axle_config_t *cfg, const char *key, axle_str_t *out) {
  const auto *v = find_value(cfg, key);
  if (!v) return AXLE_ERR_NOT_FOUND;
  const auto *s = std::get_if<std::string>(v);
  if (!s) return AXLE_ERR_INVALID;
  *out = {s->data(), s->size()};
  return AXLE_OK;
}

axle_status_t config_get_int(const axle_config_t *cfg, const char *key, int64_t *out) {
  const auto *v = find_value(cfg, key);
  if (!v) return AXLE_ERR_NOT_FOUND;
  const auto *i = std::get_if<int64_t>(v);
  if (!i) return AXLE_ERR_INVALID;
  *out = *i;
  return AXLE_OK;
}

axle_status_t config_get_bool(const axle_config_t *cfg, const char *key, int *out) {
  const auto *v = find_value(cfg, key);
  if (!v) return AXLE_ERR_NOT_FOUND;
  const auto *b = std::get_if<bool>(v);
  if (!b) return AXLE_ERR_INVALID;
  *out = *b ? 1 : 0;
  return AXLE_OK;
}

const char *config_base_dir(const axle_config_t *cfg) { return cfg ? cfg->base_dir.c_str() : "."; }

uint64_t now_ns() {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000u + uint64_t(ts.tv_nsec);
}

axle_str_t http_date(const axle_worker_t *w) {
  std::string_view d = as_worker(w).date.view();
  return {d.data(), d.size()};
}

uint32_t worker_index(const axle_worker_t *w) { return as_worker(w).index; }

void response_set_status(axle_response_t *r, uint16_t status) {
  http::Response *resp = exchange_api::resolve(r, "response_set_status");
  if (resp && status >= 100 && status <= 999) resp->status = status;
}

// Header names the kernel writes itself; a handler may not set them.
bool reserved_header(axle_str_t name) {
  switch (name.len) {
    case 4: return http::iequals(name, "date");
    case 6: return http::iequals(name, "server");
    case 10: return http::iequals(name, "connection");
    case 14: return http::iequals(name, "content-length");
    case 17: return http::iequals(name, "transfer-encoding");
    default: return false;
  }
}

axle_status_t response_add_header(axle_response_t *r, axle_str_t name, axle_str_t value) {
  if (name.len == 0 || !name.ptr) return AXLE_ERR_INVALID;
  for (size_t i = 0; i < name.len; ++i)
    if (!http::kTokenChar[static_cast<unsigned char>(name.ptr[i])]) return AXLE_ERR_INVALID;
  // No CR, LF or NUL: a handler must not be able to inject header lines.
  for (size_t i = 0; i < value.len; ++i) {
    unsigned char c = static_cast<unsigned char>(value.ptr[i]);
    if (c == '\r' || c == '\n' || c == '\0') return AXLE_ERR_INVALID;
  }
  if (reserved_header(name)) return AXLE_ERR_INVALID;  // the kernel owns framing and these
  http::Response *resp = exchange_api::resolve(r, "response_add_header");
  if (!resp) return AXLE_ERR_INVALID;
  std::string &lines = resp->header_lines;
  lines.append(name.ptr, name.len);
  lines += ": ";
  lines.append(value.ptr, value.len);
  lines += "\r\n";
  return AXLE_OK;
}

axle_status_t response_body_copy(axle_response_t *r, const void *data, size_t len) {
  http::Response *kept = exchange_api::resolve(r, "response_body_copy");
  if (!kept) return AXLE_ERR_INVALID;
  http::Response &resp = *kept;
  resp.drop_body();  // a body set earlier
  if (len == 0) return AXLE_OK;
  if (!data) return AXLE_ERR_INVALID;
  void *block = resp.memory.alloc(len);
  if (!block) return AXLE_ERR_NOMEM;
  std::memcpy(block, data, len);
  resp.body = http::Response::Body::Owned;
  resp.owned_block = block;
  resp.owned_size = len;
  resp.data = static_cast<const char *>(block);
  resp.len = len;
  return AXLE_OK;
}

axle_status_t response_body_lend(axle_response_t *r, const void *data, size_t len, axle_release_fn release,
                                 void *arg) {
  http::Response *kept = exchange_api::resolve(r, "response_body_lend");
  if (!kept) {
    if (release) release(arg);
    return AXLE_ERR_INVALID;
  }
  http::Response &resp = *kept;
  resp.drop_body();  // a body set earlier
  if (!data && len) {
    if (release) release(arg);
    return AXLE_ERR_INVALID;
  }
  resp.body = http::Response::Body::Lent;
  resp.data = static_cast<const char *>(data);
  resp.len = len;
  resp.release = release;
  resp.release_arg = arg;
  return AXLE_OK;
}

axle_status_t response_body_file(axle_response_t *r, int fd, uint64_t offset, uint64_t length) {
  http::Response *kept = exchange_api::resolve(r, "response_body_file");
  if (!kept) {
    if (fd >= 0) ::close(fd);
    return AXLE_ERR_INVALID;
  }
  http::Response &resp = *kept;
  resp.drop_body();  // a body set earlier
  if (fd < 0) return AXLE_ERR_INVALID;
  resp.body = http::Response::Body::File;
  resp.file_fd = fd;
  resp.file_offset = offset;
  resp.file_length = length;
  return AXLE_OK;
}

axle_status_t response_prebuilt(axle_response_t *r, const void *wire, size_t len, size_t head_len, uint16_t status,
                                axle_release_fn release, void *arg) {
  http::Response *kept = exchange_api::resolve(r, "response_prebuilt");
  if (!kept) {
    if (release) release(arg);
    return AXLE_ERR_INVALID;
  }
  http::Response &resp = *kept;
  resp.drop_body();  // a body set earlier
  const char *bytes = static_cast<const char *>(wire);
  // The image must end its head with CRLF CRLF exactly at head_len.
  if (!bytes || head_len < 4 || head_len > len || std::memcmp(bytes + head_len - 4, "\r\n\r\n", 4) != 0) {
    if (release) release(arg);
    return AXLE_ERR_INVALID;
  }
  resp.body = http::Response::Body::Prebuilt;
  resp.data = bytes;
  resp.len = len;
  resp.prebuilt_head_len = head_len;
  resp.status = status;
  resp.release = release;
  resp.release_arg = arg;
  return AXLE_OK;
}

const axle_host_api_t kHostApi = {
    .struct_size = sizeof(axle_host_api_t),
    .abi_major = AXLE_ABI_MAJOR,
    .abi_minor = AXLE_ABI_MINOR,
    .log = host_log,
    .error_set = host_error_set,
    .config_get_string = config_get_string,
    .config_get_int = config_get_int,
    .config_get_bool = config_get_bool,
    .config_base_dir = config_base_dir,
    .now_ns = now_ns,
    .http_date = http_date,
    .worker_index = worker_index,
    .response_set_status = response_set_status,
    .response_add_header = response_add_header,
    .response_body_copy = response_body_copy,
    .response_body_lend = response_body_lend,
    .response_body_file = response_body_file,
    .response_prebuilt = response_prebuilt,
    .response_keep = exchange_api::keep,
    .response_begin = exchange_api::begin,
    .response_write = exchange_api::write,
    .response_finish = exchange_api::finish,
    .response_close_connection = exchange_api::close_connection,
    .response_early_hints = exchange_api::early_hints,
    .request_body_pause = exchange_api::body_pause,
    .request_address = exchange_api::address,
};

}  // namespace

const axle_host_api_t *host_api() { return &kHostApi; }

uint64_t coarse_now_ms() {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return uint64_t(ts.tv_sec) * 1000u + uint64_t(ts.tv_nsec) / 1'000'000u;
}

}  // namespace axle
