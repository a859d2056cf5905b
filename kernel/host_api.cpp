#include "host_api.h"

#include "exchange.h"

#include "http/module_fields.h"
#include "module_config.h"
#include "module_metrics.h"
#include "outgoing.h"
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

// ---- configuration since 1.3: lists, sections, positions (module_config.h) ----

axle_status_t config_get_string_list(const axle_config_t *cfg, const char *key, const axle_str_t **items,
                                     size_t *count) {
  const auto *v = find_value(cfg, key);
  if (!v) return AXLE_ERR_NOT_FOUND;
  if (!std::holds_alternative<std::vector<std::string>>(*v) || !items || !count) return AXLE_ERR_INVALID;
  const std::vector<axle_str_t> &views = cfg->list_views.at(key);
  *items = views.data();
  *count = views.size();
  return AXLE_OK;
}

const std::vector<ConfigSectionTable> *find_section(const axle_config_t *cfg, const char *section) {
  if (!cfg || !section) return nullptr;
  auto it = cfg->sections.find(section);
  return it == cfg->sections.end() ? nullptr : &it->second;
}

size_t config_section_count(const axle_config_t *cfg, const char *section) {
  const auto *tables = find_section(cfg, section);
  return tables ? tables->size() : 0;
}

axle_status_t config_section_at(const axle_config_t *cfg, const char *section, size_t index, axle_str_t *name,
                                const axle_config_t **table) {
  const auto *tables = find_section(cfg, section);
  if (!tables || index >= tables->size()) return AXLE_ERR_NOT_FOUND;
  const ConfigSectionTable &entry = (*tables)[index];
  if (name) *name = {entry.name.data(), entry.name.size()};
  if (table) *table = entry.config.get();
  return AXLE_OK;
}

const char *config_position(const axle_config_t *cfg, const char *key) {
  if (!cfg) return "";
  if (key) {
    auto it = cfg->positions.find(key);
    if (it != cfg->positions.end()) return it->second.c_str();
  }
  return cfg->table_position.c_str();  // the table itself, or a key not written (a default)
}

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

axle_status_t response_add_header(axle_response_t *r, axle_str_t name, axle_str_t value) {
  if (!http::valid_module_field(name, value)) return AXLE_ERR_INVALID;
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

// ---- module metrics (module_metrics.h) ----

axle_metric_t *metric_register(const axle_config_t *cfg, axle_metric_kind_t kind, const char *name, const char *help,
                               const uint64_t *bounds, uint32_t bucket_count, axle_error_t *err) {
  // A route's config is owned by "<handler> <path>": the module is the first word.
  std::string_view module = cfg ? std::string_view(cfg->owner) : std::string_view();
  module = module.substr(0, module.find(' '));
  std::string error;
  axle_metric_t *m = metrics::register_metric(module, kind, name ? name : "", help ? help : "", bounds, bucket_count,
                                              error);
  if (!m && err) err->message = std::move(error);
  return m;
}

// ---- loop services (1.2): timers, posted tasks, outgoing connections ----

Worker *as_worker_mut(axle_worker_t *w) { return static_cast<Worker *>(w); }

axle_timer_t *timer_start(axle_worker_t *w, uint64_t delay_ms, uint64_t repeat_ms, axle_task_fn fn, void *arg) {
  if (!w) return nullptr;
  return as_worker_mut(w)->loop_services.timer_start(delay_ms, repeat_ms, fn, arg);
}

// The handle names no worker: the calling thread's services own it.
void timer_stop(axle_timer_t *timer) {
  if (!timer) return;
  LoopServices *services = LoopServices::current();
  if (!services) {
    spdlog::error("timer_stop called outside a worker thread: ignored");
    return;
  }
  services->timer_stop(timer);
}

axle_status_t worker_post(axle_worker_t *w, axle_task_fn fn, void *arg) {
  if (!w) return AXLE_ERR_INVALID;
  return as_worker_mut(w)->loop_services.post(fn, arg);
}

// Outgoing calls are refused off the connection's worker thread, never run.
bool on_worker_thread(const Worker &w, const char *call) {
  if (w.loop_services.on_thread()) return true;
  spdlog::error("{} on worker {} called from another thread: refused", call, w.index);
  return false;
}

axle_outgoing_t *outgoing_connect(axle_worker_t *w, const axle_address_t *to, const axle_outgoing_events_t *events,
                                  void *arg, axle_error_t *err) {
  std::string error = "outgoing_connect: no worker";
  Outgoing *o = nullptr;
  if (!w) {
  } else if (!on_worker_thread(*as_worker_mut(w), "outgoing_connect")) {
    error = "outgoing_connect: called from a thread other than the worker's";
  } else {
    o = Outgoing::open(*as_worker_mut(w), to, events, arg, error);
  }
  if (!o && err) err->message = error;
  else if (!o) spdlog::warn("{}", error);
  return o;
}

axle_status_t outgoing_send(axle_outgoing_t *conn, const void *data, size_t len) {
  auto *o = static_cast<Outgoing *>(conn);
  if (!o || !on_worker_thread(o->worker(), "outgoing_send")) return AXLE_ERR_INVALID;
  return o->send(data, len);
}

void outgoing_pause(axle_outgoing_t *conn, int paused) {
  auto *o = static_cast<Outgoing *>(conn);
  if (o && on_worker_thread(o->worker(), "outgoing_pause")) o->pause(paused != 0);
}

axle_status_t outgoing_shutdown_write(axle_outgoing_t *conn) {
  auto *o = static_cast<Outgoing *>(conn);
  if (!o || !on_worker_thread(o->worker(), "outgoing_shutdown_write")) return AXLE_ERR_INVALID;
  return o->shutdown_write();
}

void outgoing_close(axle_outgoing_t *conn) {
  auto *o = static_cast<Outgoing *>(conn);
  if (o && on_worker_thread(o->worker(), "outgoing_close")) o->close_by_module();
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
    .timer_start = timer_start,
    .timer_stop = timer_stop,
    .worker_post = worker_post,
    .outgoing_connect = outgoing_connect,
    .outgoing_send = outgoing_send,
    .outgoing_pause = outgoing_pause,
    .outgoing_shutdown_write = outgoing_shutdown_write,
    .outgoing_close = outgoing_close,
    .metric_register = metric_register,
    .metric_add = metrics::add,
    .metric_set = metrics::set,
    .metric_observe = metrics::observe,
    .metrics_collect = metrics::collect,
    .response_cancel = exchange_api::cancel,
    .config_get_string_list = config_get_string_list,
    .config_section_count = config_section_count,
    .config_section_at = config_section_at,
    .config_position = config_position,
    .response_switch_protocols = exchange_api::switch_protocols,
};

}  // namespace

const axle_host_api_t *host_api() { return &kHostApi; }

uint64_t coarse_now_ms() {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return uint64_t(ts.tv_sec) * 1000u + uint64_t(ts.tv_nsec) / 1'000'000u;
}

}  // namespace axle
