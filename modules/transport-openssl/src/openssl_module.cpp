// transport "openssl": the descriptor and the C entry points, each a thin
// call into Instance, Worker or Connection. No C++ exception crosses the ABI.
#include <axle/transport.h>

#include <new>
#include <string>

#include "connection.h"
#include "instance.h"
#include "settings.h"
#include "worker.h"

namespace {

using axle::tls::Connection;
using axle::tls::Instance;
using axle::tls::Worker;

void set_error(const axle_host_api_t *host, axle_error_t *err, const std::string &msg) {
  if (host && host->error_set && err) host->error_set(err, msg.data(), msg.size());
}

axle_status_t create(const axle_host_api_t *host, const axle_config_t *cfg, void **instance_out,
                     axle_error_t *err) try {
  std::string error;
  std::unique_ptr<Instance> instance = axle::tls::make_instance(host, cfg, &error);
  if (!instance) {
    set_error(host, err, error);
    return AXLE_ERR_INVALID;
  }
  *instance_out = instance.release();
  return AXLE_OK;
} catch (const std::bad_alloc &) {
  set_error(host, err, "out of memory");
  return AXLE_ERR_NOMEM;
}

void destroy(void *instance) { delete static_cast<Instance *>(instance); }

axle_status_t thread_init(void *instance, axle_worker_t *worker, void **thread_ctx_out, axle_error_t *err) {
  auto *inst = static_cast<Instance *>(instance);
  auto *w = new (std::nothrow) Worker(*inst, worker);
  if (!w) {
    set_error(inst->host, err, "out of memory");
    return AXLE_ERR_NOMEM;
  }
  std::string error;
  if (!w->start(&error)) {
    delete w;
    set_error(inst->host, err, error);
    return AXLE_ERR_UNSUPPORTED;
  }
  *thread_ctx_out = w;
  return AXLE_OK;
}

void thread_fini(void *, void *thread_ctx) { delete static_cast<Worker *>(thread_ctx); }

axle_status_t conn_open(void *instance, void *thread_ctx, const axle_transport_conn_options_t *opts, void **tconn_out,
                        axle_error_t *err) {
  auto *inst = static_cast<Instance *>(instance);
  auto *w = static_cast<Worker *>(thread_ctx);
  if (!w || !opts || opts->role != AXLE_TRANSPORT_SERVER || !opts->lower || !opts->upper) {
    set_error(inst->host, err, "openssl: conn_open needs a worker context, a server role, lower and upper");
    return AXLE_ERR_INVALID;
  }
  if (!w->handshake_slot_free()) return AXLE_AGAIN;  // max_handshakes on this worker
  auto *c = new (std::nothrow) Connection(*w, *opts);
  std::string error = "out of memory";
  if (!c || !c->init(&error)) {
    delete c;
    set_error(inst->host, err, error);
    return AXLE_ERR_NOMEM;
  }
  *tconn_out = c;
  return AXLE_OK;
}

Connection *as(void *tconn) { return static_cast<Connection *>(tconn); }

void lower_data(void *tconn, const char *data, size_t len) { as(tconn)->lower_data(data, len); }
void lower_eof(void *tconn, int err) { as(tconn)->lower_eof(err); }
void lower_sent(void *tconn, int err) { as(tconn)->lower_sent(err); }
void lower_closed(void *tconn) {
  as(tconn)->lower_closed();
  delete as(tconn);
}
axle_status_t conn_info(void *tconn, axle_transport_info_t *out) { return as(tconn)->info(out); }
const char *describe(void *instance) { return static_cast<Instance *>(instance)->description.c_str(); }

// The stream side: (thread_ctx, tconn) in place of (loop, io_conn).
axle_status_t s_send(void *, void *tconn, const axle_iov_t *iov, uint32_t count) { return as(tconn)->send(iov, count); }
axle_status_t s_sendfile(void *, void *tconn, int fd, uint64_t offset, uint64_t length) {
  return as(tconn)->sendfile(fd, offset, length);
}
void s_recv_pause(void *, void *tconn) { as(tconn)->recv_pause(); }
void s_recv_resume(void *, void *tconn) { as(tconn)->recv_resume(); }
void s_close(void *, void *tconn) { as(tconn)->close(); }
axle_status_t s_shutdown_write(void *, void *tconn) { return as(tconn)->shutdown_write(); }
axle_status_t s_conn_address(void *, void *tconn, axle_conn_end_t end, axle_address_t *out) {
  return as(tconn)->conn_address(end, out);
}
axle_status_t s_conn_option(void *, void *tconn, axle_conn_option_t option, int64_t value) {
  return as(tconn)->conn_option(option, value);
}

const axle_io_vtable_t kStream = {
    .struct_size = sizeof(axle_io_vtable_t),
    .loop_create = nullptr,
    .loop_destroy = nullptr,
    .listen_add = nullptr,
    .listen_remove = nullptr,
    .run = nullptr,
    .stop = nullptr,
    .wake = nullptr,
    .send = s_send,
    .sendfile = s_sendfile,
    .recv_pause = s_recv_pause,
    .recv_resume = s_recv_resume,
    .close = s_close,
    .shutdown_write = s_shutdown_write,
    .conn_address = s_conn_address,
    .conn_option = s_conn_option,
    .timer_arm = nullptr,
    .connect = nullptr,
};

const axle_transport_vtable_t kTransport = {
    .struct_size = sizeof(axle_transport_vtable_t),
    .stream = &kStream,
    .conn_open = conn_open,
    .lower_data = lower_data,
    .lower_eof = lower_eof,
    .lower_sent = lower_sent,
    .lower_closed = lower_closed,
    .conn_info = conn_info,
    .describe = describe,
};

}  // namespace

AXLE_MODULE_ENTRY {
  static const axle_module_descriptor_t descriptor = {
      .struct_size = sizeof(axle_module_descriptor_t),
      .abi_major = AXLE_ABI_MAJOR,
      .abi_minor = AXLE_ABI_MINOR,
      .kind = AXLE_KIND_TRANSPORT,
      .flags = AXLE_MODULE_FLAG_NO_UNLOAD,
      .name = "openssl",
      .version = "1.0.0",
      .description = "TLS 1.2/1.3 on OpenSSL 3: SNI, ALPN, ticket resumption, kernel TLS sending where offered",
      .config_keys = axle::tls::kConfigKeys,
      .config_key_count = axle::tls::kConfigKeyCount,
      .create = create,
      .destroy = destroy,
      .thread_init = thread_init,
      .thread_fini = thread_fini,
      .vtable = &kTransport,
      .config_sections = axle::tls::kConfigSections,
      .config_section_count = axle::tls::kConfigSectionCount,
  };
  return &descriptor;
}
